/*
 * replay: run a fuzz target over corpus files and directories, without
 * libFuzzer, so every build's test suite replays the corpus (TAP output).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    size_t len;
    char *buf = util_read_file(path, 1 << 20, &len);
    if (!buf) {
        perror(path);
        return -1;
    }
    LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
    free(buf);
    return 0;
}

static int run(const char *path, int *count)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        perror(path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        (*count)++;
        return run_file(path);
    }
    DIR *d = opendir(path);
    if (!d)
        return -1;
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char sub[4096];
        snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
        rc = run(sub, count);
    }
    closedir(d);
    return rc;
}

int main(int argc, char **argv)
{
    int count = 0;
    printf("1..1\n");
    for (int i = 1; i < argc; i++) {
        if (run(argv[i], &count) < 0) {
            printf("not ok 1 - replay\n");
            return 1;
        }
    }
    printf("%s 1 - replayed %d inputs\n", count > 0 ? "ok" : "not ok", count);
    return count > 0 ? 0 : 1;
}
