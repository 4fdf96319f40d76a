/*
 * metric.c - GET /api/metric and POST /api/metric: field time series from the metric store
 * (storage/metrics.h) opened from the config (under `switchboard run` cfg->metrics.url holds the
 * managed influxd's URL). Without a store (metrics.type none, or it could not be opened) the
 * routes answer 503.
 *
 * GET
 * /api/metric?quickId=field:..&quickId=..&start=-1h&stop=&window=5m&functions=mean&functions=max
 * POST /api/metric {"quickIds":[..],"start","stop","window","functions":[..]}
 * Answer: {"<quickId>": {"<function>": [{"time","value"}, ...]}} (raw values under "raw").
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "core/json.h"
#include "storage/metrics.h"

#define MAX_LIST 64

typedef struct mquery {
    const char *fields[MAX_LIST];
    size_t n_fields;
    const char *functions[MAX_LIST];
    size_t n_functions;
    const char *start, *stop, *window;
} mquery;

void api_metric_open(api *a)
{
    if (a->cfg->metrics.type == SB_METRICS_NONE)
        return;
    sb_errmsg em = {{0}};
    sb_err rc = sb_metrics_open(a->cfg, &a->metrics, &em);
    if (rc != SB_OK)
        sb_warn(&a->log, "metrics: %s: /api/metric answers 503", sb_errmsg_str(&em, rc));
}

static const char *empty_null(const char *s)
{
    return s && *s ? s : NULL;
}

static void run(api *a, const mquery *mq, api_resp *rs)
{
    if (!a->metrics) {
        api_error(rs, 503, "no metric store", "metrics.type is none or the store is unavailable");
        return;
    }
    if (!mq->n_fields) {
        api_error(rs, 400, "bad request", "give at least one field quick id (quickId)");
        return;
    }
    cJSON *out = NULL;
    sb_errmsg em = {{0}};
    sb_err rc = sb_metrics_query(a->metrics, mq->fields, mq->n_fields,
                                 mq->start ? mq->start : "-1h", empty_null(mq->stop),
                                 empty_null(mq->window), mq->functions, mq->n_functions, &out, &em);
    if (rc != SB_OK) {
        int st = rc == SB_ERR_INVALID || rc == SB_ERR_PARSE ? 400 : 502;
        api_error(rs, st, st == 400 ? "bad query" : "metric store", sb_errmsg_str(&em, rc));
        return;
    }
    api_reply(rs, 200, out);
}

void api_metric_get(api *a, api_req *rq, api_resp *rs)
{
    mquery mq;
    memset(&mq, 0, sizeof(mq));
    const api_params *p = &rq->params;
    for (size_t i = 0; i < p->n; i++) {
        const char *k = p->keys[i], *v = p->values[i];
        if ((!strcmp(k, "quickId") || !strcmp(k, "field")) && mq.n_fields < MAX_LIST)
            mq.fields[mq.n_fields++] = v;
        else if ((!strcmp(k, "functions") || !strcmp(k, "function")) && mq.n_functions < MAX_LIST)
            mq.functions[mq.n_functions++] = v;
        else if (!strcmp(k, "start"))
            mq.start = v;
        else if (!strcmp(k, "stop"))
            mq.stop = v;
        else if (!strcmp(k, "window"))
            mq.window = v;
    }
    run(a, &mq, rs);
}

/* Fills list from a JSON array of strings; false when it is something else. */
static bool strings(const cJSON *arr, const char **list, size_t *n)
{
    const cJSON *e;
    if (!arr)
        return true;
    if (!cJSON_IsArray(arr))
        return false;
    cJSON_ArrayForEach(e, arr)
    {
        if (!cJSON_IsString(e) || *n >= MAX_LIST)
            return false;
        list[(*n)++] = e->valuestring;
    }
    return true;
}

void api_metric_post(api *a, api_req *rq, api_resp *rs)
{
    cJSON *b = NULL;
    mquery mq;
    memset(&mq, 0, sizeof(mq));
    if (!rq->body || sb_json_parse(rq->body, rq->body_len, &b, NULL) != SB_OK ||
        !cJSON_IsObject(b) ||
        !strings(cJSON_GetObjectItemCaseSensitive(b, "quickIds"), mq.fields, &mq.n_fields) ||
        !strings(cJSON_GetObjectItemCaseSensitive(b, "functions"), mq.functions, &mq.n_functions)) {
        api_error(rs, 400, "bad request",
                  "expected {\"quickIds\":[..],\"start\",\"stop\",\"window\",\"functions\":[..]} "
                  "with at most 64 strings per list");
        cJSON_Delete(b);
        return;
    }
    mq.start = sb_json_str(b, "start", NULL);
    mq.stop = sb_json_str(b, "stop", NULL);
    mq.window = sb_json_str(b, "window", NULL);
    run(a, &mq, rs);
    cJSON_Delete(b);
}
