/* sll.c - PLACEHOLDER until the decoder lands. */
#include "decode_int.h"
ns_parse_rc_t
ns_decode_sll(ns_cur_t *c, ns_dec_t *d)
{
    (void)c;
    (void)d;
    return NS_PARSE_UNSUPPORTED;
}
ns_parse_rc_t
ns_decode_sll2(ns_cur_t *c, ns_dec_t *d)
{
    (void)c;
    (void)d;
    return NS_PARSE_UNSUPPORTED;
}
