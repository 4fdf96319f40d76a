#include "core/buf.h"
#include "storage/influxdb/spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/proc.h"
#include "storage/influxdb/line.h"

static void seg_path(const sb_spool *s, uint64_t id, char *out, size_t n)
{
    snprintf(out, n, "%s/seg-%020" PRIu64 ".lp", s->dir, id);
}

static int cmp_seg(const void *a, const void *b)
{
    uint64_t x = ((const sb_spool_seg *)a)->id, y = ((const sb_spool_seg *)b)->id;
    return x < y ? -1 : x > y;
}

static sb_err add_seg(sb_spool *s, uint64_t id, size_t count)
{
    if (sb_array_reserve(&s->segs, &s->cap, s->n + 1, sizeof(*s->segs), 16) != SB_OK)
        return SB_ERR_NOMEM;
    s->segs[s->n++] = (sb_spool_seg){id, count};
    s->total += count;
    if (id >= s->next_id)
        s->next_id = id + 1;
    return SB_OK;
}

/* Counts a segment's complete lines and cuts a torn tail off. */
static sb_err index_seg(sb_spool *s, uint64_t id, sb_errmsg *em)
{
    char *buf = NULL;
    size_t len = 0, complete = 0;
    sb_err rc = sb_spool_read(s, id, &buf, &len, em);
    if (rc != SB_OK)
        return rc;
    size_t n = sb_lp_count_lines(buf, len, &complete);
    free(buf);
    char path[600];
    seg_path(s, id, path, sizeof(path));
    if (complete < len) {
        s->torn++;
        if (truncate(path, (off_t)complete) != 0)
            return sb_fail(em, SB_ERR_IO, "cannot cut the torn tail of %s: %s", path,
                           strerror(errno));
    }
    if (n == 0) {
        unlink(path);
        return SB_OK;
    }
    return add_seg(s, id, n);
}

sb_err sb_spool_open(sb_spool *s, const char *dir, size_t per_segment, sb_errmsg *em)
{
    memset(s, 0, sizeof(*s));
    s->per_segment = per_segment ? per_segment : 1;
    if (snprintf(s->dir, sizeof(s->dir), "%s", dir) >= (int)sizeof(s->dir))
        return sb_fail(em, SB_ERR_TOO_LARGE, "metrics.buffer_dir is too long");
    sb_err rc = sb_mkdirs(dir, em);
    if (rc != SB_OK)
        return rc;
    DIR *d = opendir(dir);
    if (!d)
        return sb_fail(em, SB_ERR_IO, "cannot read metrics.buffer_dir %s: %s", dir,
                       strerror(errno));
    struct dirent *e;
    while (rc == SB_OK && (e = readdir(d)) != NULL) {
        uint64_t id;
        char tail[8];
        if (sscanf(e->d_name, "seg-%20" SCNu64 ".%7s", &id, tail) == 2 && !strcmp(tail, "lp"))
            rc = index_seg(s, id, em);
    }
    closedir(d);
    if (rc == SB_OK && s->n) /* qsort(NULL, 0, ...) is undefined */
        qsort(s->segs, s->n, sizeof(*s->segs), cmp_seg);
    return rc;
}

static sb_err write_all(int fd, const char *buf, size_t len, const char *path, sb_errmsg *em)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return sb_fail(em, SB_ERR_IO, "cannot write %s: %s", path, strerror(errno));
        buf += w;
        len -= (size_t)w;
    }
    return SB_OK;
}

/* Appends lines [buf, buf+len) holding n points to segment id. */
static sb_err append_to(sb_spool *s, uint64_t id, const char *buf, size_t len, sb_errmsg *em)
{
    char path[600];
    seg_path(s, id, path, sizeof(path));
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0)
        return sb_fail(em, SB_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    sb_err rc = write_all(fd, buf, len, path, em);
    if (rc == SB_OK && fdatasync(fd) != 0)
        rc = sb_fail(em, SB_ERR_IO, "cannot sync %s: %s", path, strerror(errno));
    close(fd);
    return rc;
}

/* Length of the first k lines of buf. */
static size_t lines_len(const char *buf, size_t len, size_t k)
{
    const char *p = buf;
    while (k-- > 0) {
        const char *nl = memchr(p, '\n', len - (size_t)(p - buf));
        if (!nl)
            return len;
        p = nl + 1;
    }
    return (size_t)(p - buf);
}

sb_err sb_spool_append(sb_spool *s, const char *buf, size_t len, size_t n, sb_errmsg *em)
{
    bool created = false;
    while (n > 0) {
        sb_spool_seg *last = s->n ? &s->segs[s->n - 1] : NULL;
        if (!last || last->count >= s->per_segment) {
            sb_err rc = add_seg(s, s->next_id, 0);
            if (rc != SB_OK)
                return sb_fail(em, rc, "out of memory indexing the metrics spool");
            last = &s->segs[s->n - 1];
            created = true;
        }
        size_t k = s->per_segment - last->count < n ? s->per_segment - last->count : n;
        size_t bytes = lines_len(buf, len, k);
        sb_err rc = append_to(s, last->id, buf, bytes, em);
        if (rc != SB_OK)
            return rc;
        last->count += k;
        s->total += k;
        buf += bytes;
        len -= bytes;
        n -= k;
    }
    if (created) { /* new file names must survive a crash too */
        int dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
    return SB_OK;
}

sb_err sb_spool_read(const sb_spool *s, uint64_t id, char **buf, size_t *len, sb_errmsg *em)
{
    char path[600];
    seg_path(s, id, path, sizeof(path));
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return sb_fail(em, SB_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    char *b = NULL;
    if (fstat(fileno(f), &st) != 0 || !(b = malloc((size_t)st.st_size + 1))) {
        fclose(f);
        return sb_fail(em, SB_ERR_NOMEM, "cannot read %s", path);
    }
    size_t got = fread(b, 1, (size_t)st.st_size, f);
    fclose(f);
    b[got] = '\0';
    *buf = b;
    *len = got;
    return SB_OK;
}

size_t sb_spool_remove(sb_spool *s, uint64_t id)
{
    char path[600];
    seg_path(s, id, path, sizeof(path));
    unlink(path);
    for (size_t i = 0; i < s->n; i++) {
        if (s->segs[i].id == id) {
            size_t count = s->segs[i].count;
            s->total -= count;
            memmove(&s->segs[i], &s->segs[i + 1], (s->n - i - 1) * sizeof(*s->segs));
            s->n--;
            return count;
        }
    }
    return 0;
}

void sb_spool_close(sb_spool *s)
{
    if (s) {
        SB_FREE(s->segs);
        s->n = s->cap = 0;
    }
}
