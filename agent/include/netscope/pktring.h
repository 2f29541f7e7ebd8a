/* pktring.h - the agent's bounded ring of recent raw frames, searchable by flow.
 *
 * Every captured frame is copied in (with its time, lengths, interface and link type, and a
 * 32-bit tag of its flow); when the ring is full the oldest frames make room. The collector
 * asks for the packets of a flow (GetPackets: flow, time range, maximum count) for the packet
 * inspector and for alert evidence; ns_pktring_find() walks the frames oldest first, skips
 * those whose tag differs, and lets the caller's callback decide on the rest (the agent
 * decodes them and compares the full key, so a tag collision never returns a wrong frame).
 * ns_pktring_each() walks every frame (a capture filter's dry run over the whole ring).
 *
 * Design: one byte buffer allocated at creation; records are a 24-byte header and the frame
 * bytes rounded up to 8, never split across the end (a gap is skipped instead). A frame
 * longer than a quarter of the ring is stored cut to that (its wire length is kept). Adding
 * never allocates. Not thread-safe: the capture thread owns it.
 */
#ifndef NETSCOPE_PKTRING_H
#define NETSCOPE_PKTRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NS_PKTRING_MIN_BYTES 4096u

typedef struct ns_pktring ns_pktring_t;

/* One stored frame, as the search hands it out; `data` is valid during the callback only. */
typedef struct {
    uint64_t ts_ns;
    uint32_t wire_len;
    uint32_t cap_len; /* bytes at data (may be less than captured: see above) */
    uint32_t tag;
    uint16_t linktype;
    uint8_t iface;
    const uint8_t *data;
} ns_pktring_frame_t;

typedef struct {
    uint64_t frames;      /* added since creation */
    uint64_t overwritten; /* frames that made room for newer ones */
    uint64_t cut;         /* frames stored shorter than captured */
    uint32_t held;        /* frames in the ring now */
    size_t bytes;         /* ring size */
} ns_pktring_stats_t;

/* A ring of `bytes` (at least NS_PKTRING_MIN_BYTES; rounded down to a multiple of 8), or NULL
 * when out of memory or too small. Owned by the caller. */
ns_pktring_t *ns_pktring_new(size_t bytes);
void ns_pktring_destroy(ns_pktring_t **self_p);

/* Store a frame (cap_len bytes at data), evicting the oldest frames as needed. */
void ns_pktring_add(ns_pktring_t *self, uint8_t iface, uint16_t linktype, uint64_t ts_ns,
                    uint32_t wire_len, const uint8_t *data, uint32_t cap_len, uint32_t tag);

/* Called for each frame with the tag asked for inside the time range, oldest first; returns
 * true when the frame is one of those wanted. With `take` the frame counts towards `max`
 * (the caller keeps it); without, the search only asks whether one more would match. */
typedef bool (*ns_pktring_match_fn)(void *ud, const ns_pktring_frame_t *frame, bool take);

/* Walk the frames tagged `tag` with from_ns <= ts_ns <= to_ns (to_ns 0: no upper bound),
 * oldest first, until `max` were matched. Returns how many matched; *more is set when at
 * least one more frame would have matched. */
uint32_t ns_pktring_find(const ns_pktring_t *self, uint32_t tag, uint64_t from_ns, uint64_t to_ns,
                         uint32_t max, ns_pktring_match_fn match, void *ud, bool *more);

/* Called for every frame of the ring, oldest first; returns false to stop the walk. */
typedef bool (*ns_pktring_each_fn)(void *ud, const ns_pktring_frame_t *frame);

/* Walk every frame held (any tag), oldest first, until `fn` returns false. Returns how many
 * frames `fn` was called for. The ring must not change during the walk (the capture thread
 * owns it). */
uint32_t ns_pktring_each(const ns_pktring_t *self, ns_pktring_each_fn fn, void *ud);

void ns_pktring_stats(const ns_pktring_t *self, ns_pktring_stats_t *out);

#endif /* NETSCOPE_PKTRING_H */
