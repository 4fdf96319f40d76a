/*
 * mem_journal.c - the memory store's files in its directory:
 *   journal    append-only records, each [u32 length][u32 CRC32 of payload][payload], little
 *              endian; the payload is a JSON array of ops (storage/memory/memory.c)
 *   snapshot   the same framing, written whole to snapshot.tmp, fsynced and renamed
 *   lock       flock()ed by the one process that owns the directory; holds its pid
 */
#include "storage/memory/memory.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* CRC-32 (IEEE 802.3, reflected 0xEDB88320), table-driven: 20 lines instead of a zlib
 * dependency for one function. */
static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

uint32_t mem_crc32(const void *buf, size_t n)
{
    pthread_once(&crc_once, crc_init);
    const uint8_t *p = buf;
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++)
        c = crc_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

enum { HDR = 8, MAX_RECORD = 1 << 30 };

sb_err mem_log_append(int fd, const char *payload, size_t len, sb_errmsg *em)
{
    if (len > MAX_RECORD)
        return sb_fail(em, SB_ERR_TOO_LARGE, "journal record of %zu bytes is over 1 GiB", len);
    uint8_t *buf = malloc(HDR + len);
    if (!buf)
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    put_u32(buf, (uint32_t)len);
    put_u32(buf + 4, mem_crc32(payload, len));
    memcpy(buf + HDR, payload, len);
    /* One write() per record: a kill -9 leaves either the whole record in the page cache or,
     * at worst, a short tail that replay cuts off. */
    size_t done = 0;
    while (done < HDR + len) {
        ssize_t w = write(fd, buf + done, HDR + len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            free(buf);
            return sb_fail(em, SB_ERR_IO, "journal write: %s", strerror(e));
        }
        done += (size_t)w;
    }
    free(buf);
    return SB_OK;
}

static sb_err read_all(const char *path, char **out, size_t *len, sb_errmsg *em)
{
    *out = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? SB_OK : sb_fail(em, SB_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat st;
    char *buf = NULL;
    size_t got = 0;
    if (fstat(fd, &st) != 0 || !(buf = malloc((size_t)st.st_size + 1)))
        goto fail;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    *out = buf;
    *len = got;
    return SB_OK;
fail:
    close(fd);
    free(buf);
    return sb_fail(em, SB_ERR_IO, "%s: %s", path, strerror(errno));
}

/* The size of a valid record at off, or 0. */
static size_t valid_record(const char *buf, size_t len, size_t off)
{
    if (len - off < HDR)
        return 0;
    uint32_t n = get_u32((const uint8_t *)buf + off);
    if (n > len - off - HDR)
        return 0;
    if (get_u32((const uint8_t *)buf + off + 4) != mem_crc32(buf + off + HDR, n))
        return 0;
    return HDR + n;
}

/* A bad record that is followed by a valid one is damage in the middle, not a torn tail. */
static bool valid_after(const char *buf, size_t len, size_t off)
{
    if (len - off < HDR)
        return false;
    uint32_t n = get_u32((const uint8_t *)buf + off);
    size_t next = off + HDR + n;
    return n <= len - off - HDR && next < len && valid_record(buf, len, next) > 0;
}

sb_err mem_log_replay(const char *path, bool strict, mem_apply_fn apply, void *ctx, size_t *skipped,
                      sb_errmsg *em)
{
    char *buf;
    size_t len, off = 0, rec;
    *skipped = 0;
    sb_err err = read_all(path, &buf, &len, em);
    if (err)
        return err;
    while (off < len && (rec = valid_record(buf, len, off)) > 0) {
        err = apply(ctx, buf + off + HDR, rec - HDR, em);
        if (err) {
            err = sb_fail_wrap(em, err, "%s: record at byte %zu", path, off);
            goto done;
        }
        off += rec;
    }
    if (off < len) {
        if (strict || valid_after(buf, len, off)) {
            err = sb_fail(em, SB_ERR_IO,
                          "%s: corrupt record at byte %zu of %zu with data after it; "
                          "refusing to drop it (move the file aside to start without it)",
                          path, off, len);
            goto done;
        }
        /* Torn tail: cut it so new records do not follow garbage. */
        if (truncate(path, (off_t)off) != 0) {
            err = sb_fail(em, SB_ERR_IO, "%s: truncate: %s", path, strerror(errno));
            goto done;
        }
        *skipped = len - off;
    }
done:
    free(buf);
    return err;
}

void mem_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

sb_err mem_snapshot_begin(const char *dir, int *fd, sb_errmsg *em)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/snapshot.tmp", dir);
    *fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (*fd < 0)
        return sb_fail(em, SB_ERR_IO, "%s: %s", path, strerror(errno));
    return SB_OK;
}

sb_err mem_snapshot_commit(const char *dir, int fd, sb_errmsg *em)
{
    char tmp[4096], path[4096];
    snprintf(tmp, sizeof(tmp), "%s/snapshot.tmp", dir);
    snprintf(path, sizeof(path), "%s/snapshot", dir);
    if (fsync(fd) != 0) {
        sb_err err = sb_fail(em, SB_ERR_IO, "%s: fsync: %s", tmp, strerror(errno));
        mem_snapshot_abort(dir, fd);
        return err;
    }
    close(fd);
    if (rename(tmp, path) != 0)
        return sb_fail(em, SB_ERR_IO, "rename %s: %s", tmp, strerror(errno));
    mem_fsync_dir(dir);
    return SB_OK;
}

void mem_snapshot_abort(const char *dir, int fd)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s/snapshot.tmp", dir);
    if (fd >= 0)
        close(fd);
    unlink(tmp);
}

sb_err mem_lock(const char *dir, int *fd, sb_errmsg *em)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/lock", dir);
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (*fd < 0)
        return sb_fail(em, SB_ERR_IO, "%s: %s", path, strerror(errno));
    if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        char pid[32] = "";
        ssize_t r = pread(*fd, pid, sizeof(pid) - 1, 0);
        pid[r > 0 ? r : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        close(*fd);
        *fd = -1;
        if (e != EWOULDBLOCK)
            return sb_fail(em, SB_ERR_IO, "%s: flock: %s", path, strerror(e));
        return sb_fail(em, SB_ERR_BUSY,
                       "memory store %s is in use by process %s; the memory store serves one "
                       "process (use sqlite or mongodb to share a store)",
                       dir, pid[0] ? pid : "(unknown)");
    }
    char pid[32];
    int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(*fd, 0) != 0 || pwrite(*fd, pid, (size_t)n, 0) != n) {
        /* the lock holds without the pid; the pid only makes the error message better */
    }
    return SB_OK;
}

sb_err mem_mkdirs(const char *path, sb_errmsg *em)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof(buf))
        return sb_fail(em, SB_ERR_INVALID, "directory path '%s' is empty or too long", path);
    memcpy(buf, path, n + 1);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, 0750) != 0 && errno != EEXIST)
                return sb_fail(em, SB_ERR_IO, "mkdir %s: %s", buf, strerror(errno));
            *p = c;
            if (!c)
                break;
        }
    }
    return SB_OK;
}
