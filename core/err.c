/* err.c - sentences for ns_err_t. */
#include "netscope/err.h"

#include <stdio.h>
#include <stdlib.h>

const char *
ns_strerror(ns_err_t err)
{
    switch (err) {
    case NS_OK:
        return "success";
    case NS_ENOMEM:
        return "out of memory";
    case NS_EINVAL:
        return "invalid argument";
    case NS_EFULL:
        return "table is full";
    case NS_ENOTFOUND:
        return "not found";
    case NS_EIO:
        return "input/output error";
    case NS_EFORMAT:
        return "malformed input";
    }
    return "unknown error";
}

void
ns_check_fail(const char *msg, const char *file, int line)
{
    fprintf(stderr, "netscope: internal error: %s (%s:%d)\n", msg, file, line);
    abort();
}
