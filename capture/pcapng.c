/* pcapng.c - the pcapng reader behind the capture module (see pcapng.h).
 *
 * Spec: draft-ietf-opsawg-pcapng (PCAP Now Generic), sections 4.1 (SHB), 4.2 (IDB), 4.3
 * (EPB), 4.4 (SPB). Every block is type (4), total length (4), body, total length again; the
 * body is read into one buffer that grows up to PCAPNG_MAX_BLOCK, so a frame handed out points
 * into it until the next call.
 */
#include "pcapng.h"

#include <stdlib.h>
#include <string.h>

#define PCAPNG_SHB 0x0a0d0d0au
#define PCAPNG_IDB 0x00000001u
#define PCAPNG_SPB 0x00000003u
#define PCAPNG_EPB 0x00000006u
#define PCAPNG_MAGIC 0x1a2b3c4du
#define PCAPNG_MAX_BLOCK (16u << 20) /* as libpcap: larger is a corrupt file */
#define PCAPNG_MAX_IFACES 256u
#define OPT_END 0u
#define OPT_IF_TSRESOL 9u

typedef struct {
    uint32_t linktype;
    uint32_t snaplen;
    uint64_t units_per_s; /* timestamp units per second (if_tsresol; default 10^6) */
} iface_t;

struct ns_pcapng {
    FILE *fp;
    bool swap;      /* the section's byte order is not ours */
    bool cut_short; /* the last block was incomplete */
    uint8_t *buf;   /* the current block's body */
    uint32_t cap;
    iface_t ifaces[PCAPNG_MAX_IFACES];
    uint32_t n_ifaces;
    uint32_t first_linktype, first_snaplen;
    bool have_first;
    char err[256];
};

static uint32_t
rd32(const ns_pcapng_t *s, const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return s->swap ? __builtin_bswap32(v) : v;
}

static uint16_t
rd16(const ns_pcapng_t *s, const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return s->swap ? __builtin_bswap16(v) : v;
}

/* Read one block: its type and body (total length less the 12 bytes of framing). Returns 1,
 * 0 at a clean end of file, -1 on an error or a cut (err/cut_short set). */
static int
read_block(ns_pcapng_t *s, uint32_t *type, uint32_t *body_len)
{
    uint8_t hdr[8];
    size_t n = fread(hdr, 1, 8, s->fp);
    if (n == 0)
        return 0;
    if (n < 8) {
        s->cut_short = true;
        return -1;
    }
    uint32_t t;
    memcpy(&t, hdr, 4);
    if (t == PCAPNG_SHB) {
        /* A new section: its byte order is in the magic that follows the length. */
        uint8_t magic[4];
        if (fread(magic, 1, 4, s->fp) < 4) {
            s->cut_short = true;
            return -1;
        }
        uint32_t m;
        memcpy(&m, magic, 4);
        if (m == PCAPNG_MAGIC)
            s->swap = false;
        else if (__builtin_bswap32(m) == PCAPNG_MAGIC)
            s->swap = true;
        else {
            snprintf(s->err, sizeof(s->err), "pcapng section header with a bad byte-order magic");
            return -1;
        }
        s->n_ifaces = 0;
    } else {
        t = rd32(s, hdr);
    }
    uint32_t total = rd32(s, hdr + 4);
    if (total < 12 || total % 4 != 0 || total > PCAPNG_MAX_BLOCK || (t == PCAPNG_SHB && total < 28)) {
        snprintf(s->err, sizeof(s->err), "pcapng block of type %u has a bad length %u", t, total);
        return -1;
    }
    uint32_t body = total - 12;
    if (body > s->cap) {
        uint8_t *nb = realloc(s->buf, body);
        if (nb == NULL) {
            snprintf(s->err, sizeof(s->err), "out of memory for a pcapng block of %u bytes", total);
            return -1;
        }
        s->buf = nb;
        s->cap = body;
    }
    uint32_t skip = t == PCAPNG_SHB ? 4u : 0u; /* the magic was read already */
    if (t == PCAPNG_SHB)
        memcpy(s->buf, &(uint32_t){PCAPNG_MAGIC}, 4);
    uint8_t trailer[4];
    if (fread(s->buf + skip, 1, body - skip, s->fp) < body - skip ||
        fread(trailer, 1, 4, s->fp) < 4) {
        s->cut_short = true;
        return -1;
    }
    if (rd32(s, trailer) != total) {
        snprintf(s->err, sizeof(s->err), "pcapng block lengths disagree (%u and %u)", total,
                 rd32(s, trailer));
        return -1;
    }
    *type = t;
    *body_len = body;
    return 1;
}

/* if_tsresol: bit 7 clear, 10^-v seconds; set, 2^-v. Units beyond 10^-9 / 2^-30 are kept
 * as they are but converted with their own divisor. */
static uint64_t
tsresol_units(uint8_t v)
{
    uint32_t e = v & 0x7fu;
    if (v & 0x80u)
        return e < 63 ? 1ull << e : 1ull << 62;
    uint64_t u = 1;
    for (uint32_t i = 0; i < e && i < 19; i++)
        u *= 10;
    return u;
}

static int
add_iface(ns_pcapng_t *s, const uint8_t *b, uint32_t len)
{
    if (len < 8) {
        snprintf(s->err, sizeof(s->err), "pcapng interface block too short");
        return -1;
    }
    if (s->n_ifaces >= PCAPNG_MAX_IFACES) {
        snprintf(s->err, sizeof(s->err), "more than %u interfaces in a pcapng section",
                 PCAPNG_MAX_IFACES);
        return -1;
    }
    iface_t *i = &s->ifaces[s->n_ifaces++];
    i->linktype = rd16(s, b);
    i->snaplen = rd32(s, b + 4);
    i->units_per_s = 1000000u;
    /* Options: code (2), length (2), value padded to 4; bounded by the block. */
    uint32_t off = 8;
    while (off + 4 <= len) {
        uint16_t code = rd16(s, b + off), olen = rd16(s, b + off + 2);
        if (code == OPT_END || olen > len - off - 4)
            break;
        if (code == OPT_IF_TSRESOL && olen >= 1)
            i->units_per_s = tsresol_units(b[off + 4]);
        off += 4 + ((olen + 3u) & ~3u);
    }
    if (!s->have_first) {
        s->have_first = true;
        s->first_linktype = i->linktype;
        s->first_snaplen = i->snaplen;
    }
    return 0;
}

static uint64_t
to_ns(uint64_t t, uint64_t units)
{
    if (units == 1000000000u)
        return t;
    uint64_t sec = t / units, frac = t % units;
    if (units < 1000000000u && 1000000000u % units == 0)
        return sec * 1000000000u + frac * (1000000000u / units);
    return sec * 1000000000u + (uint64_t)((double)frac * 1e9 / (double)units);
}

ns_pcapng_t *
ns_pcapng_open(FILE *fp, char *errbuf, size_t errlen)
{
    ns_pcapng_t *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    s->fp = fp;
    uint32_t type = 0, len = 0;
    if (read_block(s, &type, &len) != 1 || type != PCAPNG_SHB) {
        snprintf(errbuf, errlen, "not a pcapng file (%s)",
                 s->err[0] ? s->err : "no section header block");
        s->fp = NULL; /* the caller still owns it */
        ns_pcapng_destroy(&s);
        return NULL;
    }
    /* Read up to the first interface, so that the capture's link type is known before the
     * first packet (packets cannot come before their interface). */
    for (;;) {
        int rc = read_block(s, &type, &len);
        if (rc == 0 || (rc < 0 && s->cut_short))
            break; /* no interface: an empty capture */
        if (rc < 0 || type == PCAPNG_EPB || type == PCAPNG_SPB ||
            (type == PCAPNG_IDB && add_iface(s, s->buf, len) < 0)) {
            snprintf(errbuf, errlen, "bad pcapng file (%s)",
                     s->err[0] ? s->err : "a packet before any interface");
            s->fp = NULL;
            ns_pcapng_destroy(&s);
            return NULL;
        }
        if (type == PCAPNG_IDB)
            break;
    }
    return s;
}

void
ns_pcapng_destroy(ns_pcapng_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    ns_pcapng_t *s = *self_p;
    if (s->fp != NULL && s->fp != stdin)
        fclose(s->fp);
    free(s->buf);
    free(s);
    *self_p = NULL;
}

int
ns_pcapng_next(ns_pcapng_t *s, ns_frame_t *frame)
{
    for (;;) {
        uint32_t type, len;
        int rc = read_block(s, &type, &len);
        if (rc == 0 || (rc < 0 && s->cut_short))
            return NS_CAPTURE_END;
        if (rc < 0)
            return NS_CAPTURE_ERROR;
        const uint8_t *b = s->buf;
        if (type == PCAPNG_IDB) {
            if (add_iface(s, b, len) < 0)
                return NS_CAPTURE_ERROR;
            continue;
        }
        if (type != PCAPNG_EPB && type != PCAPNG_SPB)
            continue;
        uint32_t id = 0, caplen, origlen, hdr;
        uint64_t ts = 0;
        if (type == PCAPNG_EPB) {
            if (len < 20)
                goto bad;
            id = rd32(s, b);
            ts = (uint64_t)rd32(s, b + 4) << 32 | rd32(s, b + 8);
            caplen = rd32(s, b + 12);
            origlen = rd32(s, b + 16);
            hdr = 20;
        } else {
            if (len < 4)
                goto bad;
            origlen = rd32(s, b);
            hdr = 4;
            caplen = origlen;
        }
        if (id >= s->n_ifaces) {
            snprintf(s->err, sizeof(s->err), "pcapng packet of interface %u, which is not described",
                     id);
            return NS_CAPTURE_ERROR;
        }
        const iface_t *i = &s->ifaces[id];
        if (type == PCAPNG_SPB) {
            /* 4.4: the captured length is the smaller of the original length, the interface's
             * snapshot length and what the block holds. */
            if (i->snaplen != 0 && caplen > i->snaplen)
                caplen = i->snaplen;
            if (caplen > len - hdr)
                caplen = len - hdr;
        }
        if (caplen > len - hdr)
            goto bad;
        frame->data = b + hdr;
        frame->cap_len = caplen;
        frame->wire_len = origlen < caplen ? caplen : origlen;
        frame->ts_ns = to_ns(ts, i->units_per_s);
        frame->linktype = i->linktype;
        return NS_CAPTURE_FRAME;
    bad:
        snprintf(s->err, sizeof(s->err), "pcapng packet block of %u bytes is inconsistent", len);
        return NS_CAPTURE_ERROR;
    }
}

const char *
ns_pcapng_error(const ns_pcapng_t *self)
{
    return self->err;
}

bool
ns_pcapng_cut_short(const ns_pcapng_t *self)
{
    return self->cut_short;
}

uint32_t
ns_pcapng_linktype(const ns_pcapng_t *self)
{
    return self->first_linktype;
}

uint32_t
ns_pcapng_snaplen(const ns_pcapng_t *self)
{
    return self->first_snaplen;
}
