/*
 * throttle.c - per-client request limits:
 * - every request spends one token of its client's bucket (api.rate_limit per second, up to
 *   api.rate_burst saved up); an empty bucket answers 429 with Retry-After. A client is its
 *   bearer token or cookie when it sends one (scripts behind one address each get their own
 *   budget; a forged token gains nothing, it still fails authentication), else its address.
 * - failed logins are counted per address; after api.login_failures within api.login_window
 *   further logins from there get 429 until the window ends, whatever the password.
 * Both tables are fixed-size (no allocation per client): a client not seen for the longest time
 * gives its slot to a new one. Requests run on several threads: one mutex guards both tables.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "core/time.h"

#define SLOTS 4096
#define PROBE 8

typedef struct slot {
    uint64_t hash; /* 0 = free */
    double tokens; /* rate: tokens left; login: failures in the window */
    int64_t at_ms; /* rate: last refill; login: start of the window */
    int64_t used_ms;
} slot;

struct api_throttle {
    pthread_mutex_t mu; /* requests are handled on several threads (api.h) */
    slot rate[SLOTS];
    slot login[SLOTS];
};

static uint64_t fnv1a(const char *a, const char *b)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *s = a; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;
    for (const char *s = b; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h ? h : 1;
}

/* The slot of hash, or a fresh one in place of the least recently used of its probe window. */
static slot *find(slot *table, uint64_t hash, int64_t now, bool *fresh)
{
    slot *victim = NULL;
    for (size_t i = 0; i < PROBE; i++) {
        slot *s = &table[(hash + i) % SLOTS];
        if (s->hash == hash) {
            *fresh = false;
            s->used_ms = now;
            return s;
        }
        if (s->hash == 0) {
            if (!victim || victim->hash != 0)
                victim = s; /* the first free slot */
        } else if (!victim || (victim->hash != 0 && s->used_ms < victim->used_ms)) {
            victim = s; /* else the least recently used */
        }
    }
    memset(victim, 0, sizeof(*victim));
    victim->hash = hash;
    victim->used_ms = now;
    *fresh = true;
    return victim;
}

sb_err api_throttle_open(api *a)
{
    a->throttle = calloc(1, sizeof(*a->throttle));
    if (!a->throttle)
        return SB_ERR_NOMEM;
    pthread_mutex_init(&a->throttle->mu, NULL);
    return SB_OK;
}

void api_throttle_close(api *a)
{
    if (a->throttle)
        pthread_mutex_destroy(&a->throttle->mu);
    free(a->throttle);
    a->throttle = NULL;
}

static void too_many(api_resp *rs, int64_t wait_ms, const char *what)
{
    char secs[32];
    long s = (long)((wait_ms + 999) / 1000);
    snprintf(secs, sizeof(secs), "%ld", s < 1 ? 1 : s);
    api_add_header(rs, "Retry-After", secs);
    api_errorf(rs, 429, "too many requests", "%s; retry in %s s", what, secs);
}

/* The bearer token or cookie when the request carries one, else "". */
static const char *credential(const api_req *rq)
{
    if (strncmp(rq->authorization, "Bearer ", 7) == 0)
        return rq->authorization + 7;
    const char *c = strstr(rq->cookie, API_COOKIE "=");
    return c ? c : "";
}

bool api_throttle_request(api *a, const api_req *rq, api_resp *rs)
{
    double rate = (double)a->cfg->api.rate_limit, burst = (double)a->cfg->api.rate_burst;
    if (rate <= 0 || !a->throttle)
        return true;
    const char *cred = credential(rq);
    int64_t now = sb_time_mono_ms();
    bool fresh;
    pthread_mutex_lock(&a->throttle->mu);
    slot *s = find(a->throttle->rate, fnv1a(cred[0] ? "t" : "a", cred[0] ? cred : rq->client), now,
                   &fresh);
    if (fresh) {
        s->tokens = burst;
        s->at_ms = now;
    }
    s->tokens += (double)(now - s->at_ms) * rate / 1000.0;
    if (s->tokens > burst)
        s->tokens = burst;
    s->at_ms = now;
    bool ok = s->tokens >= 1;
    if (ok)
        s->tokens -= 1;
    double left = s->tokens;
    pthread_mutex_unlock(&a->throttle->mu);
    if (!ok)
        too_many(rs, (int64_t)((1 - left) * 1000.0 / rate), "api.rate_limit reached");
    return ok;
}

/* The login slot of the request's address with its window brought up to date. */
static slot *login_slot(api *a, const api_req *rq, int64_t now)
{
    bool fresh;
    slot *s = find(a->throttle->login, fnv1a("l", rq->client), now, &fresh);
    if (fresh || now - s->at_ms >= a->cfg->api.login_window_ms) {
        s->tokens = 0;
        s->at_ms = now;
    }
    return s;
}

bool api_throttle_login_allowed(api *a, const api_req *rq, api_resp *rs)
{
    if (a->cfg->api.login_failures <= 0 || !a->throttle)
        return true;
    int64_t now = sb_time_mono_ms();
    pthread_mutex_lock(&a->throttle->mu);
    slot *s = login_slot(a, rq, now);
    bool ok = s->tokens < (double)a->cfg->api.login_failures;
    int64_t window_start = s->at_ms;
    pthread_mutex_unlock(&a->throttle->mu);
    if (ok)
        return true;
    sb_warn(&a->log, "logins from %s refused: %lld failures", rq->client,
            (long long)a->cfg->api.login_failures);
    too_many(rs, window_start + a->cfg->api.login_window_ms - now, "too many failed logins");
    return false;
}

void api_throttle_login_result(api *a, const api_req *rq, bool ok)
{
    if (a->cfg->api.login_failures <= 0 || !a->throttle)
        return;
    pthread_mutex_lock(&a->throttle->mu);
    slot *s = login_slot(a, rq, sb_time_mono_ms());
    if (ok)
        s->tokens = 0;
    else
        s->tokens += 1;
    pthread_mutex_unlock(&a->throttle->mu);
}
