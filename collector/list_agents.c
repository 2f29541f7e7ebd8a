/* list_agents.c - enrolled keys and the running collector's agents (list_agents.h).
 *
 * The API is asked with one plain HTTP/1.0 GET over a TCP socket (the collector's own API is
 * the only server this talks to, on the address it is configured to listen on; a wildcard
 * listen address is reached through loopback). The answer is JSON: {"agents":[{"id",
 * "fingerprint","connected",...}]}.
 */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "netscope/list_agents.h"
#include "netscope/transport.h"

#define MAX_KEYS 4096
#define MAX_REPLY (16u << 20)

typedef struct {
    char file[256];
    char fpr[NS_KEY_FINGERPRINT_LEN + 1];
} enrolled_t;

static int
cmp_enrolled(const void *a, const void *b)
{
    return strcmp(((const enrolled_t *)a)->file, ((const enrolled_t *)b)->file);
}

/* The *.key files of `dir`, sorted; NULL with a message in err when the directory is not
 * readable. Files that are not keys are reported and skipped. */
static enrolled_t *
read_enrolled(const char *dir, size_t *n, FILE *err)
{
    *n = 0;
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(err, "netscope-collector: allowed keys %s: %s\n", dir, strerror(errno));
        return NULL;
    }
    enrolled_t *v = calloc(MAX_KEYS, sizeof(*v));
    struct dirent *e;
    while (v && (e = readdir(d)) != NULL && *n < MAX_KEYS) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".key") != 0 || len >= sizeof(v->file))
            continue;
        char path[4096], msg[256];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        ns_key_t key;
        if (ns_key_load(path, &key, msg, sizeof(msg)) != NS_OK) {
            fprintf(err, "netscope-collector: %s: %s (skipped)\n", path, msg);
            continue;
        }
        memcpy(v[*n].file, e->d_name, len + 1);
        ns_key_fingerprint(&key, v[*n].fpr);
        (*n)++;
    }
    closedir(d);
    if (v)
        qsort(v, *n, sizeof(*v), cmp_enrolled);
    return v;
}

/* "ADDR:PORT" / "[ADDR]:PORT" -> host and port to connect to (a wildcard becomes loopback). */
static bool
split_listen(const char *listen, char *host, size_t hl, char *port, size_t pl)
{
    const char *colon;
    if (listen[0] == '[') {
        const char *end = strchr(listen, ']');
        if (end == NULL || end[1] != ':' || (size_t)(end - listen - 1) >= hl)
            return false;
        snprintf(host, hl, "%.*s", (int)(end - listen - 1), listen + 1);
        colon = end + 1;
    } else {
        colon = strrchr(listen, ':');
        if (colon == NULL || (size_t)(colon - listen) >= hl)
            return false;
        snprintf(host, hl, "%.*s", (int)(colon - listen), listen);
    }
    snprintf(port, pl, "%s", colon + 1);
    if (host[0] == '\0' || strcmp(host, "0.0.0.0") == 0 || strcmp(host, "*") == 0)
        snprintf(host, hl, "127.0.0.1");
    else if (strcmp(host, "::") == 0)
        snprintf(host, hl, "::1");
    return port[0] != '\0';
}

/* GET /api/v1/agents; the body (malloc'd) or NULL with the reason in `why`. */
static char *
fetch_agents(const ns_collector_config_t *cfg, char *why, size_t wl)
{
    char host[256], port[32];
    if (!split_listen(cfg->http_listen, host, sizeof(host), port, sizeof(port))) {
        snprintf(why, wl, "http.listen '%s' is not ADDR:PORT", cfg->http_listen);
        return NULL;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST}, *ai;
    int rc = getaddrinfo(host, port, &hints, &ai);
    if (rc != 0) {
        snprintf(why, wl, "%s:%s: %s", host, port, gai_strerror(rc));
        return NULL;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct timeval tv = {.tv_sec = 5};
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    }
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        snprintf(why, wl, "%s: %s (is the collector running?)", cfg->http_listen,
                 strerror(errno));
        freeaddrinfo(ai);
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    freeaddrinfo(ai);
    char req[1024];
    bool token = cfg->http_token && cfg->http_token[0];
    int n = snprintf(req, sizeof(req),
                     "GET /api/v1/agents HTTP/1.0\r\nHost: %s\r\n%s%s%sConnection: close\r\n\r\n",
                     cfg->http_listen, token ? "Authorization: Bearer " : "",
                     token ? cfg->http_token : "", token ? "\r\n" : "");
    if (n < 0 || (size_t)n >= sizeof(req) || send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
        snprintf(why, wl, "sending the request failed");
        close(fd);
        return NULL;
    }
    size_t len = 0, cap = 65536;
    char *buf = malloc(cap + 1);
    ssize_t got = 0;
    while (buf && (got = recv(fd, buf + len, cap - len, 0)) > 0) {
        len += (size_t)got;
        if (len == cap) {
            char *nb = cap < MAX_REPLY ? realloc(buf, cap * 2 + 1) : NULL;
            if (nb == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    close(fd);
    if (buf == NULL || got < 0) {
        snprintf(why, wl, "%s", buf ? "reading the answer failed or timed out" : "out of memory");
        free(buf);
        return NULL;
    }
    buf[len] = '\0';
    int status = 0;
    char *body = strstr(buf, "\r\n\r\n");
    if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1 || body == NULL || status != 200) {
        snprintf(why, wl, "the API answered %d%s", status,
                 status == 401 || status == 403 ? " (http.token missing or wrong)" : "");
        free(buf);
        return NULL;
    }
    memmove(buf, body + 4, len - (size_t)(body + 4 - buf) + 1);
    return buf;
}

static const char *
enrolled_file(const enrolled_t *v, size_t n, const char *fpr)
{
    for (size_t i = 0; i < n; i++)
        if (fpr && strcmp(v[i].fpr, fpr) == 0)
            return v[i].file;
    return NULL;
}

int
ns_list_agents(const ns_collector_config_t *cfg, FILE *out, FILE *err)
{
    int rc = 0;
    size_t n = 0;
    enrolled_t *keys = NULL;
    const char *dir = cfg->allowed_keys;
    if (cfg->insecure || dir == NULL || dir[0] == '\0') {
        fprintf(out, "enrolled keys: none (%s)\n",
                cfg->insecure ? "insecure: every agent is accepted" : "no allowed_keys directory");
    } else {
        keys = read_enrolled(dir, &n, err);
        if (keys == NULL)
            rc = 1;
        fprintf(out, "enrolled keys in %s: %zu\n", dir, n);
        for (size_t i = 0; i < n; i++)
            fprintf(out, "  %-32s fingerprint %s\n", keys[i].file, keys[i].fpr);
    }

    char why[512];
    if (cfg->http_listen == NULL || cfg->http_listen[0] == '\0') {
        fprintf(err, "netscope-collector: http.listen is off: connected agents unknown\n");
        free(keys);
        return 1;
    }
    char *body = fetch_agents(cfg, why, sizeof(why));
    json_t *doc = body ? json_loads(body, 0, NULL) : NULL;
    json_t *agents = doc ? json_object_get(doc, "agents") : NULL;
    if (body && !json_is_array(agents))
        snprintf(why, sizeof(why), "the API's answer is not {\"agents\":[...]}");
    free(body);
    if (!json_is_array(agents)) {
        fprintf(err, "netscope-collector: cannot ask the collector at %s: %s\n", cfg->http_listen,
                why);
        json_decref(doc);
        free(keys);
        return 1;
    }
    size_t connected = 0;
    for (size_t i = 0; i < json_array_size(agents); i++)
        connected += json_is_true(json_object_get(json_array_get(agents, i), "connected"));
    fprintf(out, "agents seen by the collector at %s: %zu, %zu connected\n", cfg->http_listen,
            json_array_size(agents), connected);
    for (size_t i = 0; i < json_array_size(agents); i++) {
        json_t *a = json_array_get(agents, i);
        const char *id = json_string_value(json_object_get(a, "id"));
        const char *fpr = json_string_value(json_object_get(a, "fingerprint"));
        const char *file = enrolled_file(keys, n, fpr);
        fprintf(out, "  %-24s %-12s fingerprint %-16s %s%s\n", id ? id : "?",
                json_is_true(json_object_get(a, "connected")) ? "connected" : "disconnected",
                fpr && fpr[0] ? fpr : "-",
                file ? "key " : (cfg->insecure ? "" : "key no longer enrolled"), file ? file : "");
    }
    json_decref(doc);
    free(keys);
    return rc;
}
