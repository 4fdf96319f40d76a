/*
 * stream_producer.c - the producer side of a stream (stream.h): batching into numbered frames,
 * a bounded window of unacknowledged frames, resends after reconnect, timeout or gap.
 *
 * One mutex guards everything; a timer thread seals frames whose batch delay passed and resends
 * what waited too long. The ack handler runs on paho's receive thread, which holds paho's own
 * lock while it runs, and publishing under our mutex takes paho's lock: so the handler never
 * takes our mutex. It only records the highest ack (and a gap report) in atomics, which the
 * timer and the API calls absorb under the mutex.
 */
#include "core/stream.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/time.h"

typedef struct frame {
    int64_t seq;
    char *text; /* the encoded envelope, published as is on every (re)send */
    size_t len;
    int64_t sent_at; /* monotonic ms of the last publish; 0 = not published yet */
} frame;

struct sb_stream_producer {
    sb_bus *bus;
    char stream[SB_STREAM_NAME_MAX];
    char *qname; /* the stream name as a JSON string */
    char topic[512];
    char ack_topic[512];
    size_t batch_max, max_frames;
    int64_t batch_delay_ms, resend_ms;

    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t timer;
    bool timer_running, stopping;

    /* The frame being filled: its items as JSON text separated by commas (printed once, when
     * added; a frame is sealed by wrapping the envelope around this text). */
    char *open;
    size_t open_len, open_cap, open_n; /* open_n == 0: no open frame */
    int64_t open_deadline;             /* monotonic ms when the open frame must be sealed */
    int64_t last_seal;                 /* monotonic ms of the last frame sealed */
    frame *ring; /* unacked frames, oldest first: ring[(head + i) % max_frames] */
    size_t head, count;
    int64_t next_seq, acked;
    uint64_t last_connects;
    int64_t last_gap_resend;
    sb_stream_producer_stats st;
    _Atomic int64_t ack_in; /* highest seq acked by the consumer, not yet absorbed */
    atomic_bool gap_in;     /* the consumer reported a hole */
    atomic_uint_fast64_t acks_in;
};

/* ---- with p->mu held --------------------------------------------------------------------- */

static frame *at(sb_stream_producer *p, size_t i)
{
    return &p->ring[(p->head + i) % p->max_frames];
}

static void publish_frame(sb_stream_producer *p, frame *f, bool resend)
{
    if (sb_bus_publish(p->bus, p->topic, f->text, f->len, 1, false) != SB_OK)
        return; /* bus queue full: the timer tries again */
    f->sent_at = sb_time_mono_ms();
    p->st.published++;
    if (resend)
        p->st.resent++;
}

/* The frame's text: the envelope of stream.h around the items (sb_stream_encode's form). */
static char *envelope(sb_stream_producer *p, int64_t seq, size_t *len)
{
    char head[SB_STREAM_NAME_MAX * 6 + 96];
    int k = snprintf(head, sizeof(head), "{\"stream\":%s,\"epoch\":%lld,\"seq\":%lld,\"items\":[",
                     p->qname, (long long)p->st.epoch, (long long)seq);
    size_t n = (size_t)k + p->open_len + 2;
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    memcpy(out, head, (size_t)k);
    memcpy(out + k, p->open, p->open_len);
    memcpy(out + k + p->open_len, "]}", 3);
    *len = n;
    return out;
}

/* Turns the open items into the next numbered frame and publishes it. */
static sb_err seal(sb_stream_producer *p)
{
    if (!p->open_n)
        return SB_OK;
    if (p->count == p->max_frames)
        return SB_ERR_FULL;
    frame *f = at(p, p->count);
    f->text = envelope(p, p->next_seq, &f->len);
    if (!f->text)
        return SB_ERR_NOMEM;
    f->seq = p->next_seq++;
    f->sent_at = 0;
    p->count++;
    p->st.frames++;
    p->open_len = p->open_n = 0;
    p->last_seal = sb_time_mono_ms();
    publish_frame(p, f, false);
    pthread_cond_broadcast(&p->cv);
    return SB_OK;
}

static void resend_all(sb_stream_producer *p)
{
    for (size_t i = 0; i < p->count; i++)
        publish_frame(p, at(p, i), at(p, i)->sent_at != 0);
}

static void release_upto(sb_stream_producer *p, int64_t seq)
{
    while (p->count && at(p, 0)->seq <= seq) {
        SB_FREE(at(p, 0)->text);
        p->head = (p->head + 1) % p->max_frames;
        p->count--;
    }
    if (seq > p->acked)
        p->acked = seq;
}

/* Applies what on_ack recorded. */
static void absorb_acks(sb_stream_producer *p)
{
    int64_t seq = atomic_load(&p->ack_in);
    if (seq > p->acked)
        release_upto(p, seq);
    p->st.acks = atomic_load(&p->acks_in);
    if (atomic_exchange(&p->gap_in, false) && p->count) {
        int64_t now = sb_time_mono_ms();
        if (now - p->last_gap_resend >= 100) {
            p->last_gap_resend = now; /* one resend answers a burst of gap reports */
            resend_all(p);
        }
    }
    pthread_cond_broadcast(&p->cv);
}

/* ---- timer ------------------------------------------------------------------------------- */

/*
 * Whether the open frame may go before its deadline because the pipe is idle: no frame waits
 * for its ack, and the last frame left at least half a batch delay ago. The spacing keeps a
 * steady moderate rate from turning into one frame (one commit at the consumer) per item:
 * at 1k items/s and the default 5 ms, frames of 2-3 items instead of 1.
 */
static bool idle(const sb_stream_producer *p, int64_t now)
{
    return p->count == 0 && now - p->last_seal >= p->batch_delay_ms / 2;
}

static void tick(sb_stream_producer *p, int64_t now)
{
    absorb_acks(p);
    if (p->open_n && (now >= p->open_deadline || idle(p, now)))
        seal(p);
    sb_bus_stats bs;
    sb_bus_get_stats(p->bus, &bs);
    if (bs.connects != p->last_connects && bs.connected) {
        p->last_connects = bs.connects; /* a reconnect: the session may have lost frames */
        resend_all(p);
        return;
    }
    if (p->count && (at(p, 0)->sent_at == 0 || now - at(p, 0)->sent_at >= p->resend_ms))
        resend_all(p);
}

static void *timer_main(void *arg)
{
    sb_stream_producer *p = arg;
    /* half the batch delay: an idle pipe's spacing (see idle()) ends on time */
    int64_t step = p->batch_delay_ms > 1 ? p->batch_delay_ms / 2 : 1;
    if (step > 50)
        step = 50;
    pthread_mutex_lock(&p->mu);
    while (!p->stopping) {
        struct timespec ts;
        sb_time_mono_deadline(step, &ts);
        pthread_cond_timedwait(&p->cv, &p->mu, &ts);
        if (!p->stopping)
            tick(p, sb_time_mono_ms());
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* ---- acks -------------------------------------------------------------------------------- */

static void on_ack(void *ctx, const sb_bus_msg *m)
{
    sb_stream_producer *p = ctx;
    cJSON *ack = NULL;
    if (sb_json_parse(m->payload, m->len, &ack, NULL) != SB_OK)
        return;
    const cJSON *seq = cJSON_GetObjectItemCaseSensitive(ack, "seq");
    double epoch = sb_json_num(ack, "epoch", 0);
    bool gap = sb_json_bool(ack, "gap", false);
    /* An ack without epoch ({"seq": N}, the short form) is taken as this epoch's. */
    if (cJSON_IsNumber(seq) && seq->valuedouble >= 0 &&
        (epoch == 0 || (int64_t)epoch == p->st.epoch)) {
        int64_t n = (int64_t)seq->valuedouble, cur = atomic_load(&p->ack_in);
        while (n > cur && !atomic_compare_exchange_weak(&p->ack_in, &cur, n))
            ;
        atomic_fetch_add(&p->acks_in, 1);
        if (gap)
            atomic_store(&p->gap_in, true);
        /* Wake the timer (allowed without the mutex; a lost wake-up costs one timer step):
         * items waiting in the open frame go out as soon as the window is empty. */
        pthread_cond_signal(&p->cv);
    }
    cJSON_Delete(ack);
}

/* ---- public ------------------------------------------------------------------------------ */

sb_err sb_stream_producer_create(const sb_stream_producer_opts *o, sb_stream_producer **out,
                                 sb_errmsg *em)
{
    *out = NULL;
    if (!o->bus || !sb_stream_name_valid(o->stream) || !o->topic)
        return sb_fail(em, SB_ERR_INVALID,
                       "stream producer: bus, a valid stream name and a "
                       "topic are required");
    sb_stream_producer *p = calloc(1, sizeof(*p));
    if (!p)
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    p->bus = o->bus;
    snprintf(p->stream, sizeof(p->stream), "%s", o->stream);
    snprintf(p->topic, sizeof(p->topic), "%s", o->topic);
    p->batch_max = o->batch_max ? o->batch_max : 500;
    p->batch_delay_ms = o->batch_delay_ms;
    p->max_frames = o->max_frames ? o->max_frames : 1000;
    p->resend_ms = o->resend_ms > 0 ? o->resend_ms : 5000;
    p->st.epoch = o->epoch > 0 ? o->epoch : sb_time_now_ms();
    p->next_seq = 1;
    atomic_init(&p->ack_in, 0);
    atomic_init(&p->gap_in, false);
    atomic_init(&p->acks_in, 0);
    pthread_mutex_init(&p->mu, NULL);
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cv, &a);
    pthread_condattr_destroy(&a);
    sb_bus_stats bs;
    sb_bus_get_stats(p->bus, &bs);
    p->last_connects = bs.connects;
    sb_err rc = SB_ERR_NOMEM;
    p->ring = calloc(p->max_frames, sizeof(frame));
    /* The name is a plain topic level, but may hold '"' or '\\': let cJSON quote it. */
    cJSON *name = cJSON_CreateString(p->stream);
    p->qname = name ? cJSON_PrintUnformatted(name) : NULL;
    cJSON_Delete(name);
    if (!p->ring || !p->qname)
        goto fail;
    rc = sb_bus_topic(p->bus, p->ack_topic, sizeof(p->ack_topic), "ack/%s", p->stream);
    if (rc == SB_OK)
        rc = sb_bus_subscribe(p->bus, p->ack_topic, 1, on_ack, p, em);
    if (rc != SB_OK)
        goto fail;
    if (pthread_create(&p->timer, NULL, timer_main, p) != 0) {
        rc = sb_fail(em, SB_ERR_NOMEM, "stream producer: cannot start the timer thread");
        goto fail;
    }
    p->timer_running = true;
    *out = p;
    return SB_OK;
fail:
    sb_stream_producer_destroy(p);
    return rc;
}

/* Appends one item's text to the open frame (opening it); false on no memory. */
static bool open_append(sb_stream_producer *p, const char *item, size_t len)
{
    size_t need = p->open_len + len + 1;
    if (need > p->open_cap) {
        size_t cap = p->open_cap ? p->open_cap : 4096;
        while (cap < need)
            cap *= 2;
        char *t = realloc(p->open, cap);
        if (!t)
            return false;
        p->open = t;
        p->open_cap = cap;
    }
    if (!p->open_n)
        p->open_deadline = sb_time_mono_ms() + p->batch_delay_ms;
    else
        p->open[p->open_len++] = ',';
    memcpy(p->open + p->open_len, item, len);
    p->open_len += len;
    p->open_n++;
    return true;
}

sb_err sb_stream_add_text(sb_stream_producer *p, const char *item, size_t len)
{
    pthread_mutex_lock(&p->mu);
    absorb_acks(p);
    sb_err rc = SB_OK;
    if (p->open_n >= p->batch_max)
        rc = seal(p);
    if (rc == SB_OK && !open_append(p, item, len))
        rc = SB_ERR_NOMEM;
    if (rc == SB_OK) {
        p->st.items++;
        /* Sealed at once when the frame is full, when there is no batch delay, or when the
         * pipe is idle (like Nagle's algorithm, see idle()): batching only adds latency then.
         * Under load the acks come slower than items, so frames fill up to batch_max or
         * batch_delay. SB_ERR_FULL here leaves the item in the open frame: accepted. */
        if (p->batch_delay_ms == 0 || p->open_n >= p->batch_max || idle(p, sb_time_mono_ms()))
            seal(p);
    } else if (rc == SB_ERR_FULL) {
        p->st.full++;
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

sb_err sb_stream_add(sb_stream_producer *p, cJSON *item)
{
    char *text = item ? cJSON_PrintUnformatted(item) : NULL;
    cJSON_Delete(item);
    if (!text)
        return SB_ERR_NOMEM;
    sb_err rc = sb_stream_add_text(p, text, strlen(text));
    free(text);
    return rc;
}

sb_err sb_stream_flush(sb_stream_producer *p)
{
    pthread_mutex_lock(&p->mu);
    sb_err rc = seal(p);
    pthread_mutex_unlock(&p->mu);
    return rc;
}

sb_err sb_stream_wait_acked(sb_stream_producer *p, int64_t timeout_ms)
{
    int64_t deadline = sb_time_mono_ms() + timeout_ms;
    pthread_mutex_lock(&p->mu);
    while (absorb_acks(p), p->count || p->open_n) {
        int64_t left = deadline - sb_time_mono_ms();
        if (left <= 0)
            break;
        if (p->open_n && p->count < p->max_frames)
            seal(p);
        struct timespec ts;
        sb_time_mono_deadline(left < 20 ? left : 20, &ts);
        pthread_cond_timedwait(&p->cv, &p->mu, &ts);
    }
    sb_err rc = p->count || p->open_n ? SB_ERR_TIMEOUT : SB_OK;
    pthread_mutex_unlock(&p->mu);
    return rc;
}

void sb_stream_producer_get_stats(sb_stream_producer *p, sb_stream_producer_stats *out)
{
    pthread_mutex_lock(&p->mu);
    absorb_acks(p);
    *out = p->st;
    out->unacked = p->count;
    out->open_items = p->open_n;
    out->last_acked = p->acked;
    pthread_mutex_unlock(&p->mu);
}

void sb_stream_producer_destroy(sb_stream_producer *p)
{
    if (!p)
        return;
    if (p->timer_running) {
        pthread_mutex_lock(&p->mu);
        p->stopping = true;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
        pthread_join(p->timer, NULL);
    }
    if (p->ack_topic[0])
        sb_bus_unsubscribe(p->bus, p->ack_topic);
    while (p->ring && p->count)
        release_upto(p, at(p, 0)->seq);
    free(p->ring);
    free(p->open);
    free(p->qname);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
}
