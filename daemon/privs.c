/* privs.c - switch user or clear capabilities (see privs.h). Linux only: capabilities are
 * set with the capget/capset system calls directly, so no libcap is needed. */
#include "netscope/privs.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define DEFAULT_USER "netscope"
#define FALLBACK_USER "nobody"

static int
cap_get(struct __user_cap_data_struct data[2])
{
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    return (int)syscall(SYS_capget, &hdr, data);
}

uint64_t
ns_privs_caps_effective(void)
{
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof(data));
    if (cap_get(data) != 0)
        return UINT64_MAX;
    return (uint64_t)data[1].effective << 32 | data[0].effective;
}

/* Clear the ambient, effective, permitted and inheritable sets. */
static bool
clear_caps(char *errbuf, size_t errlen)
{
    (void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); /* absent on old kernels */
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof(data));
    if (syscall(SYS_capset, &hdr, data) != 0) {
        snprintf(errbuf, errlen, "cannot drop capabilities: %s", strerror(errno));
        return false;
    }
    return true;
}

static bool
switch_user(const char *user, char *who, size_t wholen, char *errbuf, size_t errlen)
{
    bool defaulted = user == NULL || strcmp(user, DEFAULT_USER) == 0;
    if (user == NULL)
        user = DEFAULT_USER;
    errno = 0;
    struct passwd *pw = getpwnam(user);
    if (pw == NULL && defaulted)
        pw = getpwnam(user = FALLBACK_USER);
    if (pw == NULL) {
        snprintf(errbuf, errlen, "no such user: %s (--user names the account to run as)", user);
        return false;
    }
    if (pw->pw_uid == 0) {
        snprintf(errbuf, errlen, "refusing to run as %s: it is root (uid 0)", user);
        return false;
    }
    uid_t uid = pw->pw_uid;
    gid_t gid = pw->pw_gid;
    snprintf(who, wholen, "%s", user);
    if (setgroups(0, NULL) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
        snprintf(errbuf, errlen, "cannot switch to user %s: %s", user, strerror(errno));
        return false;
    }
    /* The switch must be for good: getting root back has to fail. */
    if (setuid(0) == 0 || geteuid() == 0 || getegid() == 0) {
        snprintf(errbuf, errlen, "switching to user %s did not drop root", user);
        return false;
    }
    return true;
}

bool
ns_privs_drop(const char *user, char *who, size_t wholen, char *errbuf, size_t errlen)
{
    if (geteuid() == 0) {
        if (!switch_user(user, who, wholen, errbuf, errlen))
            return false;
    } else {
        struct passwd *pw = getpwuid(geteuid());
        if (pw)
            snprintf(who, wholen, "%s", pw->pw_name);
        else
            snprintf(who, wholen, "uid %ld", (long)geteuid());
    }
    /* After setuid() from root the kernel has cleared them already; a non-root process that
     * was given capabilities clears them here. */
    if (!clear_caps(errbuf, errlen))
        return false;
    if (ns_privs_caps_effective() != 0) {
        snprintf(errbuf, errlen, "capabilities are still in effect after dropping them");
        return false;
    }
    return true;
}
