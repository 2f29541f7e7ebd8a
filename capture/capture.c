/* capture.c - libpcap behind ns_capture_*: live interfaces, capture files, BPF, pcap writing.
 *
 * Live captures use pcap_create/pcap_activate so the ring size and a bounded poll timeout
 * can be set (libpcap picks TPACKET_V3 on Linux); files are opened with nanosecond timestamp
 * precision so pcapng and nanosecond pcap keep their resolution. Errors become sentences a user
 * can act on: pcap's own message, plus what to do about the common ones.
 */
#include "netscope/capture.h"

#include "pcapng.h"

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
    ns_pcapng_t *ng;        /* instead of pcap: a pcapng file libpcap refuses (pcapng.h) */
    char *path;             /* files: where to reopen it with ng */
    bool filtered;          /* files: a BPF filter was given (ng cannot apply it) */
    uint64_t frames;        /* files: frames handed out so far */
    uint32_t linktype;      /* LINKTYPE_* of the source (of its first interface for ng) */
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

/* libpcap refuses a pcapng file whose interfaces differ in link type or snapshot length
 * ("an interface has a type/snapshot length ... different from ..."): open it with our own
 * reader, each packet with its own interface's link type. */
static ns_pcapng_t *
open_pcapng_fallback(const char *path, const char *pcap_err, char *errbuf, size_t errlen)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        set_err(errbuf, errlen, "%s (%s): %s", pcap_err, path, strerror(errno));
        return NULL;
    }
    char nerr[256];
    ns_pcapng_t *ng = ns_pcapng_open(fp, nerr, sizeof(nerr));
    if (ng == NULL) {
        fclose(fp);
        set_err(errbuf, errlen, "%s (%s): %s", pcap_err, path, nerr);
    }
    return ng;
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
    if (!self->live && self->pcap != NULL) {
        self->path = strdup(opts->file);
        self->filtered = opts->filter != NULL && opts->filter[0] != '\0';
        if (self->path == NULL) {
            set_err(errbuf, errlen, "out of memory");
            ns_capture_destroy(&self);
            return NULL;
        }
    }
    if (self->live && self->pcap && !self->nano)
        self->nano = pcap_get_tstamp_precision(self->pcap) == PCAP_TSTAMP_PRECISION_NANO;
    if (self->pcap == NULL || !apply_filter(self->pcap, opts->filter, errbuf, errlen)) {
        ns_capture_destroy(&self);
        return NULL;
    }
    /* pcap_datalink() gives DLT_ values; files store LINKTYPE_ values. Map back so the
     * decoder sees one numbering (they differ for DLT_RAW and a few others). */
    int dlt = pcap_datalink(self->pcap);
    self->linktype = dlt == DLT_RAW ? 101u : (uint32_t)dlt;
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
    ns_pcapng_destroy(&self->ng);
    free(self->path);
    free(self);
    *self_p = NULL;
}

/* libpcap met an interface whose link type or snapshot length differs from the first's (it
 * reads interface blocks as they come, so this shows only now): reopen the file with our
 * reader, skip the frames already handed out, and go on from there. */
static int
switch_to_pcapng(ns_capture_t *self, ns_frame_t *frame)
{
    char why[PCAP_ERRBUF_SIZE];
    snprintf(why, sizeof(why), "%.*s", PCAP_ERRBUF_SIZE - 1, self->err);
    if (self->filtered || self->path == NULL || strcmp(self->path, "-") == 0) {
        snprintf(self->err, sizeof(self->err),
                 "%s; reading such a file needs a path (not stdin) and no filter", why);
        return NS_CAPTURE_ERROR;
    }
    self->ng = open_pcapng_fallback(self->path, why, self->err, sizeof(self->err));
    if (self->ng == NULL)
        return NS_CAPTURE_ERROR;
    pcap_close(self->pcap);
    self->pcap = NULL;
    for (uint64_t i = 0; i < self->frames; i++) {
        int rc = ns_pcapng_next(self->ng, frame);
        if (rc != NS_CAPTURE_FRAME) {
            snprintf(self->err, sizeof(self->err), "%s changed while being read", self->path);
            return NS_CAPTURE_ERROR;
        }
    }
    return ns_capture_next(self, frame);
}

int
ns_capture_next(ns_capture_t *self, ns_frame_t *frame)
{
    if (self->stop)
        return NS_CAPTURE_END;
    if (self->ng != NULL) {
        int nrc = ns_pcapng_next(self->ng, frame);
        if (nrc == NS_CAPTURE_END)
            self->cut_short = ns_pcapng_cut_short(self->ng);
        else if (nrc == NS_CAPTURE_ERROR)
            snprintf(self->err, sizeof(self->err), "%s", ns_pcapng_error(self->ng));
        return nrc;
    }
    struct pcap_pkthdr *hdr;
    const u_char *data;
    int rc = pcap_next_ex(self->pcap, &hdr, &data);
    if (rc == 1) {
        frame->data = data;
        frame->cap_len = hdr->caplen;
        frame->wire_len = hdr->len < hdr->caplen ? hdr->caplen : hdr->len;
        frame->ts_ns = ns_capture_ts_ns((int64_t)hdr->ts.tv_sec, (int64_t)hdr->ts.tv_usec,
                                        self->nano);
        frame->linktype = self->linktype;
        self->frames++;
        return NS_CAPTURE_FRAME;
    }
    if (rc == 0)
        return self->stop ? NS_CAPTURE_END : NS_CAPTURE_AGAIN;
    if (rc == PCAP_ERROR_BREAK)
        return NS_CAPTURE_END;
    snprintf(self->err, sizeof(self->err), "%s", pcap_geterr(self->pcap));
    if (!self->live && strstr(self->err, "different from") != NULL)
        return switch_to_pcapng(self, frame);
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
    return self->linktype;
}

int
ns_capture_snaplen(const ns_capture_t *self)
{
    return self->ng != NULL ? (int)ns_pcapng_snaplen(self->ng) : pcap_snapshot(self->pcap);
}

void
ns_capture_break(ns_capture_t *self)
{
    self->stop = 1;
    if (self->pcap != NULL)
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
    if (self->pcap == NULL)
        return true; /* a file: reads never block */
    if (pcap_setnonblock(self->pcap, 1, perr) != 0) {
        set_err(errbuf, errlen, "cannot make the capture non-blocking: %s", perr);
        return false;
    }
    return true;
}

bool
ns_capture_set_filter(ns_capture_t *self, const char *filter, char *errbuf, size_t errlen)
{
    if (self->pcap == NULL) {
        set_err(errbuf, errlen, "this capture's interfaces differ in link type or snapshot "
                                "length: no filter can apply to all of them");
        return false;
    }
    /* "" compiles to a program that accepts every packet: it replaces the old filter */
    if (!compile_filter(self->pcap, filter ? filter : "", errbuf, errlen))
        return false;
    self->filtered = filter != NULL && filter[0] != '\0';
    return true;
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
    /* A pcap file has one link type: a capture whose interfaces differ writes the first's. */
    int dlt = cap->pcap != NULL ? pcap_datalink(cap->pcap) : (int)cap->linktype;
    self->dead = pcap_open_dead_with_tstamp_precision(dlt, ns_capture_snaplen(cap),
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
