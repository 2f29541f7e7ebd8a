/* fuzz_qs.c - the API's query-string parser, path check, time parser and filter validation.
 *
 * Input: the query string. Every parameter value is also tried as a time, a number, a path
 * and (the "filter" parameter) a BPF expression through capture/bpf_flow.c's name-free check
 * and compile.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netscope/bpf_flow.h"
#include "netscope/qs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ns_qs_t qs;
    if (!ns_qs_parse(&qs, (const char *)data, size))
        return 0;
    for (size_t i = 0; i < qs.n; i++) {
        uint64_t v;
        const char *val = qs.p[i].value;
        (void)ns_qs_time(val, 1764900000ull * 1000000000ull, &v);
        (void)ns_qs_u64(val, 0, UINT64_MAX, &v);
        (void)ns_qs_duration(val, 86400, &v);
        (void)ns_qs_path_ok(val);
        if (strcmp(qs.p[i].name, "filter") == 0) {
            char err[256];
            ns_bpf_flow_t *f = ns_bpf_flow_new(val, err, sizeof(err));
            if (f) {
                ns_bpf_flow_key_t k;
                memset(&k, 0, sizeof(k));
                k.ip_ver = 4;
                k.proto = 6;
                (void)ns_bpf_flow_match(f, &k);
            }
            ns_bpf_flow_destroy(&f);
        }
    }
    return 0;
}
