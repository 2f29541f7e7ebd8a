/* fields.c - opening and closing protocol nodes (the out-of-line half of fields.h).
 *
 * Kept out of the decoders' bodies on purpose: every decoder opens and closes a node, and on
 * the fast path (no list) the inline wrappers in fields.h never call in here.
 */
#include "netscope/fields.h"

int32_t
ns_field_open_node(ns_fields_t *f, const char *name, uint32_t off)
{
    ns_field_t *x = ns_field_push(f, name, off, 0, NS_FT_PROTO, 0);
    if (f->depth < 255)
        f->depth++;
    return x ? (int32_t)(x - f->v) : -1;
}

void
ns_field_close_node(ns_fields_t *f, int32_t idx, uint32_t end_off)
{
    if (f->depth > 0)
        f->depth--;
    if (idx >= 0 && (uint32_t)idx < f->n && end_off >= f->v[idx].off)
        f->v[idx].len = end_off - f->v[idx].off;
}
