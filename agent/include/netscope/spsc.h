/* spsc.h - a single-producer single-consumer queue of pointers, without locks.
 *
 * The agent's capture thread hands work to its exporter thread (and back) through these:
 * the producer never waits for the consumer (a full queue says so and the producer keeps
 * its data for the next try), neither thread takes a lock, and each slot is written by one
 * thread and read by the other, ordered by C11 release/acquire on the two indexes.
 *
 * Design: a power-of-two ring of `void *` sized at creation; head and tail are free-running
 * 64-bit counters on separate cache lines, so full and empty need no spare slot.
 */
#ifndef NETSCOPE_SPSC_H
#define NETSCOPE_SPSC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ns_spsc ns_spsc_t;

/* A queue for `capacity` pointers (rounded up to a power of two, 2 .. 2^20), or NULL when out
 * of memory or out of range. Owned by the caller; ns_spsc_destroy() frees it (not what the
 * pointers in it point to). */
ns_spsc_t *ns_spsc_new(uint32_t capacity);
void ns_spsc_destroy(ns_spsc_t **self_p);

/* Producer: append `p` (not NULL). False when the queue is full (nothing changed). */
bool ns_spsc_push(ns_spsc_t *self, void *p);

/* Consumer: the oldest pointer, removed, or NULL when the queue is empty. */
void *ns_spsc_pop(ns_spsc_t *self);

/* Pointers in the queue now (a snapshot; either thread). */
uint32_t ns_spsc_count(const ns_spsc_t *self);

#endif /* NETSCOPE_SPSC_H */
