/* fields.c - appending to a protocol tree (the out-of-line half of fields.h).
 *
 * Kept out of the decoders' bodies on purpose: on the fast path the list is NULL and the
 * inline wrappers in fields.h never call in here, so the decoders' hot code stays small.
 */
#include "netscope/fields.h"

ns_field_t *
ns_field_push(ns_fields_t *f, const char *name, uint32_t off, uint32_t len, ns_ftype_t type,
              uint64_t u)
{
    if (f->n >= f->cap) {
        f->truncated = true;
        return NULL;
    }
    ns_field_t *x = &f->v[f->n++];
    x->name = name;
    x->off = off;
    x->len = len;
    x->depth = f->depth;
    x->type = (uint8_t)type;
    x->str_len = 0;
    x->u = u;
    x->str = NULL;
    return x;
}

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
