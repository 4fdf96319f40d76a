/*
 * writer.c - sb_influx: the RAM queue, the bound, and the writer thread (see influx.h).
 */
#include "storage/influxdb/influx.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/time.h"
#include "storage/influxdb/line.h"
#include "storage/influxdb/spool.h"

#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 2000

typedef struct line {
    char *text; /* one encoded point ending with '\n' (owned) */
    size_t len;
} line;

struct sb_influx {
    sb_influx_conn conn;
    size_t batch_size, buffer_max;
    int64_t flush_interval_ms;
    bool use_spool;
    sb_spool spool;

    pthread_mutex_t mu;
    pthread_cond_t wake; /* the writer waits on it */
    pthread_cond_t idle; /* flushers wait on it */
    pthread_t thread;
    bool thread_started, stop;
    int flush_waiters, sync_waiters;

    line *ring; /* RAM queue, oldest at head */
    size_t head, count, cap;
    int64_t batch_started_ms; /* when the oldest unsent RAM point arrived */

    /* The request in flight: RAM lines (the first inflight_left of the ring) or a segment. */
    size_t inflight_left, inflight_dropped;
    uint64_t sending_seg;
    bool sending_from_spool;

    bool db_ready;
    int64_t backoff_ms, retry_at_ms;
    sb_metrics_stats st;
    CURL *curl;
};

const sb_influx_conn *sb_influx_conn_of(const sb_influx *x)
{
    return &x->conn;
}

/* ---- the RAM ring (callers hold mu) ---- */

static line *ring_at(sb_influx *x, size_t i)
{
    return &x->ring[(x->head + i) % x->cap];
}

static sb_err ring_push(sb_influx *x, line l)
{
    if (x->count == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 1024;
        line *r = malloc(cap * sizeof(*r));
        if (!r)
            return SB_ERR_NOMEM;
        for (size_t i = 0; i < x->count; i++)
            r[i] = *ring_at(x, i);
        free(x->ring);
        x->ring = r;
        x->cap = cap;
        x->head = 0;
    }
    *ring_at(x, x->count++) = l;
    return SB_OK;
}

static void ring_pop(sb_influx *x, size_t n)
{
    for (; n > 0 && x->count > 0; n--) {
        free(ring_at(x, 0)->text);
        x->head = (x->head + 1) % x->cap;
        x->count--;
    }
}

static uint64_t buffered(const sb_influx *x)
{
    return x->count + (x->use_spool ? x->spool.total : 0);
}

/* Makes room for one point by dropping the oldest: a disk segment not being sent, else the
 * head of RAM (which may be in flight: if that request succeeds the drop is undone). */
static bool drop_oldest(sb_influx *x)
{
    if (x->use_spool) {
        for (size_t i = 0; i < x->spool.n; i++) {
            uint64_t id = x->spool.segs[i].id;
            if (x->sending_from_spool && id == x->sending_seg)
                continue;
            x->st.dropped += sb_spool_remove(&x->spool, id);
            return true;
        }
    }
    if (x->count > 0) {
        if (x->inflight_left > 0) {
            x->inflight_left--;
            x->inflight_dropped++;
        }
        ring_pop(x, 1);
        x->st.dropped++;
        return true;
    }
    return false;
}

sb_err sb_influx_write(sb_influx *x, const sb_metric_point *p)
{
    sb_lp_buf b = {0};
    sb_err rc = sb_lp_encode(p, &b, NULL);
    if (rc != SB_OK)
        return rc;
    pthread_mutex_lock(&x->mu);
    while (buffered(x) >= x->buffer_max) {
        if (!drop_oldest(x)) { /* only the segment in flight is left: the new point goes */
            x->st.dropped++;
            pthread_mutex_unlock(&x->mu);
            free(b.data);
            return SB_OK;
        }
    }
    if (x->count == 0)
        x->batch_started_ms = sb_time_mono_ms();
    rc = ring_push(x, (line){b.data, b.len});
    if (rc != SB_OK)
        free(b.data);
    if (x->count >= x->batch_size)
        pthread_cond_signal(&x->wake);
    pthread_mutex_unlock(&x->mu);
    return rc;
}

/* ---- the writer thread ---- */

__attribute__((format(printf, 2, 3))) static void set_error(sb_influx *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->st.last_error, sizeof(x->st.last_error), fmt, ap);
    va_end(ap);
}

static void went_wrong(sb_influx *x)
{
    x->st.failures++;
    x->st.healthy = false;
    x->backoff_ms = x->backoff_ms ? x->backoff_ms * 2 : BACKOFF_MIN_MS;
    if (x->backoff_ms > BACKOFF_MAX_MS)
        x->backoff_ms = BACKOFF_MAX_MS;
    x->retry_at_ms = sb_time_mono_ms() + x->backoff_ms;
}

static void went_right(sb_influx *x)
{
    x->st.healthy = true;
    x->backoff_ms = 0;
    x->retry_at_ms = 0;
}

/* "... dropped=N" in a 1.x partial-write answer; -1 when absent. */
static long long partial_dropped(const char *resp)
{
    const char *d = resp ? strstr(resp, "dropped=") : NULL;
    return d ? strtoll(d + 8, NULL, 10) : -1;
}

static void write_url(sb_influx *x, char *out, size_t n)
{
    sb_lp_buf q = {0};
    if (x->conn.version == 2) {
        sb_lp_buf_append(&q, "/api/v2/write?org=", 18);
        sb_influx_urlenc(&q, x->conn.org);
        sb_lp_buf_append(&q, "&bucket=", 8);
        sb_influx_urlenc(&q, x->conn.bucket);
    } else {
        sb_lp_buf_append(&q, "/write?db=", 10);
        sb_influx_urlenc(&q, x->conn.database);
    }
    snprintf(out, n, "%s%s&precision=ms", x->conn.url, q.data ? q.data : "");
    sb_lp_buf_free(&q);
}

typedef enum { SENT_OK, SENT_REJECTED, SENT_RETRY } sent;

/* POSTs one batch of n points (without the lock). *bad gets the points refused. */
static sent post(sb_influx *x, const char *body, size_t len, size_t n, size_t *bad)
{
    char url[1200];
    write_url(x, url, sizeof(url));
    sb_lp_buf resp = {0};
    sb_errmsg em = {0};
    long status = 0;
    sb_err rc = sb_influx_http(x->curl, url, "text/plain; charset=utf-8", body, len, &x->conn.auth,
                               x->conn.timeout_ms, &status, &resp, &em);
    sent r = SENT_RETRY;
    *bad = 0;
    pthread_mutex_lock(&x->mu);
    if (rc != SB_OK) {
        set_error(x, "%s", em.text);
    } else if (status >= 200 && status < 300) {
        r = SENT_OK;
    } else if (status == 400 || status == 413) {
        long long d = partial_dropped(resp.data);
        *bad = d >= 0 && (size_t)d <= n ? (size_t)d : n;
        r = SENT_REJECTED;
        set_error(x, "InfluxDB refused points: %.200s", resp.data ? resp.data : "");
    } else {
        if (status == 404 && resp.data && strstr(resp.data, "database not found"))
            x->db_ready = false;
        char t[240];
        snprintf(t, sizeof(t), "HTTP %ld: %.200s", status, resp.data ? resp.data : "");
        set_error(x, "InfluxDB write failed: %s", t);
    }
    pthread_mutex_unlock(&x->mu);
    sb_lp_buf_free(&resp);
    return r;
}

/* Accounts a finished request of n points (lock held). */
static void settle(sb_influx *x, sent r, size_t n, size_t bad)
{
    if (r == SENT_RETRY) {
        went_wrong(x);
        return;
    }
    went_right(x);
    x->st.written += n - bad;
    x->st.rejected += bad;
}

/* 1.x: CREATE DATABASE (idempotent) before the first write and after "database not found". */
static bool ensure_db(sb_influx *x)
{
    if (x->conn.version == 2 || x->db_ready)
        return true;
    pthread_mutex_unlock(&x->mu);
    sb_lp_buf u = {0}, q = {0};
    sb_lp_buf_printf(&q, "CREATE DATABASE \"%s\"", x->conn.database);
    sb_lp_buf_printf(&u, "%s/query?q=", x->conn.url);
    sb_influx_urlenc(&u, q.data);
    long status = 0;
    sb_errmsg em = {0};
    sb_err rc = sb_influx_http(x->curl, u.data, "application/x-www-form-urlencoded", "", 0,
                               &x->conn.auth, x->conn.timeout_ms, &status, NULL, &em);
    sb_lp_buf_free(&u);
    sb_lp_buf_free(&q);
    pthread_mutex_lock(&x->mu);
    if (rc == SB_OK && status == 200) {
        x->db_ready = true;
        return true;
    }
    char t[64];
    snprintf(t, sizeof(t), "HTTP %ld", status);
    set_error(x, "InfluxDB CREATE DATABASE failed: %s", rc != SB_OK ? em.text : t);
    went_wrong(x);
    return false;
}

/* Sends the oldest disk segment (lock held on entry and exit). */
static void send_segment(sb_influx *x)
{
    uint64_t id = x->spool.segs[0].id;
    size_t n = x->spool.segs[0].count;
    x->sending_seg = id;
    x->sending_from_spool = true;
    char *body = NULL;
    size_t len = 0;
    sb_errmsg em = {0};
    sent r = SENT_RETRY;
    size_t bad = 0;
    if (sb_spool_read(&x->spool, id, &body, &len, &em) != SB_OK) {
        set_error(x, "%s", em.text);
        x->st.dropped += sb_spool_remove(&x->spool, id); /* unreadable: cannot be sent */
    } else {
        pthread_mutex_unlock(&x->mu);
        r = post(x, body, len, n, &bad);
        pthread_mutex_lock(&x->mu);
        bool still_there = x->spool.n > 0 && x->spool.segs[0].id == id;
        settle(x, r, n, bad);
        if (r != SENT_RETRY && still_there)
            sb_spool_remove(&x->spool, id);
    }
    x->sending_from_spool = false;
    free(body);
}

/* Sends up to batch_size RAM points (lock held on entry and exit). */
static void send_ram(sb_influx *x)
{
    size_t n = x->count < x->batch_size ? x->count : x->batch_size;
    sb_lp_buf body = {0};
    for (size_t i = 0; i < n; i++) {
        line *l = ring_at(x, i);
        if (sb_lp_buf_append(&body, l->text, l->len) != SB_OK) {
            n = i;
            break;
        }
    }
    x->inflight_left = n;
    x->inflight_dropped = 0;
    x->batch_started_ms = sb_time_mono_ms();
    pthread_mutex_unlock(&x->mu);
    size_t bad = 0;
    sent r = post(x, body.data, body.len, n, &bad);
    sb_lp_buf_free(&body);
    pthread_mutex_lock(&x->mu);
    settle(x, r, n, bad);
    if (r != SENT_RETRY) {
        x->st.dropped -= x->inflight_dropped; /* they were written or rejected after all */
        ring_pop(x, x->inflight_left);
    }
    x->inflight_left = x->inflight_dropped = 0;
}

/* While the server is down, RAM points move to disk (lock held). */
static void spill(sb_influx *x)
{
    if (!x->use_spool || x->count == 0)
        return;
    sb_lp_buf b = {0};
    size_t n = x->count;
    for (size_t i = 0; i < n; i++) {
        line *l = ring_at(x, i);
        if (sb_lp_buf_append(&b, l->text, l->len) != SB_OK) {
            n = i;
            break;
        }
    }
    sb_errmsg em = {0};
    if (n > 0 && sb_spool_append(&x->spool, b.data, b.len, n, &em) == SB_OK)
        ring_pop(x, n);
    else if (em.text[0])
        set_error(x, "%s", em.text);
    sb_lp_buf_free(&b);
}

/* Whether there is something to send now; *wait_ms gets how long to sleep otherwise. */
static bool due(sb_influx *x, int64_t *wait_ms)
{
    int64_t now = sb_time_mono_ms();
    if (x->retry_at_ms > now) {
        *wait_ms = x->retry_at_ms - now;
        return false;
    }
    if (x->use_spool && x->spool.n > 0)
        return true;
    if (x->count == 0) {
        *wait_ms = 1000;
        return false;
    }
    if (x->count >= x->batch_size || x->flush_waiters > 0 || x->stop)
        return true;
    int64_t left = x->batch_started_ms + x->flush_interval_ms - now;
    *wait_ms = left;
    return left <= 0;
}

static void wait_ms_on(pthread_cond_t *c, pthread_mutex_t *mu, int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(c, mu, &ts);
}

static void *writer_main(void *arg)
{
    sb_influx *x = arg;
    pthread_mutex_lock(&x->mu);
    while (!x->stop) {
        int64_t wait = 0;
        if (!due(x, &wait)) {
            if (!x->st.healthy && x->st.failures > 0)
                spill(x);
            if (buffered(x) == 0 || (x->sync_waiters > 0 && x->count == 0))
                pthread_cond_broadcast(&x->idle);
            wait_ms_on(&x->wake, &x->mu, wait > 0 ? wait : 1);
            continue;
        }
        if (!ensure_db(x))
            continue;
        if (x->use_spool && x->spool.n > 0)
            send_segment(x);
        else
            send_ram(x);
        pthread_cond_broadcast(&x->idle);
    }
    pthread_mutex_unlock(&x->mu);
    return NULL;
}

/* ---- open, flush, stats, close ---- */

static char *dup_trim(const char *s)
{
    char *d = strdup(s ? s : "");
    size_t n = d ? strlen(d) : 0;
    while (d && n > 0 && d[n - 1] == '/')
        d[--n] = '\0';
    return d;
}

static sb_err init_conn(sb_influx *x, const sb_config_metrics *cfg, const char *url)
{
    sb_influx_conn *c = &x->conn;
    c->url = dup_trim(url);
    c->database = strdup(cfg->database ? cfg->database : "switchboard");
    c->org = strdup(cfg->org ? cfg->org : "");
    c->bucket = strdup(cfg->bucket && *cfg->bucket ? cfg->bucket : c->database ? c->database : "");
    c->version = cfg->version == 2 ? 2 : 1;
    c->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 5000;
    c->auth.username = strdup(cfg->username ? cfg->username : "");
    c->auth.password = strdup(cfg->password ? cfg->password : "");
    c->auth.token = strdup(cfg->token ? cfg->token : "");
    if (!c->url || !c->database || !c->org || !c->bucket || !c->auth.username ||
        !c->auth.password || !c->auth.token)
        return SB_ERR_NOMEM;
    return SB_OK;
}

sb_err sb_influx_open(const sb_config_metrics *cfg, const char *url, sb_influx **out, sb_errmsg *em)
{
    *out = NULL;
    if (!url || !*url)
        return sb_fail(em, SB_ERR_INVALID,
                       "metrics.url is empty: name an InfluxDB server or start the managed one");
    if (cfg->version == 2 && (!cfg->org || !*cfg->org))
        return sb_fail(em, SB_ERR_INVALID, "metrics.org is required with metrics.version 2");
    sb_influx *x = calloc(1, sizeof(*x));
    if (!x)
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&x->mu, NULL);
    pthread_cond_init(&x->wake, NULL);
    pthread_cond_init(&x->idle, NULL);
    x->batch_size = cfg->batch_size > 0 ? (size_t)cfg->batch_size : 5000;
    x->buffer_max = cfg->buffer_max > 0 ? (size_t)cfg->buffer_max : 1000000;
    x->flush_interval_ms = cfg->flush_interval_ms > 0 ? cfg->flush_interval_ms : 1000;
    sb_err rc = init_conn(x, cfg, url);
    if (rc != SB_OK) {
        sb_fail(em, rc, "out of memory");
        goto fail;
    }
    if (cfg->buffer_dir && *cfg->buffer_dir) {
        if ((rc = sb_spool_open(&x->spool, cfg->buffer_dir, x->batch_size, em)) != SB_OK)
            goto fail;
        x->use_spool = true;
        x->st.dropped = x->spool.torn; /* a torn line is a lost point; say so */
    }
    if (!(x->curl = curl_easy_init())) {
        rc = sb_fail(em, SB_ERR_NOMEM, "curl_easy_init failed");
        goto fail;
    }
    if (pthread_create(&x->thread, NULL, writer_main, x) != 0) {
        rc = sb_fail(em, SB_ERR_IO, "cannot start the metrics writer thread");
        goto fail;
    }
    x->thread_started = true;
    *out = x;
    return SB_OK;
fail:
    sb_influx_close(x, 0);
    return rc;
}

static bool drained(const sb_influx *x)
{
    return buffered(x) == 0;
}

sb_err sb_influx_flush(sb_influx *x, int64_t timeout_ms)
{
    int64_t deadline = sb_time_mono_ms() + timeout_ms;
    pthread_mutex_lock(&x->mu);
    x->flush_waiters++;
    pthread_cond_signal(&x->wake);
    while (!drained(x) && sb_time_mono_ms() < deadline) {
        int64_t left = deadline - sb_time_mono_ms();
        wait_ms_on(&x->idle, &x->mu, left < 50 ? left : 50);
    }
    x->flush_waiters--;
    bool ok = drained(x);
    pthread_mutex_unlock(&x->mu);
    return ok ? SB_OK : SB_ERR_TIMEOUT;
}

/*
 * Durable: nothing is left in RAM, so every point is on the server or in the (fsynced) spool.
 * The writer thread does the spilling, so a segment is never appended to while it is sent.
 */
sb_err sb_influx_sync(sb_influx *x, int64_t timeout_ms)
{
    int64_t deadline = sb_time_mono_ms() + timeout_ms;
    pthread_mutex_lock(&x->mu);
    x->flush_waiters++;
    x->sync_waiters++;
    pthread_cond_signal(&x->wake);
    while (x->count > 0 && sb_time_mono_ms() < deadline) {
        int64_t left = deadline - sb_time_mono_ms();
        wait_ms_on(&x->idle, &x->mu, left < 50 ? left : 50);
    }
    x->flush_waiters--;
    x->sync_waiters--;
    bool ok = x->count == 0;
    pthread_mutex_unlock(&x->mu);
    return ok ? SB_OK : SB_ERR_TIMEOUT;
}

void sb_influx_stats(sb_influx *x, sb_metrics_stats *out)
{
    pthread_mutex_lock(&x->mu);
    *out = x->st;
    out->buffered = buffered(x);
    pthread_mutex_unlock(&x->mu);
}

static void free_conn(sb_influx_conn *c)
{
    free(c->url);
    free(c->database);
    free(c->org);
    free(c->bucket);
    free((char *)c->auth.username);
    free((char *)c->auth.password);
    free((char *)c->auth.token);
}

void sb_influx_close(sb_influx *x, int64_t drain_ms)
{
    if (!x)
        return;
    if (x->thread_started) {
        if (drain_ms > 0)
            sb_influx_flush(x, drain_ms);
        pthread_mutex_lock(&x->mu);
        x->stop = true;
        pthread_cond_signal(&x->wake);
        pthread_mutex_unlock(&x->mu);
        pthread_join(x->thread, NULL);
    }
    /* What is still in RAM survives on disk when there is a spool; otherwise it is lost. */
    if (x->use_spool)
        spill(x);
    ring_pop(x, x->count);
    free(x->ring);
    sb_spool_close(&x->spool);
    if (x->curl)
        curl_easy_cleanup(x->curl);
    free_conn(&x->conn);
    pthread_cond_destroy(&x->idle);
    pthread_cond_destroy(&x->wake);
    pthread_mutex_destroy(&x->mu);
    free(x);
}
