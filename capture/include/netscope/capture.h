/* capture.h - packet sources and sinks: live interfaces and capture files (libpcap's door).
 *
 * The only module that includes <pcap.h>. It opens an interface (TPACKET_V3 through libpcap,
 * bounded poll timeout) or a pcap/pcapng file, compiles a BPF filter, hands out frames with
 * nanosecond timestamps, and writes frames to a pcap file (-w).
 *
 * Design: every failure a user can cause (no such interface, no permission, unreadable or
 * not-a-capture file, bad filter) is a sentence in the caller's errbuf, never a crash.
 */
#ifndef NETSCOPE_CAPTURE_H
#define NETSCOPE_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ns_capture ns_capture_t;

/* One captured frame; `data` stays valid until the next ns_capture_next() call. */
typedef struct {
    const uint8_t *data;
    uint32_t cap_len;
    uint32_t wire_len;
    uint64_t ts_ns;
    uint32_t linktype; /* LINKTYPE_* of this frame: the capture's, or in a pcapng file whose
                        * interfaces differ, its own interface's */
} ns_frame_t;

/* Largest kernel ring ns_capture_open() accepts: libpcap takes the size as an int of bytes. */
#define NS_CAPTURE_MAX_BUFFER_MB 2047

typedef struct {
    const char *file;      /* read this capture file ("-" for stdin), or */
    const char *iface;     /* capture live on this interface */
    const char *filter;    /* BPF expression, or NULL */
    int snaplen;           /* 0: default (262144) */
    bool promisc;          /* live: promiscuous mode (default true) */
    int timeout_ms;        /* live: poll timeout, so callers can check for stop (default 100) */
    int buffer_mb;         /* live: kernel ring size (0: libpcap default; at most
                            * NS_CAPTURE_MAX_BUFFER_MB, larger is an error) */
} ns_capture_opts_t;

/* Counters of a live capture since it was opened, 64-bit (libpcap's 32-bit ones wrap on a
 * busy link within hours; the wraps are carried here). */
typedef struct {
    uint64_t received;     /* packets the filter accepted */
    uint64_t kernel_drops; /* dropped by the kernel: the ring was full */
    uint64_t if_drops;     /* dropped by the interface or its driver */
} ns_capture_counters_t;

/* A capture timestamp (seconds, and the fraction in ns when `nano`, else in µs) as ns since
 * the epoch. A negative time (before 1970) is 0: there is nothing before the epoch in
 * uint64_t, and reading it as a huge value would put the packet in the far future. */
static inline uint64_t
ns_capture_ts_ns(int64_t sec, int64_t frac, bool nano)
{
    if (sec < 0 || frac < 0)
        return 0;
    return (uint64_t)sec * 1000000000u + (uint64_t)frac * (nano ? 1u : 1000u);
}

/* Results of ns_capture_next(). */
#define NS_CAPTURE_FRAME 1   /* a frame was returned */
#define NS_CAPTURE_AGAIN 0   /* live: timeout, nothing yet */
#define NS_CAPTURE_END (-1)  /* end of file, or ns_capture_break() was called */
#define NS_CAPTURE_ERROR (-2) /* read error: ns_capture_error() says what */

/* Open a source. Returns a new capture owned by the caller (ns_capture_destroy), or NULL with
 * a sentence in errbuf. */
ns_capture_t *ns_capture_open(const ns_capture_opts_t *opts, char *errbuf, size_t errlen);

/* Destroy a capture and NULL the pointer. NULL-safe. */
void ns_capture_destroy(ns_capture_t **self_p);

/* Next frame, see NS_CAPTURE_*. */
int ns_capture_next(ns_capture_t *self, ns_frame_t *frame);

/* The source's link type (LINKTYPE_* value), e.g. 1 for Ethernet; for a pcapng file whose
 * interfaces differ, the first interface's (each frame carries its own: ns_frame_t). */
uint32_t ns_capture_linktype(const ns_capture_t *self);

/* Snapshot length in force. */
int ns_capture_snaplen(const ns_capture_t *self);

/* Make a blocked or future ns_capture_next() return NS_CAPTURE_END; async-signal-safe. */
void ns_capture_break(ns_capture_t *self);

/* Last error text (valid until the next call). */
const char *ns_capture_error(const ns_capture_t *self);

/* After NS_CAPTURE_END: why the file ended early (its last record is incomplete), or NULL when
 * it ended normally. Valid until the capture is destroyed. */
const char *ns_capture_warning(const ns_capture_t *self);

/* Kernel counters for live captures; false for files. `dropped` is kernel + interface drops. */
bool ns_capture_stats(ns_capture_t *self, uint64_t *received, uint64_t *dropped);

/* The same, split and carried past libpcap's 32-bit wrap; false for files. Call it at least
 * once per 2^32 packets (the agent does every second). */
bool ns_capture_counters(ns_capture_t *self, ns_capture_counters_t *out);

/* A file descriptor that becomes readable when a live capture has frames (for poll()), or -1
 * (files, or a platform without one). */
int ns_capture_fd(const ns_capture_t *self);

/* Live: make ns_capture_next() return NS_CAPTURE_AGAIN at once when no frame is waiting
 * (for callers that poll several captures). False with errbuf filled on failure. */
bool ns_capture_set_nonblock(ns_capture_t *self, char *errbuf, size_t errlen);

/* Replace the capture's BPF filter (live or file); on error the old filter stays and errbuf
 * holds libpcap's message. */
bool ns_capture_set_filter(ns_capture_t *self, const char *filter, char *errbuf, size_t errlen);

/* Whether timestamps come in nanoseconds from the device (true for files). */
bool ns_capture_nano(const ns_capture_t *self);

/* Name of the default capture interface, or NULL with errbuf filled. Static storage. */
const char *ns_capture_default_iface(char *errbuf, size_t errlen);

/* Check a BPF expression for a link type without opening anything; false + errbuf if bad. */
bool ns_capture_filter_check(const char *filter, uint32_t linktype, char *errbuf, size_t errlen);

/* ---- writing ---- */
typedef struct ns_dumper ns_dumper_t;

/* Open `path` for writing a pcap file with the capture's link type and snaplen. */
ns_dumper_t *ns_dumper_open(const ns_capture_t *cap, const char *path, char *errbuf,
                            size_t errlen);
/* Append one frame. */
void ns_dumper_write(ns_dumper_t *self, const ns_frame_t *frame);
/* Flush, close and NULL the pointer. NULL-safe. */
void ns_dumper_destroy(ns_dumper_t **self_p);

#endif /* NETSCOPE_CAPTURE_H */
