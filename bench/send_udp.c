/* send_udp.c - paced UDP traffic for the live benchmarks: a given packet rate, sendmmsg.
 *
 *   send_udp -d ADDR [-p PORT] [-r PPS] [-t SECONDS] [-s PAYLOAD] [-f FLOWS | --new-flows]
 *            [-b BATCH]
 *
 * Sends UDP datagrams of PAYLOAD bytes (default 18: 64-byte Ethernet frames) to IPv4 ADDR at
 * PPS packets per second (default 10000) for SECONDS (default 5). Destination ports are
 * PORT (default 10000) + i % FLOWS (default 64 flows); with --new-flows every datagram goes
 * to the next port (10000..65535, then again), so each one starts a new flow.
 *
 * Pacing: datagram i is due at start + i / PPS. The loop sends what is due, at most BATCH
 * (default 64) per sendmmsg() call, and sleeps to the next due time when nothing is (a
 * high rate thus goes out in bursts of up to BATCH back to back, a low one one at a time).
 * When the kernel refuses (ENOBUFS, EAGAIN) the datagrams stay due and are retried: the
 * achieved rate then falls below PPS, and the summary says so.
 *
 * Summary on standard output, one line: "send_udp sent=N seconds=S rate=R target=PPS
 * refused=K" (K: calls refused by the kernel).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_BATCH 1024
#define MAX_PAYLOAD 1472
#define FIRST_PORT 10000u
#define NS_PER_S 1000000000ull

static uint64_t
mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static void
sleep_until(uint64_t t)
{
    struct timespec ts = {.tv_sec = (time_t)(t / NS_PER_S), .tv_nsec = (long)(t % NS_PER_S)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

static bool
parse_num(const char *s, double lo, double hi, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (*s == '\0' || *end != '\0' || !(v >= lo && v <= hi))
        return false;
    *out = v;
    return true;
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {{"new-flows", no_argument, NULL, 'n'},
                                             {NULL, 0, NULL, 0}};
    const char *dst = NULL;
    double port = FIRST_PORT, pps = 10000, seconds = 5, payload = 18, flows = 64, batch = 64;
    bool new_flows = false, ok = true;
    int ch;
    while (ok && (ch = getopt_long(argc, argv, "d:p:r:t:s:f:b:", longopts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            dst = optarg;
            break;
        case 'p':
            ok = parse_num(optarg, 1, 65535, &port);
            break;
        case 'r':
            ok = parse_num(optarg, 1, 1e8, &pps);
            break;
        case 't':
            ok = parse_num(optarg, 0.001, 86400, &seconds);
            break;
        case 's':
            ok = parse_num(optarg, 0, MAX_PAYLOAD, &payload);
            break;
        case 'f':
            ok = parse_num(optarg, 1, 65535, &flows);
            break;
        case 'b':
            ok = parse_num(optarg, 1, MAX_BATCH, &batch);
            break;
        case 'n':
            new_flows = true;
            break;
        default:
            ok = false;
        }
    }
    struct sockaddr_in to = {.sin_family = AF_INET};
    if (!ok || optind != argc || dst == NULL || inet_pton(AF_INET, dst, &to.sin_addr) != 1) {
        fprintf(stderr, "usage: send_udp -d IPV4 [-p PORT] [-r PPS] [-t SECONDS] [-s PAYLOAD]\n"
                        "                [-f FLOWS | --new-flows] [-b BATCH]\n");
        return 2;
    }
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) {
        perror("send_udp: socket");
        return 1;
    }

    static struct mmsghdr msgs[MAX_BATCH];
    static struct iovec iov[MAX_BATCH];
    static struct sockaddr_in addrs[MAX_BATCH];
    static uint8_t data[MAX_PAYLOAD];
    memset(data, 0x5a, sizeof(data));
    uint64_t total = (uint64_t)(pps * seconds);
    uint32_t nb = (uint32_t)batch, nflows = (uint32_t)flows, base = (uint32_t)port;
    uint64_t sent = 0, refused = 0, next_port = 0;
    uint64_t start = mono_ns();
    while (sent < total) {
        uint64_t now = mono_ns();
        uint64_t due = (uint64_t)((double)(now - start) * 1e-9 * pps) + 1;
        if (due > total)
            due = total;
        if (due <= sent) {
            sleep_until(start + (uint64_t)((double)sent / pps * 1e9));
            continue;
        }
        uint32_t n = due - sent < nb ? (uint32_t)(due - sent) : nb;
        for (uint32_t i = 0; i < n; i++) {
            uint64_t k = sent + i;
            uint32_t p = new_flows
                             ? (uint32_t)(FIRST_PORT + (next_port + i) % (65536u - FIRST_PORT))
                             : base + (uint32_t)(k % nflows);
            addrs[i] = to;
            addrs[i].sin_port = htons((uint16_t)(p > 65535 ? 65535 : p));
            iov[i] = (struct iovec){.iov_base = data, .iov_len = (size_t)payload};
            msgs[i].msg_hdr = (struct msghdr){.msg_name = &addrs[i],
                                              .msg_namelen = sizeof(addrs[i]),
                                              .msg_iov = &iov[i],
                                              .msg_iovlen = 1};
        }
        int r = sendmmsg(fd, msgs, n, 0);
        if (r < 0) {
            if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR) {
                perror("send_udp: sendmmsg");
                close(fd);
                return 1;
            }
            refused++;
            continue;
        }
        sent += (uint64_t)r;
        next_port += (uint64_t)r;
    }
    double took = (double)(mono_ns() - start) * 1e-9;
    close(fd);
    printf("send_udp sent=%llu seconds=%.3f rate=%.0f target=%.0f refused=%llu\n",
           (unsigned long long)sent, took, (double)sent / took, pps, (unsigned long long)refused);
    return 0;
}
