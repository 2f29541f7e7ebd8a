/* timeparse.h - times and addresses as users type them on command lines and in query strings.
 *
 * Pure functions, no locale, no time zone database: `now` is passed in.
 */
#ifndef NETSCOPE_TIMEPARSE_H
#define NETSCOPE_TIMEPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netscope/pkt.h"

/* Parse `s` into ns since 1970 (UTC):
 *   "now";
 *   unix seconds, with up to 9 decimals ("1764930000", "1764930000.25");
 *   RFC 3339 "2026-12-05T10:00:00Z", with optional fraction and a "+hh:mm"/"-hh:mm" offset
 *     (a space for the 'T' is accepted; a zone is required);
 *   relative to `now_ns`: "-90s", "-15m", "-2h", "-7d", "-1w".
 * Times before 1970 or after 2262 (uint64 ns) are refused. Returns false with a sentence in
 * errbuf. */
bool ns_time_parse(const char *s, uint64_t now_ns, uint64_t *out, char *errbuf, size_t errlen);

/* Parse an IPv4 or IPv6 address literal (never a name: nothing is resolved). IPv4 fills the
 * first 4 bytes of *out (the rest zero) and sets *ver to 4; IPv6 all 16 and 6. */
bool ns_addr_parse(const char *s, ns_addr_t *out, uint8_t *ver);

#endif /* NETSCOPE_TIMEPARSE_H */
