/*
 * metrics.c - sb_metrics: dispatch to the InfluxDB store, or the "none" store that accepts
 * every point and keeps nothing (metrics.type: none).
 */
#include "storage/metrics.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "storage/influxdb/influx.h"

struct sb_metrics {
    sb_influx *influx; /* NULL: the none store */
    pthread_mutex_t mu;
    uint64_t accepted; /* none: points accepted and dropped by design */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

sb_err sb_metrics_open_url(const sb_config *cfg, const char *url, sb_metrics **out, sb_errmsg *em)
{
    *out = NULL;
    sb_metrics *m = calloc(1, sizeof(*m));
    if (!m)
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&m->mu, NULL);
    if (cfg->metrics.type == SB_METRICS_INFLUXDB) {
        pthread_once(&curl_once, curl_init_once);
        sb_err rc = sb_influx_open(&cfg->metrics, url, &m->influx, em);
        if (rc != SB_OK) {
            pthread_mutex_destroy(&m->mu);
            free(m);
            return rc;
        }
    }
    *out = m;
    return SB_OK;
}

sb_err sb_metrics_open(const sb_config *cfg, sb_metrics **out, sb_errmsg *em)
{
    return sb_metrics_open_url(cfg, cfg->metrics.url, out, em);
}

sb_err sb_metrics_write(sb_metrics *m, const sb_metric_point *p)
{
    if (!m || !p)
        return SB_ERR_INVALID;
    if (m->influx)
        return sb_influx_write(m->influx, p);
    pthread_mutex_lock(&m->mu);
    m->accepted++;
    pthread_mutex_unlock(&m->mu);
    return SB_OK;
}

sb_err sb_metrics_flush(sb_metrics *m, int64_t timeout_ms)
{
    return m && m->influx ? sb_influx_flush(m->influx, timeout_ms) : SB_OK;
}

sb_err sb_metrics_sync(sb_metrics *m, int64_t timeout_ms)
{
    return m && m->influx ? sb_influx_sync(m->influx, timeout_ms) : SB_OK;
}

sb_err sb_metrics_query(sb_metrics *m, const char *const *fields, size_t n_fields,
                        const char *start, const char *stop, const char *window,
                        const char *const *functions, size_t n_functions, cJSON **out,
                        sb_errmsg *em)
{
    *out = NULL;
    if (!m->influx)
        return sb_fail(em, SB_ERR_UNSUPPORTED, "metrics.type is none: no history is kept");
    return sb_influx_query(m->influx, fields, n_fields, start, stop, window, functions, n_functions,
                           out, em);
}

void sb_metrics_get_stats(sb_metrics *m, sb_metrics_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (m->influx) {
        sb_influx_stats(m->influx, out);
        return;
    }
    out->healthy = true;
    pthread_mutex_lock(&m->mu);
    out->dropped = m->accepted; /* nothing is kept; counted as dropped, never written */
    pthread_mutex_unlock(&m->mu);
}

void sb_metrics_close(sb_metrics *m, int64_t drain_ms)
{
    if (!m)
        return;
    sb_influx_close(m->influx, drain_ms);
    pthread_mutex_destroy(&m->mu);
    free(m);
}
