/*
 * partition.c - which gateways this processor instance applies (partition.h, docs/scaling.md).
 *
 * The bus thread records the members' statuses (under mu, bumping gen); the worker compares
 * gen with the one it last acted on between commit groups, so ownership never changes while a
 * group is being collected and nothing is dirty when a gateway's records are dropped.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/time.h"
#include "partition.h"
#include "processor.h"

/* How long the worker waits at start for its own status to come back (with the others'). */
#define SETTLE_MAX_MS 3000
/* Retained statuses of the other members arrive with our own; a little slack after it. */
#define SETTLE_SLACK_MS 200
/* Added to three status intervals before a silent member is taken as gone (its will may have
 * been lost, e.g. with the broker node it was connected to). */
#define MEMBER_TTL_SLACK_MS 5000

typedef struct part_member {
    char *name;
    bool online;
    int64_t heard_mono; /* when its last status arrived */
} part_member;

typedef struct part_key {
    char *key;
    bool owned;
} part_key;

struct partition {
    char self[SB_STREAM_NAME_MAX];
    pthread_mutex_t mu; /* members: written by the bus thread, read by the worker */
    part_member *m;
    size_t n_m;
    atomic_uint_fast64_t gen; /* bumped on every membership change */
    atomic_bool self_seen;
    int64_t ttl_ms; /* an online member not heard from for this long is taken as gone */
    /* worker only */
    int64_t next_expiry_check;
    uint64_t seen_gen;
    bool synced;
    char **live; /* the members the keys were last assigned over */
    size_t n_live;
    part_key *keys;
    size_t n_keys;
};

/* ---- the ownership function ------------------------------------------------------------- */

static uint64_t mix(uint64_t h)
{
    /* splitmix64's finalizer: spreads FNV's weak low bits over the whole word */
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    return h ^ (h >> 31);
}

uint64_t sb_partition_weight(const char *key, const char *member)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *c = (const unsigned char *)key; *c; c++)
        h = (h ^ *c) * 1099511628211ULL;
    h = (h ^ 0xffu) * 1099511628211ULL; /* a separator no UTF-8 text holds */
    for (const unsigned char *c = (const unsigned char *)member; *c; c++)
        h = (h ^ *c) * 1099511628211ULL;
    return mix(h);
}

const char *sb_partition_owner(const char *key, const char *const *members, size_t n)
{
    const char *best = NULL;
    uint64_t best_w = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t w = sb_partition_weight(key, members[i]);
        if (!best || w > best_w || (w == best_w && strcmp(members[i], best) < 0)) {
            best = members[i];
            best_w = w;
        }
    }
    return best;
}

/* ---- membership (bus thread) ------------------------------------------------------------ */

static void on_status(void *ctx, const sb_bus_msg *msg)
{
    proc *p = ctx;
    struct partition *pt = p->part;
    const char *inst = strrchr(msg->topic, '/');
    inst = inst ? inst + 1 : msg->topic;
    if (!*inst)
        return;
    cJSON *doc = NULL;
    bool online = false; /* an empty (cleared) or unreadable status counts as offline */
    if (msg->len > 0 && sb_json_parse(msg->payload, msg->len, &doc, NULL) == SB_OK)
        online = strcmp(sb_json_str(doc, "status", ""), "online") == 0;
    cJSON_Delete(doc);
    if (strcmp(inst, pt->self) == 0) {
        atomic_store(&pt->self_seen, true); /* we are a member whatever it says */
        return;
    }
    pthread_mutex_lock(&pt->mu);
    part_member *m = NULL;
    for (size_t i = 0; i < pt->n_m && !m; i++)
        if (strcmp(pt->m[i].name, inst) == 0)
            m = &pt->m[i];
    if (!m && online) {
        part_member *grown = realloc(pt->m, (pt->n_m + 1) * sizeof(*grown));
        char *name = strdup(inst);
        if (grown)
            pt->m = grown;
        if (grown && name) {
            m = &pt->m[pt->n_m++];
            *m = (part_member){.name = name, .online = false};
        } else {
            free(name);
            sb_error(&p->log, "out of memory recording processor %s", inst);
        }
    }
    if (m)
        m->heard_mono = sb_time_mono_ms();
    if (m && m->online != online) {
        m->online = online;
        atomic_fetch_add(&pt->gen, 1);
        sb_info(&p->log, "processor instance %s is %s", inst, online ? "online" : "offline");
    }
    pthread_mutex_unlock(&pt->mu);
}

sb_err part_create(proc *p, const char *self, sb_errmsg *em)
{
    struct partition *pt = calloc(1, sizeof(*pt));
    if (!pt)
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    snprintf(pt->self, sizeof(pt->self), "%s", self);
    /* statuses are republished every bus.status_interval (the same on every instance) */
    pt->ttl_ms = 3 * (p->cfg->bus.status_interval_ms > 0 ? p->cfg->bus.status_interval_ms : 10000) +
                 MEMBER_TTL_SLACK_MS;
    pthread_mutex_init(&pt->mu, NULL);
    atomic_init(&pt->gen, 0);
    atomic_init(&pt->self_seen, false);
    p->part = pt;
    return SB_OK;
}

static void free_live(struct partition *pt)
{
    for (size_t i = 0; i < pt->n_live; i++)
        free(pt->live[i]);
    free(pt->live);
    pt->live = NULL;
    pt->n_live = 0;
}

void part_destroy(proc *p)
{
    struct partition *pt = p->part;
    if (!pt)
        return;
    for (size_t i = 0; i < pt->n_m; i++)
        free(pt->m[i].name);
    free(pt->m);
    for (size_t i = 0; i < pt->n_keys; i++)
        free(pt->keys[i].key);
    free(pt->keys);
    free_live(pt);
    pthread_mutex_destroy(&pt->mu);
    free(pt);
    p->part = NULL;
}

sb_err part_subscribe(proc *p, sb_errmsg *em)
{
    char topic[512];
    sb_err rc = sb_bus_topic(p->bus, topic, sizeof(topic), "status/processor/+");
    return rc == SB_OK ? sb_bus_subscribe(p->bus, topic, 1, on_status, p, em) : rc;
}

/* ---- worker side ------------------------------------------------------------------------ */

/* Whether the input queue is full (or stopping): then the bus thread waits for the worker
 * and statuses queued behind the frames cannot arrive before it runs. */
static bool queue_blocked(proc *p)
{
    pthread_mutex_lock(&p->qmu);
    bool full = p->qstop || p->qlen >= (size_t)p->cfg->processor.queue_max;
    pthread_mutex_unlock(&p->qmu);
    return full;
}

void part_settle(proc *p)
{
    int64_t deadline = sb_time_mono_ms() + SETTLE_MAX_MS;
    while (!atomic_load(&p->part->self_seen) && sb_time_mono_ms() < deadline && !queue_blocked(p))
        sb_time_sleep_ms(10);
    if (atomic_load(&p->part->self_seen)) {
        for (int i = 0; i < SETTLE_SLACK_MS / 10 && !queue_blocked(p); i++)
            sb_time_sleep_ms(10);
    } else {
        /* e.g. a backlog from the persistent session fills the queue ahead of the statuses:
         * start with what is known; the commit fence keeps frames from being applied twice */
        sb_warn(&p->log, "other processor instances not known yet: starting with %s",
                queue_blocked(p) ? "a full input queue" : "this instance alone");
    }
}

static bool owner_is_self(struct partition *pt, const char *key)
{
    const char *o = sb_partition_owner(key, (const char *const *)pt->live, pt->n_live);
    return o && strcmp(o, pt->self) == 0;
}

static part_key *key_find(struct partition *pt, const char *key)
{
    for (size_t i = 0; i < pt->n_keys; i++)
        if (strcmp(pt->keys[i].key, key) == 0)
            return &pt->keys[i];
    return NULL;
}

/* Adds key with the ownership computed now (no loading: the caller knows what memory holds). */
static part_key *key_add(struct partition *pt, const char *key)
{
    part_key *k = realloc(pt->keys, (pt->n_keys + 1) * sizeof(*k));
    char *copy = strdup(key);
    if (k)
        pt->keys = k;
    if (!k || !copy) {
        free(copy);
        return NULL;
    }
    k = &pt->keys[pt->n_keys++];
    *k = (part_key){.key = copy, .owned = owner_is_self(pt, key)};
    return k;
}

/* Re-reads the stored position of stream name into its slot; returns it. */
static sb_stream_pos reload_pos(proc *p, const char *name)
{
    sb_stream_pos pos = {0, 0};
    cJSON *d = NULL;
    char got[SB_STREAM_NAME_MAX];
    sb_errmsg em = {{0}};
    sb_err rc = sb_store_get(p->store, "_stream", name, &d, &em);
    if (rc == SB_OK && sb_stream_pos_parse(d, got, sizeof(got), &pos) != SB_OK)
        pos = (sb_stream_pos){0, 0};
    else if (rc != SB_OK && rc != SB_ERR_NOTFOUND)
        sb_error(&p->log, "stream %s: reading its position: %s", name, em.text);
    cJSON_Delete(d);
    stream_slot *s = proc_stream_slot(p, name);
    if (s) {
        s->pos = s->pending = pos;
        s->in_group = false;
    }
    return pos;
}

/* Takes gateway key over: its records and position from the store, then a resend from there. */
static void gain(proc *p, const char *key)
{
    sb_errmsg em = {{0}};
    if (tree_load_gateway(p->tree, p->store, key, &em) != SB_OK)
        sb_error(&p->log, "gateway %s: loading its records: %s", key, em.text);
    sb_stream_pos pos = reload_pos(p, key);
    /* frames this instance ignored while another owned the stream: resend after pos now */
    if (sb_stream_ack(p->bus, key, &pos, true) == SB_OK)
        atomic_fetch_add(&p->st.acks, 1);
    sb_info(&p->log, "gateway %s taken over at position %lld/%lld", key, (long long)pos.epoch,
            (long long)pos.seq);
}

static void lose(proc *p, const char *key)
{
    tree_drop_gateway(p->tree, key);
    sb_info(&p->log, "gateway %s handed over to another processor instance", key);
}

static void collect_key(void *ctx, tree_entry *e)
{
    proc *p = ctx;
    const char *gw = sb_json_str(e->doc, "gatewayId", NULL);
    if (gw && !key_find(p->part, gw) && !key_add(p->part, gw))
        sb_error(&p->log, "out of memory recording gateway %s", gw);
}

/* The keys memory holds: gateways with nodes, and streams; ownership as now. */
static void collect_keys(proc *p)
{
    tree_each(p->tree, T_NODE, collect_key, p);
    for (size_t i = 0; i < p->n_streams; i++)
        if (!key_find(p->part, p->streams[i].name) && !key_add(p->part, p->streams[i].name))
            sb_error(&p->log, "out of memory recording stream %s", p->streams[i].name);
}

/* Takes a new snapshot of the live members (self always). */
static void snapshot(struct partition *pt)
{
    free_live(pt);
    pthread_mutex_lock(&pt->mu);
    pt->seen_gen = atomic_load(&pt->gen);
    pt->live = calloc(pt->n_m + 1, sizeof(char *));
    if (pt->live) {
        pt->live[pt->n_live++] = strdup(pt->self);
        for (size_t i = 0; i < pt->n_m; i++)
            if (pt->m[i].online)
                pt->live[pt->n_live++] = strdup(pt->m[i].name);
    }
    pthread_mutex_unlock(&pt->mu);
    /* a failed copy leaves a NULL name; drop them (self first: owning everything is safe) */
    size_t k = 0;
    for (size_t i = 0; i < pt->n_live; i++)
        if (pt->live[i])
            pt->live[k++] = pt->live[i];
    pt->n_live = k;
}

/* Takes online members whose status stopped coming as offline (once a second). */
static void expire(proc *p)
{
    struct partition *pt = p->part;
    int64_t now = sb_time_mono_ms();
    if (now < pt->next_expiry_check)
        return;
    pt->next_expiry_check = now + 1000;
    pthread_mutex_lock(&pt->mu);
    for (size_t i = 0; i < pt->n_m; i++) {
        part_member *m = &pt->m[i];
        if (m->online && now - m->heard_mono > pt->ttl_ms) {
            m->online = false;
            atomic_fetch_add(&pt->gen, 1);
            sb_warn(&p->log, "no status from processor instance %s for %lld s: taken as offline",
                    m->name, (long long)((now - m->heard_mono) / 1000));
        }
    }
    pthread_mutex_unlock(&pt->mu);
}

void part_sync(proc *p)
{
    struct partition *pt = p->part;
    expire(p);
    if (pt->synced && atomic_load(&pt->gen) == pt->seen_gen)
        return;
    if (!pt->synced) { /* memory holds every gateway (loaded at start): all are "owned" */
        pt->synced = true;
        for (size_t i = 0; i < pt->n_keys; i++)
            free(pt->keys[i].key);
        pt->n_keys = 0;
        free_live(pt);
        pt->live = malloc(sizeof(char *));
        if (pt->live && (pt->live[0] = strdup(pt->self)))
            pt->n_live = 1;
        collect_keys(p);
    }
    snapshot(pt);
    size_t gained = 0, lost = 0;
    for (size_t i = 0; i < pt->n_keys; i++) {
        part_key *k = &pt->keys[i];
        bool now = owner_is_self(pt, k->key);
        if (now == k->owned)
            continue;
        k->owned = now;
        if (now)
            gain(p, k->key), gained++;
        else
            lose(p, k->key), lost++;
    }
    sb_info(&p->log, "%zu processor instance(s) live: %zu gateway(s) gained, %zu handed over",
            pt->n_live, gained, lost);
}

bool part_owns_key(proc *p, const char *key)
{
    struct partition *pt = p->part;
    part_key *k = key_find(pt, key);
    if (k)
        return k->owned;
    /* first frame of a gateway: memory has nothing of it unless it was loaded at start, so
     * read what the store has (another instance may have written it) when it is ours */
    if (!(k = key_add(pt, key)))
        return owner_is_self(pt, key);
    if (k->owned) {
        sb_errmsg em = {{0}};
        if (tree_load_gateway(p->tree, p->store, key, &em) != SB_OK)
            sb_error(&p->log, "gateway %s: loading its records: %s", key, em.text);
        reload_pos(p, key);
    }
    return k->owned;
}

bool part_owns_topic(proc *p, const char *topic)
{
    const char *key = strrchr(topic, '/');
    return part_owns_key(p, key ? key + 1 : topic);
}

void part_after_load(proc *p)
{
    struct partition *pt = p->part;
    if (!pt->synced)
        return; /* the first part_sync sorts it out */
    collect_keys(p);
    for (size_t i = 0; i < pt->n_keys; i++)
        if (!pt->keys[i].owned)
            tree_drop_gateway(p->tree, pt->keys[i].key);
}

void part_after_conflict(proc *p, char (*in_group)[SB_STREAM_NAME_MAX], size_t n)
{
    sb_errmsg em = {{0}};
    if (tree_load(p->tree, p->store, &em) != SB_OK)
        sb_error(&p->log, "reloading the device tree: %s", em.text);
    part_after_load(p);
    for (size_t i = 0; i < p->n_streams; i++)
        reload_pos(p, p->streams[i].name);
    for (size_t i = 0; i < n; i++) {
        stream_slot *s = proc_stream_slot(p, in_group[i]);
        if (s && part_owns_key(p, in_group[i]) &&
            sb_stream_ack(p->bus, s->name, &s->pos, true) == SB_OK)
            atomic_fetch_add(&p->st.acks, 1);
    }
    sb_warn(&p->log,
            "another processor instance committed first: positions reloaded, %zu "
            "stream(s) asked to resend",
            n);
}
