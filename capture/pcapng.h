/* pcapng.h - a pcapng reader for the files libpcap refuses (internal to the capture module).
 *
 * libpcap reads a pcapng file only when every interface has the link type and snapshot length
 * of the first ("an interface has a ... different from ..."); Wireshark and Zeek read such
 * files, and so does this reader: each frame comes with its own interface's link type.
 *
 * Blocks read: section header (either byte order; a new section resets the interfaces),
 * interface description (link type, snapshot length, if_tsresol), enhanced packet and simple
 * packet. Others are skipped. A block longer than PCAPNG_MAX_BLOCK, a length that is not a
 * multiple of 4 or contradicts its contents, or a packet naming an unknown interface ends the
 * file with an error sentence; a last block cut short ends it with a warning, as libpcap does.
 *
 * Caveats: no BPF filter (the caller refuses one); timestamps before 1970 are 0.
 */
#ifndef NETSCOPE_PCAPNG_H
#define NETSCOPE_PCAPNG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "netscope/capture.h"

typedef struct ns_pcapng ns_pcapng_t;

/* Read from `fp` (taken over: closed by ns_pcapng_destroy unless it is stdin). Returns NULL
 * with a sentence in errbuf when the file does not start with a section header block. */
ns_pcapng_t *ns_pcapng_open(FILE *fp, char *errbuf, size_t errlen);

void ns_pcapng_destroy(ns_pcapng_t **self_p);

/* Next packet into `frame` (data valid until the next call): NS_CAPTURE_FRAME, END or ERROR
 * (ns_pcapng_error() says why). At END, ns_pcapng_cut_short() says whether the last block was
 * incomplete. */
int ns_pcapng_next(ns_pcapng_t *self, ns_frame_t *frame);

const char *ns_pcapng_error(const ns_pcapng_t *self);
bool ns_pcapng_cut_short(const ns_pcapng_t *self);

/* Link type and snapshot length of the first interface of the first section (0 if none yet:
 * the first interface is read by ns_pcapng_open when it precedes any packet). */
uint32_t ns_pcapng_linktype(const ns_pcapng_t *self);
uint32_t ns_pcapng_snaplen(const ns_pcapng_t *self);

#endif /* NETSCOPE_PCAPNG_H */
