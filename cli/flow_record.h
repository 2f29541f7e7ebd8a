/* flow_record.h - one flow as a conn.log-style JSON Lines record, or as a CSV line.
 *
 * Design: records are written straight into a caller's buffer (no JSON object tree per
 * record: at a million flows building and freeing those was most of the run time). Integers
 * are formatted by hand; reals as "%.16g" the way jansson prints them (a ".0" is added to
 * integral values, exponents lose their '+' and leading zeros), so the output is byte for
 * byte what the jansson version wrote. Strings are escaped for JSON (quote, backslash and
 * control characters) and quoted for CSV when needed. The JSON members are in a fixed order;
 * CSV writes the same members under a fixed header (ns_flow_record_csv_header), so both
 * formats always carry the same values. README.md (netscope flows) documents every field.
 */
#ifndef NETSCOPE_FLOW_RECORD_H
#define NETSCOPE_FLOW_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "netscope/flow_rec.h"

/* A growable output buffer, reused from record to record (it grows only for records larger
 * than any before, so steady state does not allocate). */
typedef struct {
    char *buf;
    size_t len, cap;
    int oom; /* set when growing failed: the record is incomplete */
} ns_flow_record_buf_t;

/* Free the buffer's memory (the struct itself is the caller's). */
void ns_flow_record_buf_fini(ns_flow_record_buf_t *b);

/* Members some writers add after the record's own (NULL: absent). JSON only. */
typedef struct {
    const char *agent; /* the agent that observed the flow (collector) */
    const char *iface; /* the interface it was captured on */
    uint64_t received_ns; /* when the collector received it (0: absent) */
} ns_flow_record_extra_t;

/* Append record `r` to `b` as one line ending in '\n': a JSON object when `csv` is 0 (with
 * the "http"/"dns" arrays of the transactions it carries when `with_app`), else a CSV line
 * under ns_flow_record_csv_header(). A final or interim record ends with "end_reason", a live
 * update with "record": "update" instead. `extra` may be NULL. Returns 0, or -1 when out of
 * memory. */
int ns_flow_record_write(ns_flow_record_buf_t *b, const ns_flow_rec_t *r,
                         const ns_flow_record_extra_t *extra, int csv, int with_app);

/* Write the CSV header line. */
void ns_flow_record_csv_header(FILE *out);

#endif /* NETSCOPE_FLOW_RECORD_H */
