/* dns.c - PLACEHOLDER until the decoder lands. */
#include "decode_int.h"
ns_parse_rc_t
ns_decode_dns(ns_cur_t *c, ns_dec_t *d)
{
    (void)c;
    (void)d;
    return NS_PARSE_UNSUPPORTED;
}
ns_parse_rc_t
ns_decode_dns_tcp(ns_cur_t *c, ns_dec_t *d)
{
    (void)c;
    (void)d;
    return NS_PARSE_UNSUPPORTED;
}
ns_parse_rc_t
ns_dns_parse(ns_cur_t *c, ns_dns_t *out, ns_fields_t *fields)
{
    (void)c;
    (void)out;
    (void)fields;
    return NS_PARSE_UNSUPPORTED;
}
