/*
 * stream_producer.c - the producer side of a stream (stream.h): batching into numbered frames,
 * a bounded window of unacknowledged frames, resends after reconnect, timeout or gap.
 *
 * One mutex guards everything; a timer thread seals frames whose batch delay passed and resends
 * what waited too long. The ack handler runs on paho's receive thread, which holds paho's own
 * lock while it runs, and publishing under our mutex takes paho's lock: so the handler never
 * takes our mutex. It only records the highest ack (and a gap report) in atomics, which the
 * timer and the API calls absorb under the mutex (ack_mu guards only those few fields and is
 * never held while calling anything else).
 *
 * With a journal (opts.journal_dir, stream_journal.h) every accepted item, every sealed frame
 * and every ack is also appended to a file, and a producer created on a journal starts with the
 * frames still unacknowledged there, under their original epoch and seq. Frames of a newer
 * epoch are published only once every older frame is acknowledged: a consumer that saw the new
 * epoch would take the older frames for stale ones.
 */
#include "core/buf.h"
#include "core/stream.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/stream_journal.h"
#include "core/time.h"

#define COMPACT_BYTES_DEFAULT (1024 * 1024)

typedef struct frame {
    int64_t epoch, seq;
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
    size_t *open_offs, offs_cap;       /* where each open item starts in open (journal only) */
    int64_t open_deadline;             /* monotonic ms when the open frame must be sealed */
    int64_t last_seal;                 /* monotonic ms of the last frame sealed */
    frame *ring;                       /* unacked frames, oldest first: ring[(head + i) % cap] */
    size_t head, count, cap;           /* cap: max_frames + the frames replayed from the journal */
    int64_t next_seq, acked;
    int64_t acked_epoch, acked_seq; /* the highest position acknowledged, absorbed */
    sb_stream_journal *journal;     /* NULL without opts.journal_dir */
    size_t compact_bytes;
    uint64_t last_connects;
    int64_t last_gap_resend;
    sb_stream_producer_stats st;
    pthread_mutex_t ack_mu;
    int64_t ack_epoch_in, ack_seq_in; /* highest position acked by the consumer (ack_mu) */
    atomic_bool gap_in;               /* the consumer reported a hole */
    atomic_uint_fast64_t acks_in;
};

/* ---- with p->mu held --------------------------------------------------------------------- */

static frame *at(sb_stream_producer *p, size_t i)
{
    return &p->ring[(p->head + i) % p->cap];
}

/* (e1, s1) before (e2, s2) in stream order. */
static bool before(int64_t e1, int64_t s1, int64_t e2, int64_t s2)
{
    return e1 < e2 || (e1 == e2 && s1 < s2);
}

static void journal_note(sb_stream_producer *p, sb_err rc)
{
    if (rc != SB_OK)
        p->st.journal_errors++;
}

static void publish_frame(sb_stream_producer *p, frame *f, bool resend)
{
    if (f->epoch != at(p, 0)->epoch)
        return; /* a newer epoch waits until every older frame is acknowledged */
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
    return sb_stream_journal_envelope(p->qname, p->st.epoch, seq, p->open, p->open_len, len);
}

/* Turns the open items into the next numbered frame and publishes it. */
static sb_err seal(sb_stream_producer *p)
{
    if (!p->open_n)
        return SB_OK;
    if (p->count == p->cap)
        return SB_ERR_FULL;
    frame *f = at(p, p->count);
    f->text = envelope(p, p->next_seq, &f->len);
    if (!f->text)
        return SB_ERR_NOMEM;
    if (p->journal)
        journal_note(p, sb_stream_journal_sealed(p->journal, p->st.epoch, p->next_seq, p->open_n));
    f->epoch = p->st.epoch;
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

/* Lets go of every frame up to (epoch, seq), older epochs included. */
static void release_upto(sb_stream_producer *p, int64_t epoch, int64_t seq)
{
    while (p->count && !before(epoch, seq, at(p, 0)->epoch, at(p, 0)->seq)) {
        SB_FREE(at(p, 0)->text);
        p->head = (p->head + 1) % p->cap;
        p->count--;
    }
}

/* The journal with only what is pending: the unacknowledged frames and the open items. */
static sb_err compact(sb_stream_producer *p)
{
    size_t n = p->count + p->open_n;
    sb_stream_journal_rec *recs = n ? calloc(n, sizeof(*recs)) : NULL;
    if (n && !recs)
        return SB_ERR_NOMEM;
    for (size_t i = 0; i < p->count; i++)
        recs[i] = (sb_stream_journal_rec){'F', at(p, i)->text, at(p, i)->len};
    for (size_t i = 0; i < p->open_n; i++) {
        size_t end = i + 1 < p->open_n ? p->open_offs[i + 1] - 1 : p->open_len;
        recs[p->count + i] =
            (sb_stream_journal_rec){'i', p->open + p->open_offs[i], end - p->open_offs[i]};
    }
    sb_err rc = sb_stream_journal_rewrite(p->journal, recs, n);
    free(recs);
    return rc;
}

/* Records an ack in the journal; empties the file when nothing is pending, rewrites it when
 * it is large and mostly acknowledged. */
static void journal_acked(sb_stream_producer *p)
{
    if (!p->count && !p->open_n) {
        journal_note(p, sb_stream_journal_rewrite(p->journal, NULL, 0));
        return;
    }
    journal_note(p, sb_stream_journal_acked(p->journal, p->acked_epoch, p->acked_seq));
    size_t size = sb_stream_journal_size(p->journal);
    if (size < p->compact_bytes)
        return;
    size_t pending = p->open_len;
    for (size_t i = 0; i < p->count; i++)
        pending += at(p, i)->len;
    if (pending < size / 2)
        journal_note(p, compact(p));
}

/* Applies what on_ack recorded. */
static void absorb_acks(sb_stream_producer *p)
{
    pthread_mutex_lock(&p->ack_mu);
    int64_t e = p->ack_epoch_in, s = p->ack_seq_in;
    pthread_mutex_unlock(&p->ack_mu);
    if (before(p->acked_epoch, p->acked_seq, e, s)) {
        release_upto(p, e, s);
        p->acked_epoch = e;
        p->acked_seq = s;
        if (e == p->st.epoch)
            p->acked = s;
        if (p->journal)
            journal_acked(p);
    }
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
    int64_t epoch = (int64_t)sb_json_num(ack, "epoch", 0);
    bool gap = sb_json_bool(ack, "gap", false);
    /* An ack without epoch ({"seq": N}, the short form) is taken as this epoch's. An ack of an
     * older epoch covers frames replayed from the journal; one of a newer epoch is not ours. */
    if (epoch == 0)
        epoch = p->st.epoch;
    if (cJSON_IsNumber(seq) && seq->valuedouble >= 0 && epoch > 0 && epoch <= p->st.epoch) {
        int64_t n = (int64_t)seq->valuedouble;
        pthread_mutex_lock(&p->ack_mu);
        if (before(p->ack_epoch_in, p->ack_seq_in, epoch, n)) {
            p->ack_epoch_in = epoch;
            p->ack_seq_in = n;
        }
        pthread_mutex_unlock(&p->ack_mu);
        atomic_fetch_add(&p->acks_in, 1);
        if (gap)
            atomic_store(&p->gap_in, true);
        /* Wake the timer (allowed without the mutex; a lost wake-up costs one timer step):
         * items waiting in the open frame go out as soon as the window is empty. */
        pthread_cond_signal(&p->cv);
    }
    cJSON_Delete(ack);
}

/* ---- the journal at start ------------------------------------------------------------------ */

static bool open_append(sb_stream_producer *p, const char *item, size_t len);

/*
 * Opens the journal and takes over what it holds: the unacknowledged frames with their epoch
 * and seq (published first, see publish_frame), the items never sealed (the open frame of the
 * new epoch, which is after every epoch the journal names). Then the file is rewritten with
 * just that, which also drops a torn last line.
 */
static sb_err replay(sb_stream_producer *p, const sb_stream_producer_opts *o, sb_errmsg *em)
{
    sb_stream_journal_replay rp;
    sb_err rc =
        sb_stream_journal_open(o->journal_dir, p->stream, o->journal_sync, &p->journal, &rp, em);
    if (rc != SB_OK)
        return rc;
    p->cap = p->max_frames + rp.n_frames;
    p->ring = calloc(p->cap, sizeof(frame));
    rc = p->ring ? SB_OK : sb_fail(em, SB_ERR_NOMEM, "out of memory");
    for (size_t i = 0; rc == SB_OK && i < rp.n_frames; i++) {
        frame *f = &p->ring[i];
        *f = (frame){rp.frames[i].epoch, rp.frames[i].seq, rp.frames[i].text, rp.frames[i].len, 0};
        rp.frames[i].text = NULL;
        p->count++;
    }
    if (rp.max_epoch >= p->st.epoch)
        p->st.epoch = rp.max_epoch + 1;
    for (size_t i = 0; rc == SB_OK && i < rp.n_items; i++)
        if (!open_append(p, rp.items[i], strlen(rp.items[i])))
            rc = sb_fail(em, SB_ERR_NOMEM, "out of memory");
    p->st.replayed = rp.n_frames;
    p->st.replayed_items = rp.n_items;
    p->st.journal_bad_lines = rp.bad_lines + rp.torn;
    sb_stream_journal_replay_free(&rp);
    if (rc == SB_OK && (rc = compact(p)) != SB_OK)
        rc = sb_fail(em, rc, "stream %s: cannot rewrite its journal in %s", p->stream,
                     o->journal_dir);
    return rc;
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
    p->cap = p->max_frames;
    p->compact_bytes = o->journal_compact_bytes ? o->journal_compact_bytes : COMPACT_BYTES_DEFAULT;
    atomic_init(&p->gap_in, false);
    atomic_init(&p->acks_in, 0);
    pthread_mutex_init(&p->mu, NULL);
    pthread_mutex_init(&p->ack_mu, NULL);
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cv, &a);
    pthread_condattr_destroy(&a);
    sb_bus_stats bs;
    sb_bus_get_stats(p->bus, &bs);
    p->last_connects = bs.connects;
    sb_err rc = SB_ERR_NOMEM;
    /* The name is a plain topic level, but may hold '"' or '\\': let cJSON quote it. */
    cJSON *name = cJSON_CreateString(p->stream);
    p->qname = name ? cJSON_PrintUnformatted(name) : NULL;
    cJSON_Delete(name);
    if (!p->qname)
        goto fail;
    if (o->journal_dir && *o->journal_dir)
        rc = replay(p, o, em);
    else
        rc = (p->ring = calloc(p->cap, sizeof(frame))) ? SB_OK : SB_ERR_NOMEM;
    if (rc != SB_OK)
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
    if (p->journal && sb_array_reserve(&p->open_offs, &p->offs_cap, p->open_n + 1,
                                       sizeof(*p->open_offs), 64) != SB_OK)
        return false;
    if (!p->open_n)
        p->open_deadline = sb_time_mono_ms() + p->batch_delay_ms;
    else
        p->open[p->open_len++] = ',';
    if (p->journal)
        p->open_offs[p->open_n] = p->open_len;
    char *dst = p->open + p->open_len;
    memcpy(dst, item, len);
    /* One line per item in the journal: a '\n' can only be JSON white space here. */
    for (char *nl = memchr(dst, '\n', len); nl; nl = memchr(nl, '\n', len - (size_t)(nl - dst)))
        *nl = ' ';
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
    if (rc == SB_OK && p->journal) /* the text as kept: line ends made spaces */
        journal_note(p, sb_stream_journal_item(p->journal, p->open + p->open_len - len, len));
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
        if (p->open_n && p->count < p->cap)
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
    if (p->journal) { /* what is pending stays in the journal for the next start */
        pthread_mutex_lock(&p->mu);
        absorb_acks(p);
        pthread_mutex_unlock(&p->mu);
        sb_stream_journal_close(p->journal, !p->count && !p->open_n);
    }
    while (p->ring && p->count)
        release_upto(p, at(p, 0)->epoch, at(p, 0)->seq);
    free(p->ring);
    free(p->open);
    free(p->open_offs);
    free(p->qname);
    pthread_mutex_destroy(&p->mu);
    pthread_mutex_destroy(&p->ack_mu);
    pthread_cond_destroy(&p->cv);
    free(p);
}
