/*
 * processor.c - the message processor service: opens the store, loads the device tree and the
 * stream positions, subscribes to "<p>/msg/in/+" (QoS 1, persistent session) and to
 * "<p>/ctl/processor/reload|edit|delete", and reports its counters in the service status.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "memory.h"
#include "partition.h"
#include "processor.h"

static void on_frame(void *ctx, const sb_bus_msg *m)
{
    proc_enqueue(ctx, Q_FRAME, m);
}

static void on_reload(void *ctx, const sb_bus_msg *m)
{
    proc_enqueue(ctx, Q_RELOAD, m);
}

static void on_edit(void *ctx, const sb_bus_msg *m)
{
    proc_enqueue(ctx, Q_EDIT, m);
}

static void on_delete(void *ctx, const sb_bus_msg *m)
{
    proc_enqueue(ctx, Q_DELETE, m);
}

#define STAT(name, field) cJSON_AddNumberToObject(o, name, (double)atomic_load(&p->st.field))

static void stats_fn(void *ctx, cJSON *stats)
{
    proc *p = ctx;
    cJSON *o = cJSON_AddObjectToObject(stats, "processor");
    if (!o)
        return;
    STAT("framesIn", frames);
    STAT("plainFramesIn", frames_plain);
    STAT("duplicateFrames", duplicates);
    STAT("gapFrames", gaps);
    STAT("staleFrames", stale);
    STAT("badFrames", bad_frames);
    STAT("messagesIn", messages);
    STAT("badMessages", bad_messages);
    STAT("fieldsUpdated", fields_updated);
    STAT("rejectedValues", rejected_values);
    STAT("entitiesCreated", created);
    STAT("events", events);
    STAT("acks", acks);
    STAT("requestsAnswered", requests);
    STAT("commits", commits);
    STAT("commitFailures", commit_failures);
    STAT("metricsWritten", metrics_written);
    STAT("metricsDropped", metrics_failed);
    STAT("nodesDown", nodes_down);
    STAT("queueDepth", queue_depth);
    STAT("foreignFrames", foreign);
}

static sb_err subscribe(proc *p, sb_errmsg *em)
{
    sb_err rc = part_subscribe(p, em); /* members first: their retained statuses come first */
    if (rc == SB_OK)
        rc = sb_service_subscribe(p->svc, "msg/in/+", on_frame, p, em);
    if (rc == SB_OK)
        rc = sb_service_subscribe(p->svc, "ctl/processor/reload", on_reload, p, em);
    if (rc == SB_OK)
        rc = sb_service_subscribe(p->svc, "ctl/processor/edit", on_edit, p, em);
    if (rc == SB_OK)
        rc = sb_service_subscribe(p->svc, "ctl/processor/delete", on_delete, p, em);
    return rc;
}

static void proc_free(proc *p)
{
    /* The worker first: it publishes events and acks, so it must be gone before the bus is.
     * Stopping it releases a handler waiting for queue space; handlers may still queue items
     * until the bus is closed, which are freed after it. */
    proc_worker_stop(p);
    sb_service_close(p->svc, 2000);
    proc_queue_free(p);
    tree_destroy(p->tree);
    sb_store_close(p->store);
    part_destroy(p);
    free(p->streams);
    free(p);
}

int sb_processor_run_with(const sb_config *cfg, sb_stop_flag *stop, const sb_processor_hooks *hooks)
{
    sb_proc_mem_setup(); /* before the threads below allocate (memory.c) */
    proc *p = calloc(1, sizeof(*p));
    if (!p)
        return 1;
    p->cfg = cfg;
    if (hooks)
        p->hooks = *hooks;
    sb_logger_init(&p->log, "%s", "tree");
    sb_errmsg em = {{0}};
    sb_config store_cfg = *cfg; /* read by sb_store_open only */
    if (cfg->processor.store_cache > 0)
        store_cfg.storage.sqlite.cache_size = cfg->processor.store_cache;
    sb_err rc = sb_store_open(&store_cfg, &p->store, &em);
    if (rc == SB_OK && em.text[0])
        sb_warn(&p->log, "%s", em.text);
    if (rc == SB_OK)
        rc = tree_create(p->store, (size_t)cfg->processor.field_cache,
                         (size_t)cfg->processor.field_cache_bytes, &p->tree);
    if (rc == SB_OK)
        rc = tree_load(p->tree, p->store, &em);
    char inst[128];
    if (rc == SB_OK)
        rc = part_create(p, sb_service_instance(cfg, inst, sizeof(inst)), &em);
    if (rc == SB_OK)
        rc = sb_service_open(cfg, "processor", stats_fn, p, &p->svc, &em);
    if (rc == SB_OK) {
        p->bus = sb_service_bus(p->svc);
        rc = proc_worker_start(p, &em);
    }
    if (rc == SB_OK)
        rc = subscribe(p, &em);
    if (rc != SB_OK) {
        sb_error(&p->log, "cannot start: %s", sb_errmsg_str(&em, rc));
        proc_free(p);
        return 1;
    }
    sb_info(&p->log, "processing %s/msg/in/+ (metrics: %s)", sb_bus_prefix(p->bus),
            p->hooks.metrics_write ? "on" : "not wired, points dropped");
    while (!sb_stop_wait(stop, 1000))
        ;
    sb_info(&p->log, "stopping");
    proc_free(p);
    return 0;
}

static sb_err metrics_write(void *ctx, const sb_metric_point *pt)
{
    return sb_metrics_write(ctx, pt);
}

static sb_err metrics_sync(void *ctx, int64_t timeout_ms)
{
    return sb_metrics_sync(ctx, timeout_ms);
}

int sb_processor_run(const sb_config *cfg, sb_stop_flag *stop)
{
    sb_metrics *m = NULL;
    sb_errmsg em = {{0}};
    sb_proc_mem_setup(); /* before the metrics thread allocates */
    if (sb_metrics_open(cfg, &m, &em) != SB_OK) {
        /* Records and events still work; every point is counted as dropped in the stats. */
        sb_warn(NULL, "metric store not available (%s): points are dropped and counted", em.text);
        m = NULL;
    }
    sb_processor_hooks hooks = {.metrics_write = m ? metrics_write : NULL,
                                .metrics_sync = m ? metrics_sync : NULL,
                                .metrics_ctx = m};
    int rc = sb_processor_run_with(cfg, stop, &hooks);
    sb_metrics_close(m, 1000);
    return rc;
}

const sb_service_def sb_service_processor = {
    .name = "processor",
    .description = "device messages -> node/source/field records, metrics and events",
    .run = sb_processor_run,
};
