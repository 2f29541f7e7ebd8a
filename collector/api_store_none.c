/* api_store_none.c - the API's history functions when the store library is not built: every
 * one answers "no database" (API_NODB), as with a NULL store. CMake picks this file or
 * api_store.c (if(TARGET netscope_store)); no ns_store_* function is called or stubbed.
 */
#include "api_int.h"

int
api_store_flows(ns_api_t *api, const api_query_t *q, const char *cursor, uint32_t limit,
                api_out_t *o, char *next, size_t next_len, char *err, size_t errlen)
{
    (void)api, (void)q, (void)cursor, (void)limit, (void)o, (void)err, (void)errlen;
    if (next_len)
        next[0] = '\0';
    return API_NODB;
}

int
api_store_flow_get(ns_api_t *api, const char *uid, api_out_t *o)
{
    (void)api, (void)uid, (void)o;
    return API_NODB;
}

int
api_store_series(ns_api_t *api, const char *metric, uint64_t from_s, uint64_t to_s,
                 uint64_t step_s, ns_httpd_resp_t *r, char *err, size_t errlen)
{
    (void)api, (void)metric, (void)from_s, (void)to_s, (void)step_s, (void)r, (void)err,
        (void)errlen;
    return API_NODB;
}

int
api_store_top(ns_api_t *api, int by, int group, uint64_t from_ns, uint64_t to_ns, uint32_t n,
              ns_httpd_resp_t *r, char *err, size_t errlen)
{
    (void)api, (void)by, (void)group, (void)from_ns, (void)to_ns, (void)n, (void)r, (void)err,
        (void)errlen;
    return API_NODB;
}

int
api_store_protocols(ns_api_t *api, uint64_t from_s, uint64_t to_s, ns_httpd_resp_t *r,
                    char *err, size_t errlen)
{
    (void)api, (void)from_s, (void)to_s, (void)r, (void)err, (void)errlen;
    return API_NODB;
}

void
api_store_metrics(ns_api_t *api, ns_httpd_resp_t *r)
{
    (void)api, (void)r;
}
