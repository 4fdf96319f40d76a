/*
 * config.h - the switchboard.yaml configuration.
 *
 * One YAML file; every key has a default (sb_config_table prints them all); environment
 * variables SWITCHBOARD_<SECTION>_<KEY> override the file. Unknown keys, wrong types and values
 * out of range are errors that name the key and its line. Each service reads the common sections
 * (data_dir, secret, log, bus, storage, metrics) and its own.
 */
#ifndef SB_CONFIG_H
#define SB_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "core/options.h"

typedef enum { SB_MQTT_AUTO = 0, SB_MQTT_V5, SB_MQTT_V311 } sb_mqtt_version;
typedef enum { SB_STORE_SQLITE = 0, SB_STORE_MEMORY, SB_STORE_MONGODB } sb_store_type;
typedef enum { SB_SYNC_ALWAYS = 0, SB_SYNC_BATCH } sb_sync_mode;
typedef enum { SB_METRICS_INFLUXDB = 0, SB_METRICS_NONE } sb_metrics_type;

typedef struct sb_config_log {
    int level;  /* sb_log_level */
    int format; /* sb_log_format */
} sb_config_log;

typedef struct sb_config_tls {
    char *ca_file;
    char *cert_file;
    char *key_file;
    bool verify;
} sb_config_tls;

typedef struct sb_config_bus {
    bool managed;         /* start a mosquitto child process */
    char *mosquitto;      /* the mosquitto binary for the managed broker */
    int64_t managed_port; /* 0 = a free loopback port */
    char *url;            /* tcp://host:port or ssl://host:port; empty = the managed broker */
    char *topic_prefix;
    char *username;
    char *password;
    int mqtt_version; /* sb_mqtt_version */
    int64_t keepalive_ms;
    int64_t connect_timeout_ms;
    int64_t reconnect_min_ms;
    int64_t reconnect_max_ms;
    int64_t session_expiry_ms;
    int64_t max_pending; /* publishes not yet acknowledged by the broker before SB_ERR_FULL */
    int64_t receive_max; /* MQTT v5 Receive Maximum (0 = not sent: the broker's limit) */
    int64_t batch_max;   /* items per batch frame on internal hops */
    int64_t batch_delay_ms;
    int64_t status_interval_ms; /* how often a service republishes its status with stats */
    sb_config_tls tls;
} sb_config_bus;

typedef struct sb_config_store_memory {
    char *dir; /* empty = <data_dir>/memory */
    int sync;  /* sb_sync_mode */
    int64_t sync_interval_ms;
    int64_t snapshot_every; /* journal records between snapshots */
} sb_config_store_memory;

typedef struct sb_config_store_sqlite {
    char *path; /* empty = <data_dir>/switchboard.db */
    int sync;   /* sb_sync_mode */
    int64_t busy_timeout_ms;
    sb_strlist index;   /* key paths with an equality index ("a.*": every member of a) */
    int64_t cache_size; /* bytes of SQLite's page cache per connection */
} sb_config_store_sqlite;

typedef struct sb_config_store_mongodb {
    char *uri;
    char *database;
    char *collection_prefix;
    int64_t connect_timeout_ms;
    int64_t pool_max;
} sb_config_store_mongodb;

typedef struct sb_config_storage {
    int type; /* sb_store_type */
    sb_config_store_memory memory;
    sb_config_store_sqlite sqlite;
    sb_config_store_mongodb mongodb;
} sb_config_storage;

typedef struct sb_config_metrics {
    int type;     /* sb_metrics_type */
    bool managed; /* start an influxd child process */
    char *influxd;
    char *url; /* empty = the managed influxd */
    char *database;
    char *username;
    char *password;
    int64_t version;    /* 1 = InfluxDB 1.x (/write, InfluxQL), 2 = 2.x (/api/v2, Flux) */
    char *org;          /* 2.x organisation */
    char *bucket;       /* 2.x bucket; empty = database */
    char *token;        /* 2.x API token */
    int64_t batch_size; /* points per write request */
    int64_t flush_interval_ms;
    int64_t buffer_max;   /* points held while the server is down (RAM + disk) */
    char *buffer_dir;     /* empty = RAM only; else spill to append-only files here */
    int64_t timeout_ms;   /* per HTTP request */
    int64_t managed_port; /* 0 = a free loopback port */
} sb_config_metrics;

typedef struct sb_config_gateway_filter {
    cJSON *labels; /* a gateway document must carry every one of these labels */
} sb_config_gateway_filter;

typedef struct sb_config_gateway {
    sb_config_gateway_filter filter;
    char *log_dir;         /* message logger files; empty = <data_dir>/gateway-logs */
    int64_t out_queue_max; /* messages waiting to be sent, per gateway */
    int64_t in_queue_max;  /* received messages held while the msg/in window is full */
    /* the msg/in journal (docs/gateways.md "The journal") */
    bool journal;      /* false: the window lives in memory only */
    char *journal_dir; /* empty = <data_dir>/gateway-journal */
    bool journal_sync; /* fdatasync every record */
} sb_config_gateway;

typedef struct sb_config_processor {
    int64_t node_down_after_ms; /* inactivity that turns a node down; 0 = never */
    int64_t queue_max;          /* frames received and not yet applied before the bus waits */
    int64_t field_cache;        /* field records kept in memory (the rest stay in the store) */
    int64_t field_cache_bytes;  /* and the bytes those records may take at rest */
    int64_t store_cache;        /* storage.sqlite.cache_size for the processor; 0 = that */
} sb_config_processor;

typedef struct sb_config_task {
    int64_t queue_max;          /* events waiting for the worker; more are dropped (counted) */
    int64_t history;            /* entries kept in a task's state history */
    int64_t state_flush_ms;     /* how often evaluation-only state changes are stored */
    int64_t js_timeout_ms;      /* per javascript run */
    int64_t js_memory;          /* bytes per javascript run */
    int64_t webhook_timeout_ms; /* per webhook evaluation, unless the task sets its own */
} sb_config_task;

typedef struct sb_config_api {
    char *address;             /* listen address */
    int64_t port;              /* 0 = a free port, logged */
    int64_t body_limit;        /* bytes; larger request bodies get 413 unread */
    sb_strlist cors_origins;   /* origins allowed cross-site; "*" = any */
    int64_t token_lifetime_ms; /* login token validity */
    char *web_root;            /* static files of the dashboard; empty = none */
    int64_t firmware_limit;    /* bytes; larger firmware uploads get 413 unread */
    int64_t restore_limit;     /* bytes; larger backup uploads get 413 unread */
    char *backup_dir;          /* where POST /api/backup/run writes; empty = <data_dir>/backups */
    int64_t rate_limit;        /* requests per second per client; 0 = unlimited */
    int64_t rate_burst;        /* requests a client may send at once above the rate */
    int64_t login_failures;    /* failed logins per client within login_window; then 429 */
    int64_t login_window_ms;
    int64_t gzip_min; /* responses from this size are gzipped when accepted; 0 = never */
    /* device-tree edits: how long to wait for the processor's reply */
    int64_t processor_timeout_ms;
    /* the request worker pool (services/api/http.c) */
    int64_t workers; /* threads running handlers; 0 = all on the service thread */
} sb_config_api;

/* The handler service (switchboard-handler). */
typedef struct sb_config_handler_filter {
    cJSON *labels; /* a handler document must carry every one of these labels */
} sb_config_handler_filter;

typedef struct sb_config_handler {
    sb_config_handler_filter filter;
    int64_t queue_max; /* calls waiting for one handler; more are dropped and counted */
} sb_config_handler;

typedef struct sb_config_run {
    sb_strlist services; /* services `switchboard run` starts */
} sb_config_run;

/* Where this installation is: used by schedules and by templates (sunrise, sunset, format). */
typedef struct sb_config_site {
    char *timezone; /* IANA zone of wall-clock times; empty = the system's local zone */
    char *location; /* "latitude,longitude" in degrees (north/east positive); empty = none */
} sb_config_site;

typedef struct sb_config {
    char *data_dir;
    char *secret;
    char *instance; /* service instance id; empty = host name */
    sb_config_log log;
    sb_config_bus bus;
    sb_config_storage storage;
    sb_config_metrics metrics;
    sb_config_gateway gateway;
    sb_config_processor processor;
    sb_config_task task;
    sb_config_api api;
    sb_config_handler handler;
    sb_config_run run;
    sb_config_site site;
    char *source; /* the file it was loaded from, or "defaults" */
} sb_config;

/* The root option table of sb_config. */
extern const sb_option sb_config_table[];

/*
 * Loads the configuration: defaults, then the YAML file at path (NULL = no file), then the
 * environment. On failure em says "FILE:LINE: key 'bus.port': expected ...". Caller frees with
 * sb_config_free().
 */
sb_err sb_config_load(const char *path, sb_config **out, sb_errmsg *em);

/* The same from YAML text in memory; name is used in messages. */
sb_err sb_config_load_string(const char *yaml, size_t len, const char *name, sb_config **out,
                             sb_errmsg *em);

/* Defaults and environment only, without a file. */
sb_err sb_config_defaults(sb_config **out, sb_errmsg *em);

void sb_config_free(sb_config *cfg);

/* `switchboard config default`: every key with its default and a comment. */
void sb_config_print_default(FILE *out);

/* The effective configuration as YAML, secrets redacted. */
void sb_config_print(const sb_config *cfg, FILE *out);

/* A path under data_dir: sb_config_data_path(cfg, "secret") -> "<data_dir>/secret". malloc'd. */
char *sb_config_data_path(const sb_config *cfg, const char *name);

#endif
