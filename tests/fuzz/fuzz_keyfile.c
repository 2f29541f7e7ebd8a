/* fuzz_keyfile.c - libFuzzer target for the key file parser (ns_key_decode, transport.h).
 *
 * The input is the text of a key file. Whatever it is, the parser must stay inside it (the
 * replay and the fuzzer feed exact heap copies), and:
 * - on failure the key pair is all zero (no half-parsed secret left behind);
 * - on success the public key survives a Z85 round trip, and a second parse of the same
 *   bytes gives the same keys (no hidden state).
 * A broken rule is a crash (__builtin_trap), so libFuzzer keeps the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "netscope/transport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(bool ok)
{
    if (!ok)
        __builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const ns_keypair_t zero;
    ns_keypair_t kp, again;
    bool has_secret, has_secret_again;
    char err[128];
    ns_err_t rc = ns_key_decode((const char *)data, size, &kp, &has_secret, err, sizeof err);
    if (rc != NS_OK) {
        check(rc == NS_EFORMAT && !has_secret);
        check(memcmp(&kp, &zero, sizeof kp) == 0);
        return 0;
    }
    char z85[NS_KEY_Z85_LEN + 1];
    ns_key_t back;
    ns_key_z85(&kp.pub, z85);
    check(ns_key_from_z85(z85, &back) && memcmp(&back, &kp.pub, sizeof back) == 0);
    check(ns_key_decode((const char *)data, size, &again, &has_secret_again, err, sizeof err) ==
          NS_OK);
    check(has_secret_again == has_secret && memcmp(&again, &kp, sizeof kp) == 0);
    if (!has_secret)
        check(memcmp(kp.secret, zero.secret, sizeof kp.secret) == 0);
    return 0;
}
