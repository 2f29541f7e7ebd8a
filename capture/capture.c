/* capture.c - libpcap behind ns_capture_*: live interfaces, capture files, BPF, pcap writing.
 *
 * Live captures use pcap_create/pcap_activate so the ring size and a bounded poll timeout
 * can be set (libpcap picks TPACKET_V3 on Linux); files are opened with nanosecond timestamp
 * precision so pcapng and nanosecond pcap keep their resolution. Errors become sentences a user
 * can act on: pcap's own message, plus what to do about the common ones.
 */
#include "netscope/capture.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_DEFAULT_SNAPLEN 262144
#define NS_DEFAULT_TIMEOUT_MS 100

struct ns_capture {
    pcap_t *pcap;
    bool live;
    bool nano;              /* timestamps come in nanoseconds (else microseconds) */
    uint32_t last_recv, last_drop, last_ifdrop; /* libpcap's 32-bit counters, last read */
    ns_capture_counters_t acc;                  /* ... carried into 64 bits */
    volatile sig_atomic_t stop;
    bool cut_short;
    char err[PCAP_ERRBUF_SIZE + 128];
};

struct ns_dumper {
    pcap_dumper_t *dump;
    pcap_t *dead;
};

static void set_err(char *errbuf, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_err(char *errbuf, size_t errlen, const char *fmt, ...)
{
    if (errbuf == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, errlen, fmt, ap);
    va_end(ap);
}

static bool
compile_filter(pcap_t *p, const char *filter, char *errbuf, size_t errlen)
{
    struct bpf_program prog;
    if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        set_err(errbuf, errlen, "bad filter '%s': %s", filter, pcap_geterr(p));
        return false;
    }
    int rc = pcap_setfilter(p, &prog);
    pcap_freecode(&prog);
    if (rc != 0) {
        set_err(errbuf, errlen, "cannot install filter '%s': %s", filter, pcap_geterr(p));
        return false;
    }
    return true;
}

/* Install `filter` when there is one (a new capture has none). */
static bool
apply_filter(pcap_t *p, const char *filter, char *errbuf, size_t errlen)
{
    return filter == NULL || filter[0] == '\0' || compile_filter(p, filter, errbuf, errlen);
}

static pcap_t *
open_file(const char *path, char *errbuf, size_t errlen)
{
    char perr[PCAP_ERRBUF_SIZE];
    perr[0] = '\0';
    FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (fp == NULL) {
        set_err(errbuf, errlen, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    pcap_t *p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, perr);
    if (p == NULL) {
        if (fp != stdin)
            fclose(fp);
        set_err(errbuf, errlen, "%s is not a pcap or pcapng capture file (%s)", path, perr);
    }
    return p;
}

static pcap_t *
open_live(const ns_capture_opts_t *o, bool *nano, char *errbuf, size_t errlen)
{
    char perr[PCAP_ERRBUF_SIZE];
    perr[0] = '\0';
    pcap_t *p = pcap_create(o->iface, perr);
    if (p == NULL) {
        set_err(errbuf, errlen, "cannot open interface %s: %s", o->iface, perr);
        return NULL;
    }
    pcap_set_snaplen(p, o->snaplen > 0 ? o->snaplen : NS_DEFAULT_SNAPLEN);
    pcap_set_promisc(p, o->promisc ? 1 : 0);
    pcap_set_timeout(p, o->timeout_ms > 0 ? o->timeout_ms : NS_DEFAULT_TIMEOUT_MS);
    if (o->buffer_mb > 0) {
        /* pcap_set_buffer_size() takes an int of bytes */
        if (o->buffer_mb > NS_CAPTURE_MAX_BUFFER_MB) {
            set_err(errbuf, errlen, "capture buffer of %d MB is too large (at most %d MB)",
                    o->buffer_mb, NS_CAPTURE_MAX_BUFFER_MB);
            pcap_close(p);
            return NULL;
        }
        pcap_set_buffer_size(p, o->buffer_mb * 1024 * 1024);
    }
    /* A device that cannot stamp in nanoseconds keeps microseconds: remember which, so they
     * are never read as nanoseconds. */
    *nano = pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO) == 0;
    int rc = pcap_activate(p);
    if (rc < 0) {
        const char *why = pcap_geterr(p);
        switch (rc) {
        case PCAP_ERROR_NO_SUCH_DEVICE:
            set_err(errbuf, errlen, "no such interface: %s (%s); 'ip link' lists them",
                    o->iface, why);
            break;
        case PCAP_ERROR_PERM_DENIED:
            set_err(errbuf, errlen,
                    "no permission to capture on %s (%s); run as root or grant CAP_NET_RAW",
                    o->iface, why);
            break;
        case PCAP_ERROR_IFACE_NOT_UP:
            set_err(errbuf, errlen, "interface %s is down (%s)", o->iface, why);
            break;
        default:
            set_err(errbuf, errlen, "cannot capture on %s: %s", o->iface, why);
            break;
        }
        pcap_close(p);
        return NULL;
    }
    return p;
}

ns_capture_t *
ns_capture_open(const ns_capture_opts_t *opts, char *errbuf, size_t errlen)
{
    if ((opts->file == NULL) == (opts->iface == NULL)) {
        set_err(errbuf, errlen, "give either a capture file or an interface");
        return NULL;
    }
    ns_capture_t *self = calloc(1, sizeof(*self));
    if (self == NULL) {
        set_err(errbuf, errlen, "out of memory");
        return NULL;
    }
    self->live = opts->iface != NULL;
    self->nano = true; /* files are opened with nanosecond precision, libpcap scales */
    self->pcap = self->live ? open_live(opts, &self->nano, errbuf, errlen)
                            : open_file(opts->file, errbuf, errlen);
    if (self->live && self->pcap && !self->nano)
        self->nano = pcap_get_tstamp_precision(self->pcap) == PCAP_TSTAMP_PRECISION_NANO;
    if (self->pcap == NULL || !apply_filter(self->pcap, opts->filter, errbuf, errlen)) {
        ns_capture_destroy(&self);
        return NULL;
    }
    return self;
}

void
ns_capture_destroy(ns_capture_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    ns_capture_t *self = *self_p;
    if (self->pcap)
        pcap_close(self->pcap);
    free(self);
    *self_p = NULL;
}

int
ns_capture_next(ns_capture_t *self, ns_frame_t *frame)
{
    if (self->stop)
        return NS_CAPTURE_END;
    struct pcap_pkthdr *hdr;
    const u_char *data;
    int rc = pcap_next_ex(self->pcap, &hdr, &data);
    if (rc == 1) {
        frame->data = data;
        frame->cap_len = hdr->caplen;
        frame->wire_len = hdr->len < hdr->caplen ? hdr->caplen : hdr->len;
        frame->ts_ns = ns_capture_ts_ns((int64_t)hdr->ts.tv_sec, (int64_t)hdr->ts.tv_usec,
                                        self->nano);
        return NS_CAPTURE_FRAME;
    }
    if (rc == 0)
        return self->stop ? NS_CAPTURE_END : NS_CAPTURE_AGAIN;
    if (rc == PCAP_ERROR_BREAK)
        return NS_CAPTURE_END;
    snprintf(self->err, sizeof(self->err), "%s", pcap_geterr(self->pcap));
    /* A file whose last record is incomplete (a copy cut short, a capture still being
     * written): everything before it was read, so end there and let the caller warn. */
    if (!self->live && strstr(self->err, "truncated dump file") != NULL) {
        self->cut_short = true;
        return NS_CAPTURE_END;
    }
    return NS_CAPTURE_ERROR;
}

uint32_t
ns_capture_linktype(const ns_capture_t *self)
{
    /* pcap_datalink() gives DLT_ values; files store LINKTYPE_ values. Map back so the
     * decoder sees one numbering (they differ for DLT_RAW and a few others). */
    int dlt = pcap_datalink(self->pcap);
    switch (dlt) {
    case DLT_RAW:
        return 101;
    default:
        return (uint32_t)dlt;
    }
}

int
ns_capture_snaplen(const ns_capture_t *self)
{
    return pcap_snapshot(self->pcap);
}

void
ns_capture_break(ns_capture_t *self)
{
    self->stop = 1;
    pcap_breakloop(self->pcap);
}

const char *
ns_capture_error(const ns_capture_t *self)
{
    return self->err;
}

const char *
ns_capture_warning(const ns_capture_t *self)
{
    return self->cut_short ? self->err : NULL;
}

bool
ns_capture_stats(ns_capture_t *self, uint64_t *received, uint64_t *dropped)
{
    struct pcap_stat st;
    if (!self->live || pcap_stats(self->pcap, &st) != 0)
        return false;
    *received = st.ps_recv;
    *dropped = (uint64_t)st.ps_drop + st.ps_ifdrop;
    return true;
}

bool
ns_capture_counters(ns_capture_t *self, ns_capture_counters_t *out)
{
    struct pcap_stat st;
    if (!self->live || pcap_stats(self->pcap, &st) != 0)
        return false;
    /* unsigned differences are right across one wrap */
    self->acc.received += (uint32_t)(st.ps_recv - self->last_recv);
    self->acc.kernel_drops += (uint32_t)(st.ps_drop - self->last_drop);
    self->acc.if_drops += (uint32_t)(st.ps_ifdrop - self->last_ifdrop);
    self->last_recv = st.ps_recv;
    self->last_drop = st.ps_drop;
    self->last_ifdrop = st.ps_ifdrop;
    *out = self->acc;
    return true;
}

int
ns_capture_fd(const ns_capture_t *self)
{
    return self->live ? pcap_get_selectable_fd(self->pcap) : -1;
}

bool
ns_capture_set_nonblock(ns_capture_t *self, char *errbuf, size_t errlen)
{
    char perr[PCAP_ERRBUF_SIZE];
    if (pcap_setnonblock(self->pcap, 1, perr) != 0) {
        set_err(errbuf, errlen, "cannot make the capture non-blocking: %s", perr);
        return false;
    }
    return true;
}

bool
ns_capture_set_filter(ns_capture_t *self, const char *filter, char *errbuf, size_t errlen)
{
    /* "" compiles to a program that accepts every packet: it replaces the old filter */
    return compile_filter(self->pcap, filter ? filter : "", errbuf, errlen);
}

bool
ns_capture_nano(const ns_capture_t *self)
{
    return self->nano;
}

const char *
ns_capture_default_iface(char *errbuf, size_t errlen)
{
    static char name[256];
    char perr[PCAP_ERRBUF_SIZE];
    pcap_if_t *all = NULL;
    if (pcap_findalldevs(&all, perr) != 0) {
        set_err(errbuf, errlen, "cannot list interfaces: %s", perr);
        return NULL;
    }
    const char *found = NULL;
    /* The first interface that is up, running, not loopback and has an address. */
    for (pcap_if_t *d = all; d && !found; d = d->next) {
        if ((d->flags & PCAP_IF_LOOPBACK) || !(d->flags & PCAP_IF_UP) ||
            !(d->flags & PCAP_IF_RUNNING) || d->addresses == NULL)
            continue;
        if (strcmp(d->name, "any") == 0)
            continue;
        snprintf(name, sizeof(name), "%s", d->name);
        found = name;
    }
    pcap_freealldevs(all);
    if (!found)
        set_err(errbuf, errlen, "no interface is up; name one with -i");
    return found;
}

bool
ns_capture_filter_check(const char *filter, uint32_t linktype, char *errbuf, size_t errlen)
{
    int dlt = linktype == 101 ? DLT_RAW : (int)linktype;
    pcap_t *dead = pcap_open_dead(dlt, NS_DEFAULT_SNAPLEN);
    if (dead == NULL) {
        set_err(errbuf, errlen, "out of memory");
        return false;
    }
    /* compile only: a dead handle takes no filter */
    struct bpf_program prog;
    bool ok = pcap_compile(dead, &prog, filter ? filter : "", 1, PCAP_NETMASK_UNKNOWN) == 0;
    if (ok)
        pcap_freecode(&prog);
    else
        set_err(errbuf, errlen, "bad filter '%s': %s", filter, pcap_geterr(dead));
    pcap_close(dead);
    return ok;
}

ns_dumper_t *
ns_dumper_open(const ns_capture_t *cap, const char *path, char *errbuf, size_t errlen)
{
    ns_dumper_t *self = calloc(1, sizeof(*self));
    if (self == NULL) {
        set_err(errbuf, errlen, "out of memory");
        return NULL;
    }
    self->dead = pcap_open_dead_with_tstamp_precision(pcap_datalink(cap->pcap),
                                                      pcap_snapshot(cap->pcap),
                                                      PCAP_TSTAMP_PRECISION_NANO);
    if (self->dead)
        self->dump = pcap_dump_open(self->dead, path);
    if (self->dump == NULL) {
        set_err(errbuf, errlen, "cannot write %s: %s", path,
                self->dead ? pcap_geterr(self->dead) : "out of memory");
        ns_dumper_destroy(&self);
        return NULL;
    }
    return self;
}

void
ns_dumper_write(ns_dumper_t *self, const ns_frame_t *frame)
{
    struct pcap_pkthdr hdr;
    hdr.ts.tv_sec = (time_t)(frame->ts_ns / 1000000000u);
    hdr.ts.tv_usec = (suseconds_t)(frame->ts_ns % 1000000000u);
    hdr.caplen = frame->cap_len;
    hdr.len = frame->wire_len;
    pcap_dump((u_char *)self->dump, &hdr, frame->data);
}

void
ns_dumper_destroy(ns_dumper_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    ns_dumper_t *self = *self_p;
    if (self->dump) {
        pcap_dump_flush(self->dump);
        pcap_dump_close(self->dump);
    }
    if (self->dead)
        pcap_close(self->dead);
    free(self);
    *self_p = NULL;
}
