/* privs.h - giving up privileges after the capture is open.
 *
 * The agent opens its captures as root or with CAP_NET_RAW, then calls ns_privs_drop(): as
 * root it switches to an unprivileged user (supplementary groups cleared, then group, then
 * user, checked by trying to get root back); as a non-root user that was given capabilities
 * (systemd's AmbientCapabilities=CAP_NET_RAW) it clears every capability set. Either way the
 * process keeps no capability, which ns_privs_caps_effective() lets a caller (and a test)
 * verify. Open sockets and capture handles stay usable: the kernel checks privileges when a
 * capture is opened, not when it is read.
 */
#ifndef NETSCOPE_PRIVS_H
#define NETSCOPE_PRIVS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Drop privileges. As root: switch to `user`; when `user` is NULL or "netscope" and no such
 * user exists, "nobody" is used instead. Not root: clear all capabilities (`user` is ignored).
 * On success writes the name of the user now in effect into `who` and returns true; on
 * failure returns false with a sentence in errbuf (the caller must not go on). Call before
 * starting threads. */
bool ns_privs_drop(const char *user, char *who, size_t wholen, char *errbuf, size_t errlen);

/* The effective capability set of the calling thread (bit n = capability n), or UINT64_MAX
 * when it cannot be read. */
uint64_t ns_privs_caps_effective(void);

#endif /* NETSCOPE_PRIVS_H */
