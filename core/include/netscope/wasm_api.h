/* wasm_api.h - the decoder's interface to JavaScript (netscope_decode.wasm).
 *
 * The browser's packet inspector loads build/<preset>/core/netscope_decode.wasm and talks to it
 * only through the functions below: plain integers and offsets into the module's `memory`, so
 * JavaScript never copies a C struct layout. The module owns every buffer; nothing is allocated.
 *
 * Use, from JavaScript (`ex` = instance.exports, `mem` = new Uint8Array(ex.memory.buffer),
 * re-created after any call, since memory may grow):
 *
 *     const p = ex.ns_wasm_buf(frame.length);          // 0 when the frame is too big
 *     mem.set(frame, p);
 *     const n = ex.ns_wasm_decode(linktype, frame.length, wireLen);   // < 0: bad call
 *     for (let i = 0; i < n; i++) {
 *         name  = cstring(ex.ns_wasm_field_name(i));   // e.g. "ip.src"
 *         off   = ex.ns_wasm_field_off(i);  len = ex.ns_wasm_field_len(i);
 *         depth = ex.ns_wasm_field_depth(i);
 *         tlen  = ex.ns_wasm_field_text(i);            // value, at ns_wasm_text()
 *         text  = ascii(ex.ns_wasm_text(), tlen);
 *     }
 *     ex.ns_wasm_outcome_name(ex.ns_wasm_outcome()), ex.ns_wasm_layer_name(ex.ns_wasm_err_layer())
 *
 * Strings returned as pointers are NUL-terminated ASCII in module memory. The field list is the
 * one `netscope print --json` prints (the decoders' ns_fields_t, same capacities), and values are
 * written by ns_field_text() (fields.h), the formatter the native reference also uses.
 *
 * The same file builds natively (it is in libnetscope_decode), which is how the unit tests run
 * it under ASan.
 *
 * Caveats:
 * - One decoder state per module instance: decoding a frame replaces the previous frame's
 *   fields, and ns_wasm_field_text() reuses one text buffer. Not for threads (a Web Worker
 *   gets its own instance).
 * - A field's off/len index the frame as written into ns_wasm_buf(); they lie inside the
 *   captured bytes.
 */
#ifndef NETSCOPE_WASM_API_H
#define NETSCOPE_WASM_API_H

#include <stdint.h>

#include "netscope/fields.h"

/* Bumped whenever a function below changes meaning. */
#define NS_WASM_ABI_VERSION 1

/* Capacities: the largest frame (libpcap's maximum snapshot length), the fields of one frame
 * and the decoded-text arena (DNS names), as `netscope print --json` has them. */
#define NS_WASM_FRAME_MAX 262144u
#define NS_WASM_FIELDS_MAX NS_FIELDS_VIEW_MAX
#define NS_WASM_ARENA_MAX NS_FIELDS_VIEW_ARENA

/* NS_WASM_ABI_VERSION. */
uint32_t ns_wasm_abi_version(void);

/* ---------------------------------------------------------------- frame in */

/* The frame buffer, for the caller to write up to `size` bytes into before ns_wasm_decode().
 * Returns its address in module memory (the same every time), or 0 (NULL) when `size` exceeds
 * ns_wasm_buf_cap(). */
uint8_t *ns_wasm_buf(uint32_t size);

/* NS_WASM_FRAME_MAX: the most bytes ns_wasm_buf() holds. */
uint32_t ns_wasm_buf_cap(void);

/* Decode the first `cap_len` bytes of the frame buffer as a frame of link type `linktype`
 * (LINKTYPE_* from the capture file, decode.h) that was `wire_len` bytes on the wire. Returns
 * the number of fields in the list (0 or more), or -1 when cap_len > ns_wasm_buf_cap() (nothing
 * is decoded and the previous list is cleared). An unknown link type is not an error: 0 fields
 * and the outcome "unsupported". */
int32_t ns_wasm_decode(uint32_t linktype, uint32_t cap_len, uint32_t wire_len);

/* The last decode's outcome (ns_parse_rc_t: 0 ok, 1 truncated, 2 invalid, 3 unsupported) and
 * the layer it belongs to (ns_layer_t; meaningless when the outcome is ok). */
uint32_t ns_wasm_outcome(void);
uint32_t ns_wasm_err_layer(void);

/* 1 when the last frame had more fields or decoded text than the list holds (the rest were
 * dropped), else 0. */
uint32_t ns_wasm_fields_truncated(void);

/* ---------------------------------------------------------------- the field list */

/* The number of fields of the last decode (what ns_wasm_decode returned, 0 after -1). */
uint32_t ns_wasm_field_count(void);

/* Field `i` (0 <= i < count; any other `i` gives 0, i.e. NULL for the name): its display-filter
 * name ("eth", "ip.src", ...; static), the offset and length of the bytes it covers in the frame,
 * its depth in the tree (0 for top-level protocol nodes, which the fields after them at greater
 * depth belong to) and its type (ns_ftype_t, fields.h: 0 is a protocol node). */
const char *ns_wasm_field_name(uint32_t i);
uint32_t ns_wasm_field_off(uint32_t i);
uint32_t ns_wasm_field_len(uint32_t i);
uint32_t ns_wasm_field_depth(uint32_t i);
uint32_t ns_wasm_field_type(uint32_t i);

/* Write field `i`'s value as text (ns_field_text(): printable ASCII, "" for protocol nodes and
 * for an `i` out of range) into the text buffer and return its length. The text stays at
 * ns_wasm_text() until the next call, NUL-terminated, at most ns_wasm_text_cap() - 1 bytes. */
uint32_t ns_wasm_field_text(uint32_t i);
const char *ns_wasm_text(void);
uint32_t ns_wasm_text_cap(void); /* NS_FIELD_TEXT_MAX */

/* ---------------------------------------------------------------- names */

/* Short lower-case names, static and NUL-terminated: outcomes "ok", "truncated", "invalid",
 * "unsupported" ("?" past the end); layers "eth", "ip", "tcp", ... ("frame" past the end);
 * field types "proto", "uint", "int", "bool", "hex", "mac", "ipv4", "ipv6", "bytes", "str"
 * ("?" past the end). The counts bound the valid numbers. */
const char *ns_wasm_outcome_name(uint32_t rc);
const char *ns_wasm_layer_name(uint32_t layer);
const char *ns_wasm_type_name(uint32_t type);
uint32_t ns_wasm_outcome_count(void);
uint32_t ns_wasm_layer_count(void);
uint32_t ns_wasm_type_count(void);

#endif /* NETSCOPE_WASM_API_H */
