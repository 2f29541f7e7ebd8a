/* replay.c - runs a fuzz target's corpus as an ordinary test (gcc builds, no libFuzzer).
 *
 * Usage: replay_<target> DIR_OR_FILE...  Every regular file is fed to LLVMFuzzerTestOneInput
 * once; a crash or sanitizer report fails the test. Exits 1 when no input was found, so an
 * empty or misplaced corpus is noticed instead of passing silently.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
run_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return -1;
    }
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            uint8_t *nb = realloc(buf, cap);
            if (nb == NULL) {
                free(buf);
                fclose(fp);
                return -1;
            }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len, fp);
        if (got == 0)
            break;
        len += got;
    }
    fclose(fp);
    /* Exact-size copy so ASan sees over-reads. */
    uint8_t *exact = malloc(len ? len : 1);
    if (exact == NULL) {
        free(buf);
        return -1;
    }
    if (len)
        memcpy(exact, buf, len);
    free(buf);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    return 0;
}

int
main(int argc, char **argv)
{
    long inputs = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: %s: no such file or directory\n", argv[i]);
            return 1;
        }
        if (S_ISREG(st.st_mode)) {
            if (run_file(argv[i]) == 0)
                inputs++;
            continue;
        }
        DIR *dir = opendir(argv[i]);
        if (dir == NULL)
            continue;
        struct dirent *de;
        while ((de = readdir(dir)) != NULL) {
            if (de->d_name[0] == '.')
                continue;
            char path[4096];
            snprintf(path, sizeof(path), "%s/%s", argv[i], de->d_name);
            if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && run_file(path) == 0)
                inputs++;
        }
        closedir(dir);
    }
    printf("replayed %ld inputs\n", inputs);
    return inputs > 0 ? 0 : 1;
}
