/*
 * stream_journal.c - the producer's journal (stream_journal.h): reading it back, appending
 * records, rewriting it with only what is pending.
 */
#include "core/buf.h"
#include "core/stream_journal.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/json.h"
#include "core/proc.h"
#include "core/stream.h"

struct sb_stream_journal {
    int fd;
    bool sync;
    size_t size;
    char path[1024];
    char tmp[1040];
};

/* ---- reading ----------------------------------------------------------------------------- */

/* (e1, s1) < (e2, s2) in stream order. */
static bool before(int64_t e1, int64_t s1, int64_t e2, int64_t s2)
{
    return e1 < e2 || (e1 == e2 && s1 < s2);
}

/* Reads "<int> <int>[ <int>]" of positive numbers; false when the line is not exactly that.
 * Epochs and seqs travel as JSON numbers: at most 2^53, like sb_stream_decode accepts. */
static bool read_nums(const char *s, size_t len, int64_t *out, int want)
{
    char buf[96];
    if (len >= sizeof(buf))
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *p = buf;
    for (int i = 0; i < want; i++) {
        if (*p < '0' || *p > '9')
            return false;
        char *end = NULL;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (errno || v <= 0 || v > (1LL << 53) || (i < want - 1 ? *end != ' ' : *end != '\0'))
            return false;
        out[i] = v;
        p = end + (i < want - 1);
    }
    return true;
}

typedef struct reader {
    sb_stream_journal_replay *r;
    size_t items_cap, frames_cap;
    size_t first_item; /* items[first_item..n_items) are not sealed yet */
    const char *stream;
    char *qname;
    int64_t last_e, last_s; /* the newest frame read */
} reader;

static bool push_frame(reader *rd, int64_t e, int64_t s, char *text, size_t len)
{
    sb_stream_journal_replay *r = rd->r;
    if (sb_array_reserve(&r->frames, &rd->frames_cap, r->n_frames + 1, sizeof(*r->frames), 16) !=
        SB_OK)
        return false;
    r->frames[r->n_frames++] = (sb_stream_journal_frame){e, s, text, len};
    rd->last_e = e, rd->last_s = s;
    if (e > r->max_epoch)
        r->max_epoch = e;
    return true;
}

static sb_err line_item(reader *rd, const char *s, size_t len)
{
    cJSON *v = NULL;
    if (sb_json_parse(s, len, &v, NULL) != SB_OK) {
        rd->r->bad_lines++;
        return SB_OK;
    }
    cJSON_Delete(v);
    sb_stream_journal_replay *r = rd->r;
    if (sb_array_reserve(&r->items, &rd->items_cap, r->n_items + 1, sizeof(*r->items), 64) != SB_OK)
        return SB_ERR_NOMEM;
    char *copy = strndup(s, len);
    if (!copy)
        return SB_ERR_NOMEM;
    r->items[r->n_items++] = copy;
    return SB_OK;
}

/* "f e s n": the n oldest unsealed items become a frame. */
static sb_err line_sealed(reader *rd, const char *s, size_t len)
{
    sb_stream_journal_replay *r = rd->r;
    int64_t v[3];
    size_t pending = r->n_items - rd->first_item;
    if (!read_nums(s, len, v, 3) || (size_t)v[2] > pending ||
        !before(rd->last_e, rd->last_s, v[0], v[1])) {
        r->bad_lines++;
        return SB_OK;
    }
    size_t total = 0, n = (size_t)v[2];
    for (size_t i = 0; i < n; i++)
        total += strlen(r->items[rd->first_item + i]) + 1;
    char *joined = malloc(total + 1);
    if (!joined)
        return SB_ERR_NOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char *it = r->items[rd->first_item + i];
        if (i)
            joined[k++] = ',';
        size_t l = strlen(it);
        memcpy(joined + k, it, l);
        k += l;
        free(it);
    }
    /* the sealed items leave the list: move the rest down */
    memmove(r->items + rd->first_item, r->items + rd->first_item + n,
            (r->n_items - rd->first_item - n) * sizeof(char *));
    r->n_items -= n;
    size_t flen = 0;
    char *text = sb_stream_journal_envelope(rd->qname, v[0], v[1], joined, k, &flen);
    free(joined);
    if (!text || !push_frame(rd, v[0], v[1], text, flen)) {
        free(text);
        return SB_ERR_NOMEM;
    }
    return SB_OK;
}

/* "F {...}": a whole frame of this stream. */
static sb_err line_frame(reader *rd, const char *s, size_t len)
{
    sb_stream_frame f;
    if (sb_stream_decode(s, len, &f, NULL) != SB_OK) {
        rd->r->bad_lines++;
        return SB_OK;
    }
    bool ok = f.sequenced && strcmp(f.stream, rd->stream) == 0 &&
              before(rd->last_e, rd->last_s, f.epoch, f.seq);
    int64_t e = f.epoch, sq = f.seq;
    sb_stream_frame_free(&f);
    if (!ok) {
        rd->r->bad_lines++;
        return SB_OK;
    }
    char *text = strndup(s, len);
    if (!text || !push_frame(rd, e, sq, text, len)) {
        free(text);
        return SB_ERR_NOMEM;
    }
    return SB_OK;
}

/* "a e s": frames up to (e, s) are acknowledged. */
static void line_acked(reader *rd, const char *s, size_t len)
{
    sb_stream_journal_replay *r = rd->r;
    int64_t v[2];
    if (!read_nums(s, len, v, 2)) {
        r->bad_lines++;
        return;
    }
    size_t drop = 0;
    while (drop < r->n_frames && !before(v[0], v[1], r->frames[drop].epoch, r->frames[drop].seq))
        free(r->frames[drop++].text);
    if (drop) {
        memmove(r->frames, r->frames + drop, (r->n_frames - drop) * sizeof(*r->frames));
        r->n_frames -= drop;
    }
    if (v[0] > r->max_epoch)
        r->max_epoch = v[0];
    if (before(rd->last_e, rd->last_s, v[0], v[1]))
        rd->last_e = v[0], rd->last_s = v[1];
}

static sb_err parse_line(reader *rd, const char *s, size_t len)
{
    /* A NUL never belongs to a record (JSON escapes it) and would cut the copied text short. */
    if (len < 2 || s[1] != ' ' || memchr(s, '\0', len)) {
        rd->r->bad_lines += len > 0;
        return SB_OK;
    }
    switch (s[0]) {
    case 'i':
        return line_item(rd, s + 2, len - 2);
    case 'f':
        return line_sealed(rd, s + 2, len - 2);
    case 'F':
        return line_frame(rd, s + 2, len - 2);
    case 'a':
        line_acked(rd, s + 2, len - 2);
        return SB_OK;
    default:
        rd->r->bad_lines++;
        return SB_OK;
    }
}

sb_err sb_stream_journal_parse(const char *data, size_t len, const char *stream,
                               sb_stream_journal_replay *out)
{
    memset(out, 0, sizeof(*out));
    reader rd = {.r = out, .stream = stream};
    cJSON *name = cJSON_CreateString(stream);
    rd.qname = name ? cJSON_PrintUnformatted(name) : NULL;
    cJSON_Delete(name);
    if (!rd.qname)
        return SB_ERR_NOMEM;
    sb_err rc = SB_OK;
    size_t pos = 0;
    while (rc == SB_OK && pos < len) {
        const char *nl = memchr(data + pos, '\n', len - pos);
        if (!nl) {
            out->torn = true; /* a write cut short: never acknowledged, nothing to keep */
            break;
        }
        rc = parse_line(&rd, data + pos, (size_t)(nl - (data + pos)));
        pos = (size_t)(nl - data) + 1;
    }
    free(rd.qname);
    return rc;
}

void sb_stream_journal_replay_free(sb_stream_journal_replay *r)
{
    for (size_t i = 0; i < r->n_frames; i++)
        free(r->frames[i].text);
    for (size_t i = 0; i < r->n_items; i++)
        free(r->items[i]);
    free(r->frames);
    free(r->items);
    memset(r, 0, sizeof(*r));
}

char *sb_stream_journal_envelope(const char *qname, int64_t epoch, int64_t seq, const char *items,
                                 size_t items_len, size_t *len)
{
    size_t qlen = strlen(qname), cap = qlen + items_len + 96;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    int k = snprintf(out, cap, "{\"stream\":%s,\"epoch\":%lld,\"seq\":%lld,\"items\":[", qname,
                     (long long)epoch, (long long)seq);
    memcpy(out + k, items, items_len);
    memcpy(out + k + items_len, "]}", 3);
    *len = (size_t)k + items_len + 2;
    return out;
}

/* ---- writing ----------------------------------------------------------------------------- */

static sb_err append(sb_stream_journal *j, const char *buf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(j->fd, buf + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return SB_ERR_IO;
        done += (size_t)w;
    }
    j->size += n;
    if (j->sync && fdatasync(j->fd) != 0)
        return SB_ERR_IO;
    return SB_OK;
}

/* One record "<kind> <text>\n" in one write; a '\n' in text (JSON white space, as a line end
 * inside a string is not valid JSON) becomes a space so the record stays one line. */
static sb_err append_text(sb_stream_journal *j, char kind, const char *text, size_t len)
{
    char small[1024];
    char *buf = len + 3 <= sizeof(small) ? small : malloc(len + 3);
    if (!buf)
        return SB_ERR_NOMEM;
    buf[0] = kind;
    buf[1] = ' ';
    for (size_t i = 0; i < len; i++)
        buf[2 + i] = text[i] == '\n' ? ' ' : text[i];
    buf[len + 2] = '\n';
    sb_err rc = append(j, buf, len + 3);
    if (buf != small)
        free(buf);
    return rc;
}

sb_err sb_stream_journal_item(sb_stream_journal *j, const char *item, size_t len)
{
    return append_text(j, 'i', item, len);
}

sb_err sb_stream_journal_sealed(sb_stream_journal *j, int64_t epoch, int64_t seq, size_t n)
{
    char buf[96];
    int k = snprintf(buf, sizeof(buf), "f %lld %lld %zu\n", (long long)epoch, (long long)seq, n);
    return append(j, buf, (size_t)k);
}

sb_err sb_stream_journal_acked(sb_stream_journal *j, int64_t epoch, int64_t seq)
{
    char buf[96];
    int k = snprintf(buf, sizeof(buf), "a %lld %lld\n", (long long)epoch, (long long)seq);
    return append(j, buf, (size_t)k);
}

static int open_append(const char *path)
{
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
}

sb_err sb_stream_journal_rewrite(sb_stream_journal *j, const sb_stream_journal_rec *recs, size_t n)
{
    if (n == 0) {
        if (ftruncate(j->fd, 0) != 0)
            return SB_ERR_IO;
        j->size = 0;
        return SB_OK;
    }
    int fd = open(j->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return SB_ERR_IO;
    sb_stream_journal tmp = {.fd = fd, .sync = false};
    sb_err rc = SB_OK;
    for (size_t i = 0; rc == SB_OK && i < n; i++)
        rc = append_text(&tmp, recs[i].kind, recs[i].text, recs[i].len);
    if (rc == SB_OK && j->sync && fsync(fd) != 0)
        rc = SB_ERR_IO;
    /* The lock is on the old file's inode: take it on the new one before it replaces it. */
    if (rc == SB_OK && flock(fd, LOCK_EX | LOCK_NB) != 0)
        rc = SB_ERR_IO;
    if (rc == SB_OK && rename(j->tmp, j->path) != 0)
        rc = SB_ERR_IO;
    if (rc != SB_OK) {
        close(fd);
        unlink(j->tmp);
        return rc;
    }
    close(j->fd);
    j->fd = fd;
    j->size = tmp.size;
    return SB_OK;
}

static sb_err read_all(int fd, char **out, size_t *len)
{
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n == cap) {
            char *t = realloc(buf, cap * 2);
            if (!t)
                break;
            buf = t;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            free(buf);
            return SB_ERR_IO;
        }
        if (r == 0) {
            *out = buf;
            *len = n;
            return SB_OK;
        }
        n += (size_t)r;
    }
    free(buf);
    return SB_ERR_NOMEM;
}

sb_err sb_stream_journal_open(const char *dir, const char *stream, bool sync,
                              sb_stream_journal **out, sb_stream_journal_replay *replay,
                              sb_errmsg *em)
{
    *out = NULL;
    memset(replay, 0, sizeof(*replay));
    sb_stream_journal *j = calloc(1, sizeof(*j));
    if (!j)
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    j->fd = -1;
    j->sync = sync;
    snprintf(j->path, sizeof(j->path), "%s/%s.journal", dir, stream);
    snprintf(j->tmp, sizeof(j->tmp), "%s.tmp", j->path);
    sb_err rc = sb_mkdirs(dir, em);
    if (rc != SB_OK)
        goto fail;
    j->fd = open_append(j->path);
    int rfd = j->fd >= 0 ? open(j->path, O_RDONLY | O_CLOEXEC) : -1;
    if (rfd < 0) {
        rc = sb_fail(em, SB_ERR_IO, "journal %s: %s", j->path, strerror(errno));
        goto fail;
    }
    if (flock(j->fd, LOCK_EX | LOCK_NB) != 0) {
        close(rfd);
        rc = sb_fail(em, SB_ERR_BUSY, "journal %s is in use by another process", j->path);
        goto fail;
    }
    char *data = NULL;
    size_t len = 0;
    rc = read_all(rfd, &data, &len);
    close(rfd);
    if (rc == SB_OK)
        rc = sb_stream_journal_parse(data, len, stream, replay);
    free(data);
    if (rc != SB_OK) {
        rc = sb_fail(em, rc, "journal %s: cannot read it", j->path);
        goto fail;
    }
    j->size = len;
    *out = j;
    return SB_OK;
fail:
    sb_stream_journal_replay_free(replay);
    sb_stream_journal_close(j, false);
    return rc;
}

size_t sb_stream_journal_size(const sb_stream_journal *j)
{
    return j->size;
}

void sb_stream_journal_close(sb_stream_journal *j, bool remove_empty)
{
    if (!j)
        return;
    if (j->fd >= 0) {
        if (remove_empty && j->size == 0)
            unlink(j->path);
        close(j->fd);
    }
    free(j);
}
