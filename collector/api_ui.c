/* api_ui.c - the dashboard's static files at / (api.ui_dir), with the dashboard's CSP.
 *
 * Only GET/HEAD of clean paths reach here (api.c checks ns_qs_path_ok(): no %-escapes, no
 * "//", no dot segments). On top of that a path may hold only [A-Za-z0-9._/-] with no
 * component starting with '.', and the file it names must resolve (realpath: symlinks
 * followed) to a regular file inside the UI directory's own real path: a symlink pointing
 * out of the directory is refused like a missing file (404, saying nothing about what is
 * outside).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api_int.h"
#include "netscope/log.h"

#define UI_FILE_MAX (64u << 20)

static const struct {
    const char *ext, *type;
} content_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".wasm", "application/wasm"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".json", "application/json"},
    {".map", "application/json"},
    {".ico", "image/x-icon"},
    {".txt", "text/plain; charset=utf-8"},
};

static const char *
content_type(const char *path)
{
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof(content_types) / sizeof(content_types[0]); i++)
        if (strcmp(dot, content_types[i].ext) == 0)
            return content_types[i].type;
    return "application/octet-stream";
}

static bool
name_ok(const char *rel)
{
    bool start = true;
    for (const char *p = rel; *p; p++) {
        char c = *p;
        if (start && c == '.')
            return false;
        start = c == '/';
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == '/'))
            return false;
    }
    return true;
}

bool
api_ui_set(ns_api_t *api, const char *dir, const char *ws_url)
{
    free(api->ui_root);
    api->ui_root = NULL;
    if (dir == NULL || dir[0] == '\0')
        return false;
    char *root = realpath(dir, NULL);
    struct stat st;
    if (root == NULL || stat(root, &st) != 0 || !S_ISDIR(st.st_mode)) {
        ns_log_debug("no dashboard: %s is not a directory", dir);
        free(root);
        return false;
    }
    api->ui_root = root;
    /* connect-src names the stream: a ws:// origin is not covered by 'self' everywhere */
    char ws_origin[128] = "";
    if (ws_url) {
        const char *p = strstr(ws_url, "://");
        const char *slash = p ? strchr(p + 3, '/') : NULL;
        size_t n = slash ? (size_t)(slash - ws_url) : strlen(ws_url);
        snprintf(ws_origin, sizeof(ws_origin), " %.*s", (int)(n < 120 ? n : 120), ws_url);
    }
    snprintf(api->ui_csp, sizeof(api->ui_csp),
             "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'%s; "
             "img-src 'self' data: blob:; style-src 'self'; object-src 'none'; "
             "frame-ancestors 'none'",
             ws_origin);
    ns_log_info("dashboard files from %s", root);
    return true;
}

bool
api_ui_serve(ns_api_t *api, const ns_httpd_req_t *req, ns_httpd_resp_t *r)
{
    if (api->ui_root == NULL || strncmp(req->path, "/api/", 5) == 0)
        return false;
    const char *rel = strcmp(req->path, "/") == 0 ? "index.html" : req->path + 1;
    if (rel[0] == '\0' || !name_ok(rel)) {
        ns_httpd_resp_error(r, 404, "no such resource", NULL);
        return true;
    }
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        ns_httpd_resp_error(r, 405, "method not allowed", NULL);
        ns_httpd_resp_header(r, "Allow", "GET, HEAD");
        return true;
    }
    char joined[PATH_MAX];
    int n = snprintf(joined, sizeof(joined), "%s/%s", api->ui_root, rel);
    char *real = n > 0 && (size_t)n < sizeof(joined) ? realpath(joined, NULL) : NULL;
    size_t rl = strlen(api->ui_root);
    int fd = -1;
    struct stat st;
    if (real == NULL || strncmp(real, api->ui_root, rl) != 0 || real[rl] != '/' ||
        (fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0 || fstat(fd, &st) != 0 ||
        !S_ISREG(st.st_mode) || st.st_size > (off_t)UI_FILE_MAX) {
        ns_httpd_resp_error(r, 404, "no such resource", NULL);
        goto out;
    }
    size_t size = (size_t)st.st_size, got = 0;
    ns_httpd_resp_reset(r);
    char buf[65536];
    while (got < size) {
        ssize_t k = read(fd, buf, sizeof(buf));
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        ns_httpd_resp_append(r, buf, (size_t)k);
        got += (size_t)k;
    }
    if (got != size) {
        ns_httpd_resp_error(r, 500, "reading the file failed", NULL);
        goto out;
    }
    snprintf(r->content_type, sizeof(r->content_type), "%s", content_type(real));
    r->csp = api->ui_csp;
    ns_httpd_resp_header(r, "Cache-Control", "no-cache");
out:
    if (fd >= 0)
        close(fd);
    free(real);
    return true;
}
