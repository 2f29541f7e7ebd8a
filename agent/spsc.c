/* spsc.c - the lock-free single-producer single-consumer pointer queue (see spsc.h). */
#include "netscope/spsc.h"

#include <stdlib.h>

#define CACHE_LINE 64

struct ns_spsc {
    _Alignas(CACHE_LINE) _Atomic uint64_t head; /* next slot to read (consumer writes) */
    _Alignas(CACHE_LINE) _Atomic uint64_t tail; /* next slot to write (producer writes) */
    _Alignas(CACHE_LINE) uint64_t mask;
    void **slots;
};

ns_spsc_t *
ns_spsc_new(uint32_t capacity)
{
    if (capacity < 2 || capacity > (1u << 20))
        return NULL;
    uint64_t cap = 2;
    while (cap < capacity)
        cap <<= 1;
    ns_spsc_t *q = aligned_alloc(CACHE_LINE, sizeof(*q));
    if (q == NULL)
        return NULL;
    q->slots = calloc(cap, sizeof(*q->slots));
    if (q->slots == NULL) {
        free(q);
        return NULL;
    }
    atomic_init(&q->head, 0);
    atomic_init(&q->tail, 0);
    q->mask = cap - 1;
    return q;
}

void
ns_spsc_destroy(ns_spsc_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    free((*self_p)->slots);
    free(*self_p);
    *self_p = NULL;
}

bool
ns_spsc_push(ns_spsc_t *self, void *p)
{
    uint64_t tail = atomic_load_explicit(&self->tail, memory_order_relaxed);
    uint64_t head = atomic_load_explicit(&self->head, memory_order_acquire);
    if (tail - head > self->mask)
        return false;
    self->slots[tail & self->mask] = p;
    /* release: the slot is written before the consumer can see the new tail */
    atomic_store_explicit(&self->tail, tail + 1, memory_order_release);
    return true;
}

void *
ns_spsc_pop(ns_spsc_t *self)
{
    uint64_t head = atomic_load_explicit(&self->head, memory_order_relaxed);
    uint64_t tail = atomic_load_explicit(&self->tail, memory_order_acquire);
    if (head == tail)
        return NULL;
    void *p = self->slots[head & self->mask];
    /* release: the slot is read before the producer may reuse it */
    atomic_store_explicit(&self->head, head + 1, memory_order_release);
    return p;
}

uint32_t
ns_spsc_count(const ns_spsc_t *self)
{
    uint64_t tail = atomic_load_explicit(&self->tail, memory_order_acquire);
    uint64_t head = atomic_load_explicit(&self->head, memory_order_acquire);
    return (uint32_t)(tail - head);
}
