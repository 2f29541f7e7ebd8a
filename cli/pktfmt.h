/* pktfmt.h - one packet as text (a tcpdump -n style line) or as a JSON object.
 *
 * Both formatters read a decoded packet (ns_pkt_t, and for JSON its field list) plus the frame
 * bytes the offsets refer to; neither decodes anything itself. The text path is the hot one
 * (`netscope print` to a pipe): it formats into a caller buffer without stdio or allocation.
 */
#ifndef NETSCOPE_PKTFMT_H
#define NETSCOPE_PKTFMT_H

#include <stddef.h>
#include <stdint.h>

#include "netscope/decode.h"

struct json_t;

/* Size a text buffer must have: any line is cut (with "...") to fit. */
#define NS_PKTFMT_LINE_MAX 2048

/* Format `pkt` (decoded from `frame`) as one line without the trailing newline into `buf`
 * (NS_PKTFMT_LINE_MAX bytes). Returns the line length. */
size_t ns_pktfmt_text(const ns_pkt_t *pkt, const uint8_t *frame, char *buf);

/* Build the JSON object for one packet: frame.* members, then every field of `fields` under
 * its display-filter name (repeated names become arrays), then "error" when a layer was
 * truncated or invalid. Returns a new reference owned by the caller, or NULL on ENOMEM. */
struct json_t *ns_pktfmt_json(const ns_pkt_t *pkt, const ns_fields_t *fields, uint64_t number);

/* Write an address as text (IPv4 dotted quad or RFC 5952 IPv6) into `out` (>= 46 bytes);
 * returns the length. */
size_t ns_pktfmt_addr(char *out, const ns_addr_t *a, unsigned ip_ver);

/* DNS RR type mnemonic ("A", "AAAA", ...) or NULL when we have none. */
const char *ns_pktfmt_dns_type(uint16_t type);

/* DNS rcode mnemonic ("NoError", "NXDomain", ...) or NULL. */
const char *ns_pktfmt_dns_rcode(uint16_t rcode);

/* DNS rcode as Zeek's dns.log rcode_name spells it ("NOERROR", "NXDOMAIN", ...: rcodes 0 to
 * 10) or NULL. */
const char *ns_pktfmt_dns_rcode_zeek(uint16_t rcode);

#endif /* NETSCOPE_PKTFMT_H */
