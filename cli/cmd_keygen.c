/* cmd_keygen.c - `netscope keygen NAME`: a CURVE key pair for an agent or a collector.
 *
 * Wiring only: transport.h generates the pair and writes NAME.key and NAME.key_secret (mode
 * 0600 from creation on); this file parses options and tells the user what was written.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "cli.h"
#include "netscope/transport.h"

static void
usage(FILE *out)
{
    fprintf(out, "usage: netscope keygen [--force] NAME\n"
                 "\n"
                 "Writes a CURVE key pair for an agent or a collector (czmq certificate format):\n"
                 "  NAME.key          the public key: copy an agent's into the collector's\n"
                 "                    allowed-keys directory, and the collector's to its agents\n"
                 "  NAME.key_secret   both keys, mode 0600: keep it on its host\n"
                 "and prints the public key's fingerprint (first 16 hex digits of its SHA-256).\n"
                 "\n"
                 "  -f, --force      replace existing files\n"
                 "  -h, --help       this text\n");
}

int
ns_cmd_keygen(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"force", no_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool force = false;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":fh", longopts, NULL)) != -1) {
        switch (c) {
        case 'f':
            force = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            fprintf(stderr, "netscope keygen: unknown option '%s' (see netscope keygen --help)\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    if (optind != argc - 1 || argv[optind][0] == '\0') {
        fprintf(stderr, "netscope keygen: give exactly one NAME\n");
        usage(stderr);
        return 2;
    }
    const char *name = argv[optind];
    char err[512];
    ns_keypair_t kp;
    int rc = 1;
    if (ns_keypair_generate(&kp, err, sizeof err) != NS_OK ||
        ns_keypair_save(&kp, name, force, err, sizeof err) != NS_OK) {
        fprintf(stderr, "netscope keygen: %s\n", err);
        goto out;
    }
    char fp[NS_KEY_FINGERPRINT_LEN + 1];
    ns_key_fingerprint(&kp.pub, fp);
    printf("public key:  %s%s\n"
           "secret key:  %s%s\n"
           "fingerprint: %s\n",
           name, NS_KEY_PUBLIC_SUFFIX, name, NS_KEY_SECRET_SUFFIX, fp);
    rc = 0;
out:
    ns_keypair_wipe(&kp);
    return rc;
}
