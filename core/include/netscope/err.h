/* err.h - ns_err_t, the error codes of libnetscope, and their sentences.
 *
 * Functions that can fail for a reason a caller may handle return ns_err_t: 0 on success, a
 * negative NS_E* value otherwise. Parse outcomes of packet bytes are not errors (see pkt.h).
 */
#ifndef NETSCOPE_ERR_H
#define NETSCOPE_ERR_H

typedef enum {
    NS_OK = 0,
    NS_ENOMEM = -1,   /* an allocation failed */
    NS_EINVAL = -2,   /* an argument is out of range */
    NS_EFULL = -3,    /* a fixed-capacity table or buffer is full */
    NS_ENOTFOUND = -4,/* the key is not present */
    NS_EIO = -5,      /* reading or writing a file or socket failed */
    NS_EFORMAT = -6,  /* input does not have the expected format */
} ns_err_t;

/* A short sentence for `err` (static storage; never NULL). */
const char *ns_strerror(ns_err_t err);

/* An assertion that stays on in release builds, for programmer errors whose alternative is
 * an endless loop or corrupt state (never for input): prints `msg` with the place, aborts. */
#define NS_CHECK(cond, msg)                                                                    \
    do {                                                                                       \
        if (!(cond))                                                                           \
            ns_check_fail(msg, __FILE__, __LINE__);                                            \
    } while (0)

_Noreturn void ns_check_fail(const char *msg, const char *file, int line);

#endif /* NETSCOPE_ERR_H */
