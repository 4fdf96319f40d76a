/*
 * system.c - what the API knows about the whole installation:
 *   GET /api/system  uptime, every service instance from the retained <p>/status/+/+ topics
 *                    (status, version, startedAt, stats), the config store's and the metric
 *                    store's health;
 *   GET /metrics     the same counters in the Prometheus text format (0.0.4).
 * The status topics are kept by a bus handler (bus thread) in a map guarded by a mutex; the
 * routes copy it under the lock. A retained status deleted from the broker (empty payload)
 * removes the instance.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "core/json.h"
#include "core/time.h"
#include "storage/metrics.h"

struct api_status_book {
    pthread_mutex_t mu;
    cJSON *byname; /* "<service>/<instance>" -> the status document */
};

static void on_status(void *ctx, const sb_bus_msg *m)
{
    api_status_book *b = ctx;
    /* <p>/status/<service>/<instance>: the last two levels name the entry. */
    const char *inst = strrchr(m->topic, '/');
    const char *svc = inst;
    while (svc && svc > m->topic && svc[-1] != '/')
        svc--;
    if (!inst || !svc || svc == inst)
        return;
    char key[512], service[256];
    snprintf(key, sizeof(key), "%s", svc);
    snprintf(service, sizeof(service), "%.*s", (int)(inst - svc), svc);
    cJSON *doc = NULL;
    if (m->len &&
        (sb_json_parse(m->payload, m->len, &doc, NULL) != SB_OK || !cJSON_IsObject(doc))) {
        cJSON_Delete(doc);
        return;
    }
    if (doc && !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(doc, "service")))
        sb_json_set_str(doc, "service", service);
    if (doc && !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(doc, "instance")))
        sb_json_set_str(doc, "instance", inst + 1);
    pthread_mutex_lock(&b->mu);
    cJSON_DeleteItemFromObjectCaseSensitive(b->byname, key);
    if (doc)
        cJSON_AddItemToObject(b->byname, key, doc);
    pthread_mutex_unlock(&b->mu);
}

sb_err api_system_open(api *a, sb_errmsg *em)
{
    api_status_book *b = calloc(1, sizeof(*b));
    if (!b || !(b->byname = cJSON_CreateObject())) {
        free(b);
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    }
    pthread_mutex_init(&b->mu, NULL);
    a->status = b;
    a->started_ms = sb_time_now_ms();
    char topic[256];
    sb_err rc = sb_bus_topic(a->bus, topic, sizeof(topic), "status/+/+");
    return rc ? rc : sb_bus_subscribe(a->bus, topic, 1, on_status, b, em);
}

void api_system_close(api *a)
{
    if (!a->status)
        return;
    pthread_mutex_destroy(&a->status->mu);
    cJSON_Delete(a->status->byname);
    free(a->status);
    a->status = NULL;
}

/* A copy of every status document, sorted by service and instance (caller frees). */
static cJSON *services(api *a)
{
    pthread_mutex_lock(&a->status->mu);
    cJSON *copy = cJSON_Duplicate(a->status->byname, true);
    pthread_mutex_unlock(&a->status->mu);
    size_t n = (size_t)cJSON_GetArraySize(copy), i = 0;
    cJSON **items = calloc(n ? n : 1, sizeof(*items)), *e, *out = cJSON_CreateArray();
    cJSON_ArrayForEach(e, copy) items[i++] = e;
    for (size_t k = 1; k < n; k++) /* insertion sort by key: a handful of services */
        for (size_t j = k; j > 0 && strcmp(items[j - 1]->string, items[j]->string) > 0; j--) {
            cJSON *t = items[j];
            items[j] = items[j - 1];
            items[j - 1] = t;
        }
    for (i = 0; i < n; i++)
        cJSON_AddItemToArray(out, cJSON_Duplicate(items[i], true));
    free(items);
    cJSON_Delete(copy);
    return out;
}

static cJSON *store_health(api *a)
{
    cJSON *o = cJSON_CreateObject();
    sb_errmsg em = {{0}};
    size_t n = 0;
    int64_t t0 = sb_time_mono_ms();
    sb_err rc = sb_store_count(a->store, "user", NULL, &n, &em);
    static const char *const types[] = {"sqlite", "memory", "mongodb"};
    int t = a->cfg->storage.type;
    cJSON_AddStringToObject(o, "type", t >= 0 && t < 3 ? types[t] : "?");
    cJSON_AddBoolToObject(o, "ok", rc == SB_OK);
    cJSON_AddNumberToObject(o, "latencyMs", (double)(sb_time_mono_ms() - t0));
    if (rc != SB_OK)
        cJSON_AddStringToObject(o, "error", sb_errmsg_str(&em, rc));
    return o;
}

/* A query for a field that does not exist: it answers when the server does. */
static cJSON *metrics_health(api *a)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "configured", a->metrics != NULL);
    if (!a->metrics) {
        cJSON_AddBoolToObject(o, "ok", false);
        cJSON_AddStringToObject(o, "error", "metrics.type is none or the store is unavailable");
        return o;
    }
    static const char *const probe[] = {"field:_health._._._"};
    cJSON *res = NULL;
    sb_errmsg em = {{0}};
    int64_t t0 = sb_time_mono_ms();
    sb_err rc = sb_metrics_query(a->metrics, probe, 1, "-1m", NULL, NULL, NULL, 0, &res, &em);
    cJSON_Delete(res);
    cJSON_AddBoolToObject(o, "ok", rc == SB_OK);
    cJSON_AddNumberToObject(o, "latencyMs", (double)(sb_time_mono_ms() - t0));
    if (rc != SB_OK)
        cJSON_AddStringToObject(o, "error", sb_errmsg_str(&em, rc));
    return o;
}

void api_system(api *a, api_req *rq, api_resp *rs)
{
    (void)rq;
    char started[SB_TIME_RFC3339_LEN];
    sb_time_format(a->started_ms, started, sizeof(started));
    cJSON *o = cJSON_CreateObject(), *list = services(a), *e;
    cJSON_AddStringToObject(o, "version", SB_VERSION);
    cJSON_AddStringToObject(o, "startedAt", started);
    cJSON_AddNumberToObject(o, "uptimeMs", (double)(sb_time_now_ms() - a->started_ms));
    cJSON_AddBoolToObject(o, "busConnected", sb_bus_connected(a->bus));
    int online = 0;
    cJSON_ArrayForEach(e, list) online += strcmp(sb_json_str(e, "status", ""), "online") == 0;
    cJSON_AddNumberToObject(o, "servicesOnline", online);
    cJSON_AddItemToObject(o, "services", list);
    cJSON_AddItemToObject(o, "store", store_health(a));
    cJSON_AddItemToObject(o, "metrics", metrics_health(a));
    api_reply(rs, 200, o);
}

/* ---- Prometheus ------------------------------------------------------------------------------ */

/* Maps of per-entity stats whose keys become a label instead of part of the metric name. */
static const char *const keyed[][2] = {
    {"gateways", "gateway"}, {"handlers", "handler"}, {"tasks", "task"}, {"schedules", "schedule"}};

typedef struct row {
    char name[160];
    char labels[384];
    double value;
    size_t seq;
} row;

typedef struct rows {
    row *v;
    size_t n, cap;
} rows;

static void add_row(rows *r, const char *name, const char *labels, double value)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        row *v = realloc(r->v, cap * sizeof(*v));
        if (!v)
            return;
        r->v = v;
        r->cap = cap;
    }
    row *x = &r->v[r->n];
    snprintf(x->name, sizeof(x->name), "%s", name);
    snprintf(x->labels, sizeof(x->labels), "%s", labels);
    x->value = value;
    x->seq = r->n++;
}

/* Appends key to name as snake_case of [a-z0-9_]: "framesIn" -> "_frames_in". */
static void append_name(char *name, size_t len, const char *key)
{
    size_t n = strlen(name);
    if (n + 1 < len)
        name[n++] = '_';
    for (const char *c = key; *c && n + 2 < len; c++) {
        if (isupper((unsigned char)*c)) {
            if (c != key && name[n - 1] != '_')
                name[n++] = '_';
            name[n++] = (char)tolower((unsigned char)*c);
        } else {
            name[n++] = isalnum((unsigned char)*c) ? *c : '_';
        }
    }
    name[n] = '\0';
}

/* Appends name="value" to labels with the value escaped (\\, \", \n). */
static void append_label(char *labels, size_t len, const char *name, const char *value)
{
    size_t n = strlen(labels);
    n += (size_t)snprintf(labels + n, len - n, "%s%s=\"", n ? "," : "", name);
    for (const char *c = value; *c && n + 3 < len; c++) {
        if (*c == '\\' || *c == '"' || *c == '\n') {
            labels[n++] = '\\';
            labels[n++] = *c == '\n' ? 'n' : *c;
        } else {
            labels[n++] = *c;
        }
    }
    if (n + 1 < len)
        labels[n++] = '"';
    labels[n < len ? n : len - 1] = '\0';
}

static const char *keyed_label(const char *key)
{
    for (size_t i = 0; i < SB_ARRAY_LEN(keyed); i++)
        if (strcmp(keyed[i][0], key) == 0)
            return keyed[i][1];
    return NULL;
}

static void flatten(rows *r, const cJSON *o, const char *name, const char *labels, int depth)
{
    const cJSON *e;
    if (depth > 6)
        return;
    cJSON_ArrayForEach(e, o)
    {
        char nm[160], lb[384];
        snprintf(nm, sizeof(nm), "%s", name);
        snprintf(lb, sizeof(lb), "%s", labels);
        const char *label = cJSON_IsObject(e) ? keyed_label(e->string) : NULL;
        if (label) {
            const cJSON *k;
            append_name(nm, sizeof(nm), label);
            cJSON_ArrayForEach(k, e)
            {
                char kl[384];
                snprintf(kl, sizeof(kl), "%s", labels);
                append_label(kl, sizeof(kl), label, k->string);
                flatten(r, k, nm, kl, depth + 1);
            }
            continue;
        }
        append_name(nm, sizeof(nm), e->string);
        if (cJSON_IsNumber(e))
            add_row(r, nm, lb, e->valuedouble);
        else if (cJSON_IsBool(e))
            add_row(r, nm, lb, cJSON_IsTrue(e) ? 1 : 0);
        else if (cJSON_IsObject(e))
            flatten(r, e, nm, lb, depth + 1);
    }
}

static int by_name(const void *x, const void *y)
{
    const row *a = x, *b = y;
    int c = strcmp(a->name, b->name);
    return c ? c : (a->seq > b->seq) - (a->seq < b->seq);
}

static void service_rows(rows *r, const cJSON *st)
{
    char labels[384] = "";
    append_label(labels, sizeof(labels), "service", sb_json_str(st, "service", ""));
    append_label(labels, sizeof(labels), "instance", sb_json_str(st, "instance", ""));
    bool up = strcmp(sb_json_str(st, "status", ""), "online") == 0;
    add_row(r, "switchboard_up", labels, up ? 1 : 0);
    int64_t started = 0;
    if (sb_time_parse(sb_json_str(st, "startedAt", ""), &started) == SB_OK)
        add_row(r, "switchboard_start_time_seconds", labels, (double)started / 1000.0);
    if (up) /* an offline status carries no counters worth reporting */
        flatten(r, cJSON_GetObjectItemCaseSensitive(st, "stats"), "switchboard", labels, 0);
}

void api_prometheus(api *a, api_req *rq, api_resp *rs)
{
    (void)rq;
    rows r = {0};
    cJSON *list = services(a), *e;
    cJSON_ArrayForEach(e, list) service_rows(&r, e);
    cJSON_Delete(list);
    qsort(r.v, r.n, sizeof(*r.v), by_name);
    size_t cap = 256 + r.n * 640, len = 0;
    char *out = malloc(cap);
    for (size_t i = 0; out && i < r.n; i++) {
        const row *x = &r.v[i];
        if (i == 0 || strcmp(x->name, r.v[i - 1].name) != 0)
            len += (size_t)snprintf(out + len, cap - len, "# TYPE %s untyped\n", x->name);
        len +=
            (size_t)snprintf(out + len, cap - len, "%s{%s} %.17g\n", x->name, x->labels, x->value);
    }
    free(r.v);
    if (out)
        out[len] = '\0';
    api_reply_raw(rs, 200, "text/plain; version=0.0.4; charset=utf-8", out, len);
}
