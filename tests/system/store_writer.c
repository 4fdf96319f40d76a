/*
 * store_writer.c - the child process of the store durability test.
 *
 *   store_writer BACKEND DIR PREFIX   puts PREFIX-0, PREFIX-1, ... with sync: always and writes
 *                                     each id to stdout once the put returned SB_OK (acknowledged)
 *   store_writer BACKEND DIR --hold   opens the store, writes "READY <pid>" and waits to be killed
 *
 * Errors go to stderr and exit with status 2.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/json.h"
#include "tests/system/store_test_config.h"

static void say(const char *line)
{
    size_t n = strlen(line);
    /* one write() per line: the parent never sees half an id, even after SIGKILL */
    if (write(STDOUT_FILENO, line, n) != (ssize_t)n)
        _exit(3);
}

static int write_forever(sb_store *s, const char *prefix)
{
    char pad[200];
    memset(pad, 'x', sizeof(pad) - 1);
    pad[sizeof(pad) - 1] = '\0';
    for (long i = 0;; i++) {
        char id[128], line[160];
        snprintf(id, sizeof(id), "%s-%ld", prefix, i);
        cJSON *doc = cJSON_CreateObject();
        sb_json_set_str(doc, "id", id);
        sb_json_set_num(doc, "i", (double)i);
        sb_json_set_str(doc, "pad", pad);
        sb_errmsg em = {{0}};
        sb_err err = sb_store_put(s, "dur", doc, &em);
        cJSON_Delete(doc);
        if (err) {
            fprintf(stderr, "store_writer: put %s: %s\n", id, sb_errmsg_str(&em, err));
            return 2;
        }
        snprintf(line, sizeof(line), "%s\n", id);
        say(line);
    }
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: store_writer BACKEND DIR PREFIX|--hold\n");
        return 2;
    }
    sb_config cfg;
    sb_errmsg em = {{0}};
    sb_store *s = NULL;
    sb_err err = sb_test_store_config(argv[1], argv[2], &cfg, &em);
    if (!err)
        err = sb_store_open(&cfg, &s, &em);
    if (err) {
        fprintf(stderr, "store_writer: %s\n", sb_errmsg_str(&em, err));
        return 2;
    }
    if (strcmp(argv[3], "--hold") == 0) {
        char line[64];
        snprintf(line, sizeof(line), "READY %ld\n", (long)getpid());
        say(line);
        for (;;)
            pause();
    }
    int rc = write_forever(s, argv[3]);
    sb_store_close(s);
    return rc;
}
