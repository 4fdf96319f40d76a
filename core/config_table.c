/*
 * config_table.c - sb_config_table: every key of switchboard.yaml, its default, range and the
 * one line a user reads in `switchboard config default` and docs/configuration.md.
 *
 * The choices of each ENUM row are in the order of the C enum the member holds (config.h,
 * log.h); tests/unit/config_test.c checks that.
 */
#include "core/config.h"

#include <stddef.h>

#define MS(x)   ((double)(x))
#define SEC(x)  (1000.0 * (x))
#define MIN(x)  (60000.0 * (x))
#define HOUR(x) (3600000.0 * (x))
#define DAY(x)  (86400000.0 * (x))

static const char *const log_levels[] = {"error", "warn", "info", "debug", "trace", NULL};
static const char *const log_formats[] = {"text", "plain", NULL};
static const char *const mqtt_versions[] = {"auto", "5", "3.1.1", NULL};
static const char *const store_types[] = {"sqlite", "memory", "mongodb", NULL};
static const char *const sync_modes[] = {"always", "batch", NULL};
static const char *const metrics_types[] = {"influxdb", "none", NULL};

static const sb_option log_table[] = {
    SB_OPT_ROW_ENUM(sb_config_log, level, "level", "info", log_levels,
                    "Lowest level written to stderr."),
    SB_OPT_ROW_ENUM(sb_config_log, format, "format", "text", log_formats,
                    "text: timestamp and level name; plain: syslog <N> prefix for journald."),
    SB_OPT_END,
};

static const sb_option tls_table[] = {
    SB_OPT_ROW_STR(sb_config_tls, ca_file, "ca_file", "",
                   "PEM file of the CA that signed the broker's certificate; empty = system CAs."),
    SB_OPT_ROW_STR(sb_config_tls, cert_file, "cert_file", "",
                   "PEM client certificate, when the broker asks for one."),
    SB_OPT_ROW_STR(sb_config_tls, key_file, "key_file", "", "PEM private key of cert_file."),
    SB_OPT_ROW_BOOL(sb_config_tls, verify, "verify", "true",
                    "Check the broker's certificate and host name; turn off only for testing."),
    SB_OPT_END,
};

static const sb_option bus_table[] = {
    SB_OPT_ROW_BOOL(sb_config_bus, managed, "managed", "true",
                    "Start a private mosquitto broker as a child process when url is empty."),
    SB_OPT_ROW_STR(sb_config_bus, mosquitto, "mosquitto", "mosquitto",
                   "The mosquitto binary for the managed broker (a name on PATH or a path)."),
    SB_OPT_ROW_INT(sb_config_bus, managed_port, "managed_port", "0", 0, 65535,
                   "Loopback port of the managed broker; 0 picks a free port."),
    SB_OPT_ROW_STR(sb_config_bus, url, "url", "",
                   "Broker to connect to, tcp://host:1883 or ssl://host:8883; empty = the "
                   "managed broker."),
    {.type = SB_OPT_STRING,
     .key = "topic_prefix",
     .def = "switchboard",
     .offset = offsetof(sb_config_bus, topic_prefix),
     .flags = SB_OPT_REQUIRED,
     .desc = "First level of every topic; instances sharing a broker and a prefix form one "
             "system."},
    SB_OPT_ROW_STR(sb_config_bus, username, "username", "", "MQTT user name; empty = anonymous."),
    SB_OPT_ROW_SECRET(sb_config_bus, password, "password", "MQTT password."),
    SB_OPT_ROW_ENUM(sb_config_bus, mqtt_version, "mqtt_version", "auto", mqtt_versions,
                    "MQTT protocol version; auto uses 5 when the broker offers it, else 3.1.1."),
    SB_OPT_ROW_DURATION(sb_config_bus, keepalive_ms, "keepalive", "30s", SEC(1), HOUR(18),
                        "Ping interval; the broker drops a client silent for 1.5 times this."),
    SB_OPT_ROW_DURATION(sb_config_bus, connect_timeout_ms, "connect_timeout", "5s", MS(100), MIN(5),
                        "How long one connection attempt may take."),
    SB_OPT_ROW_DURATION(sb_config_bus, reconnect_min_ms, "reconnect_min", "250ms", MS(10), HOUR(1),
                        "First delay before reconnecting; doubles on each failure."),
    SB_OPT_ROW_DURATION(sb_config_bus, reconnect_max_ms, "reconnect_max", "30s", MS(100), DAY(1),
                        "Longest delay between reconnect attempts."),
    SB_OPT_ROW_DURATION(sb_config_bus, session_expiry_ms, "session_expiry", "7d", 0, DAY(49710),
                        "How long the broker keeps a stopped service's queued messages."),
    SB_OPT_ROW_INT(sb_config_bus, max_pending, "max_pending", "100000", 1, 100000000,
                   "Publishes awaiting the broker's acknowledgement before publishing fails."),
    SB_OPT_ROW_INT(sb_config_bus, receive_max, "receive_max", "0", 0, 65535,
                   "MQTT 5: QoS 1 messages the broker may send before the service acknowledged "
                   "them; 0 = the broker's limit. Small values stall deliveries (bus.md)."),
    SB_OPT_ROW_INT(sb_config_bus, batch_max, "batch_max", "500", 1, 100000,
                   "Most messages sent in one batch frame on internal hops."),
    SB_OPT_ROW_DURATION(sb_config_bus, batch_delay_ms, "batch_delay", "5ms", 0, SEC(10),
                        "Longest wait to fill a batch frame; 0 sends at once."),
    SB_OPT_ROW_DURATION(sb_config_bus, status_interval_ms, "status_interval", "10s", MS(100),
                        MIN(60),
                        "How often each service republishes its retained status with counters."),
    SB_OPT_ROW_SECTION(sb_config_bus, tls, "tls", tls_table, "TLS for ssl:// broker URLs."),
    SB_OPT_END,
};

static const sb_option memory_table[] = {
    SB_OPT_ROW_STR(sb_config_store_memory, dir, "dir", "",
                   "Directory of the journal and snapshots; empty = <data_dir>/memory."),
    SB_OPT_ROW_ENUM(sb_config_store_memory, sync, "sync", "always", sync_modes,
                    "always: fsync every write before acknowledging it; batch: every "
                    "sync_interval."),
    SB_OPT_ROW_DURATION(sb_config_store_memory, sync_interval_ms, "sync_interval", "100ms", MS(1),
                        MIN(1), "fsync interval when sync is batch."),
    SB_OPT_ROW_INT(sb_config_store_memory, snapshot_every, "snapshot_every", "10000", 1, 1000000000,
                   "Journal records written between two snapshots."),
    SB_OPT_END,
};

static const sb_option sqlite_table[] = {
    SB_OPT_ROW_STR(sb_config_store_sqlite, path, "path", "",
                   "Database file; empty = <data_dir>/switchboard.db."),
    SB_OPT_ROW_ENUM(sb_config_store_sqlite, sync, "sync", "always", sync_modes,
                    "always: every commit is on disk before it is acknowledged; batch: faster."),
    SB_OPT_ROW_DURATION(sb_config_store_sqlite, busy_timeout_ms, "busy_timeout", "5s", 0, MIN(10),
                        "How long to wait for another process's lock on the database."),
    SB_OPT_ROW_LIST(sb_config_store_sqlite, index, "index",
                    "id,name,type,metricType,gatewayId,nodeId,sourceId,labels.*",
                    "Key paths with an equality index for eq/in filters ('a.*': every member of "
                    "a); changing it rebuilds the index at the next start."),
    SB_OPT_ROW_INT(sb_config_store_sqlite, cache_size, "cache_size", "2048000", 65536,
                   INT64_C(1) << 40,
                   "Bytes of SQLite's page cache per connection (SQLite's own default)."),
    SB_OPT_END,
};

static const sb_option mongodb_table[] = {
    SB_OPT_ROW_STR(sb_config_store_mongodb, uri, "uri", "mongodb://127.0.0.1:27017",
                   "MongoDB connection string (replica sets: mongodb://a,b,c/?replicaSet=rs0)."),
    SB_OPT_ROW_STR(sb_config_store_mongodb, database, "database", "switchboard",
                   "Database that holds the collections."),
    SB_OPT_ROW_STR(sb_config_store_mongodb, collection_prefix, "collection_prefix", "",
                   "Prepended to every collection name, to share one database."),
    SB_OPT_ROW_DURATION(sb_config_store_mongodb, connect_timeout_ms, "connect_timeout", "5s",
                        MS(100), MIN(5), "How long to wait for a server on connect."),
    SB_OPT_ROW_INT(sb_config_store_mongodb, pool_max, "pool_max", "16", 1, 1000,
                   "Most connections in the client pool."),
    SB_OPT_END,
};

static const sb_option storage_table[] = {
    SB_OPT_ROW_ENUM(sb_config_storage, type, "type", "sqlite", store_types,
                    "Config store: sqlite (one host), memory (one process), mongodb "
                    "(distributed)."),
    SB_OPT_ROW_SECTION(sb_config_storage, memory, "memory", memory_table,
                       "The memory store: RAM with a journal and snapshots on disk."),
    SB_OPT_ROW_SECTION(sb_config_storage, sqlite, "sqlite", sqlite_table, "The SQLite store."),
    SB_OPT_ROW_SECTION(sb_config_storage, mongodb, "mongodb", mongodb_table, "The MongoDB store."),
    SB_OPT_END,
};

static const sb_option metrics_table[] = {
    SB_OPT_ROW_ENUM(sb_config_metrics, type, "type", "influxdb", metrics_types,
                    "Where field values are recorded; none keeps only the current values."),
    SB_OPT_ROW_BOOL(sb_config_metrics, managed, "managed", "true",
                    "Start a private influxd as a child process when url is empty."),
    SB_OPT_ROW_STR(sb_config_metrics, influxd, "influxd", "influxd",
                   "The influxd binary for the managed InfluxDB."),
    SB_OPT_ROW_STR(sb_config_metrics, url, "url", "",
                   "InfluxDB base URL, http://host:8086; empty = the managed influxd."),
    SB_OPT_ROW_STR(sb_config_metrics, database, "database", "switchboard",
                   "InfluxDB 1.x database (2.x: the bucket)."),
    SB_OPT_ROW_STR(sb_config_metrics, username, "username", "",
                   "InfluxDB user name; empty = no authentication."),
    SB_OPT_ROW_SECRET(sb_config_metrics, password, "password", "InfluxDB 1.x password."),
    SB_OPT_ROW_INT(sb_config_metrics, version, "version", "1", 1, 2,
                   "InfluxDB API: 1 (/write, InfluxQL) or 2 (/api/v2, Flux, token)."),
    SB_OPT_ROW_STR(sb_config_metrics, org, "org", "", "InfluxDB 2.x organisation."),
    SB_OPT_ROW_STR(sb_config_metrics, bucket, "bucket", "",
                   "InfluxDB 2.x bucket; empty = the database name."),
    SB_OPT_ROW_SECRET(sb_config_metrics, token, "token", "InfluxDB 2.x API token."),
    SB_OPT_ROW_INT(sb_config_metrics, batch_size, "batch_size", "5000", 1, 1000000,
                   "Points per write request; a full batch is sent at once."),
    SB_OPT_ROW_DURATION(sb_config_metrics, flush_interval_ms, "flush_interval", "1s", 1, MIN(10),
                        "Longest time a point waits before it is sent."),
    SB_OPT_ROW_INT(sb_config_metrics, buffer_max, "buffer_max", "1000000", 1, 1000000000,
                   "Most points held while InfluxDB is down (RAM + disk); the oldest go first."),
    SB_OPT_ROW_STR(sb_config_metrics, buffer_dir, "buffer_dir", "",
                   "Spill points to append-only files here while InfluxDB is down (one writer "
                   "per directory); empty = RAM only: device frames then wait for InfluxDB."),
    SB_OPT_ROW_DURATION(sb_config_metrics, timeout_ms, "timeout", "5s", MS(100), MIN(5),
                        "Timeout of one HTTP request to InfluxDB."),
    SB_OPT_ROW_INT(sb_config_metrics, managed_port, "managed_port", "0", 0, 65535,
                   "HTTP port of the managed influxd; 0 = a free loopback port."),
    SB_OPT_END,
};

static const sb_option gateway_filter_table[] = {
    SB_OPT_ROW_MAP(sb_config_gateway_filter, labels, "labels",
                   "Run only the gateways whose labels include all of these; empty = every "
                   "gateway."),
    SB_OPT_END,
};

static const sb_option gateway_table[] = {
    SB_OPT_ROW_SECTION(sb_config_gateway, filter, "filter", gateway_filter_table,
                       "Which gateway documents this instance runs."),
    SB_OPT_ROW_STR(sb_config_gateway, log_dir, "log_dir", "",
                   "Directory of the per-gateway message log files; empty = "
                   "<data_dir>/gateway-logs."),
    SB_OPT_ROW_INT(sb_config_gateway, out_queue_max, "out_queue_max", "10000", 1, 10000000,
                   "Messages waiting to be sent to one gateway's devices; more are dropped."),
    SB_OPT_ROW_INT(sb_config_gateway, in_queue_max, "in_queue_max", "10000", 0, 10000000,
                   "Received messages an MQTT provider holds per gateway while the processor "
                   "is behind (its window is full); more are dropped, counted and logged."),
    /* the msg/in journal */
    SB_OPT_ROW_BOOL(sb_config_gateway, journal, "journal", "true",
                    "Keep received messages the processor has not acknowledged in a journal "
                    "file, so a crash of the gateway service loses none; false: in memory only "
                    "(no disk write per message)."),
    SB_OPT_ROW_STR(sb_config_gateway, journal_dir, "journal_dir", "",
                   "Directory of the per-gateway journals of received messages not yet "
                   "acknowledged by the processor; empty = <data_dir>/gateway-journal."),
    SB_OPT_ROW_BOOL(sb_config_gateway, journal_sync, "journal_sync", "false",
                    "fdatasync the journal after every record: survives a power loss, not only "
                    "a crash of the process, at the cost of a disk flush per message."),
    SB_OPT_END,
};

static const sb_option processor_table[] = {
    SB_OPT_ROW_DURATION(sb_config_processor, node_down_after_ms, "node_down_after", "15m", 0,
                        DAY(365),
                        "A node without traffic for this long is marked down; 0 = never."),
    SB_OPT_ROW_INT(sb_config_processor, queue_max, "queue_max", "1000", 1, 1000000,
                   "Frames received and not yet applied; when full the bus waits."),
    SB_OPT_ROW_INT(sb_config_processor, field_cache, "field_cache", "2000", 16, 100000000,
                   "Field records kept in memory, most recently used first; the others are "
                   "read from the store when a value arrives for them."),
    SB_OPT_ROW_INT(sb_config_processor, field_cache_bytes, "field_cache_bytes", "1048576", 4096,
                   INT64_C(1) << 40,
                   "Bytes the field records kept in memory may take (a record at rest is its "
                   "JSON text, ~0.5 kB); the least recently used beyond it are dropped."),
    SB_OPT_ROW_INT(sb_config_processor, store_cache, "store_cache", "262144", 0, INT64_C(1) << 40,
                   "storage.sqlite.cache_size for the processor's connection; 0 = that value. "
                   "Its reads are single records by id, which a large cache hardly helps."),
    SB_OPT_END,
};

static const sb_option task_table[] = {
    SB_OPT_ROW_INT(sb_config_task, queue_max, "queue_max", "10000", 1, 10000000,
                   "Events waiting for evaluation; when full, further events are dropped and "
                   "counted."),
    SB_OPT_ROW_INT(sb_config_task, history, "history", "20", 0, 1000,
                   "Entries (triggers, errors, changes of message) kept in a task's state."),
    SB_OPT_ROW_DURATION(sb_config_task, state_flush_ms, "state_flush", "10s", 100, DAY(1),
                        "How often a task's lastEvaluation is stored when nothing else changed."),
    SB_OPT_ROW_DURATION(sb_config_task, js_timeout_ms, "js_timeout", "1s", 10, MIN(10),
                        "Longest run of a javascript evaluation; a longer one is stopped."),
    SB_OPT_ROW_INT(sb_config_task, js_memory, "js_memory", "16777216", 262144, 1073741824,
                   "Bytes a javascript evaluation may allocate; more fails the run."),
    SB_OPT_ROW_DURATION(sb_config_task, webhook_timeout_ms, "webhook_timeout", "10s", 100, MIN(10),
                        "Longest webhook evaluation, unless the task sets its own."),
    SB_OPT_END,
};

static const sb_option api_table[] = {
    SB_OPT_ROW_STR(sb_config_api, address, "address", "127.0.0.1",
                   "Address the HTTP API listens on; 0.0.0.0 = every interface."),
    SB_OPT_ROW_INT(sb_config_api, port, "port", "8080", 0, 65535,
                   "HTTP port of the API; 0 picks a free port (logged at start)."),
    SB_OPT_ROW_INT(sb_config_api, body_limit, "body_limit", "1048576", 1024, 1073741824,
                   "Largest request body in bytes; larger ones are refused with 413 unread."),
    SB_OPT_ROW_LIST(sb_config_api, cors_origins, "cors_origins", "",
                    "Origins browsers may call the API from (https://host:port); * = any."),
    SB_OPT_ROW_DURATION(sb_config_api, token_lifetime_ms, "token_lifetime", "24h", MIN(1), DAY(365),
                        "How long a login token stays valid."),
    SB_OPT_ROW_STR(sb_config_api, web_root, "web_root", "",
                   "Directory of the web dashboard's static files; empty = none served."),
    SB_OPT_ROW_INT(sb_config_api, firmware_limit, "firmware_limit", "1048560", 1024, 1073741824,
                   "Largest firmware upload in bytes (MySensors OTA: 65535 blocks of 16 bytes); "
                   "larger ones are refused with 413 unread."),
    SB_OPT_ROW_INT(sb_config_api, restore_limit, "restore_limit", "268435456", 1024, 17179869184,
                   "Largest backup archive POST /api/restore accepts, in bytes."),
    SB_OPT_ROW_STR(sb_config_api, backup_dir, "backup_dir", "",
                   "Directory of the backups POST /api/backup/run writes; empty = "
                   "<data_dir>/backups."),
    SB_OPT_ROW_INT(sb_config_api, rate_limit, "rate_limit", "0", 0, 1000000,
                   "Requests per second one client (token, else address) may send; over it 429 "
                   "with Retry-After. 0 = unlimited."),
    SB_OPT_ROW_INT(sb_config_api, rate_burst, "rate_burst", "100", 1, 1000000,
                   "Requests a client may send at once before rate_limit applies."),
    SB_OPT_ROW_INT(sb_config_api, login_failures, "login_failures", "10", 0, 1000000,
                   "Failed logins one address may make within login_window; more get 429. "
                   "0 = unlimited."),
    SB_OPT_ROW_DURATION(sb_config_api, login_window_ms, "login_window", "5m", SEC(1), DAY(1),
                        "The window login_failures counts in."),
    SB_OPT_ROW_INT(sb_config_api, gzip_min, "gzip_min", "1024", 0, 1073741824,
                   "Responses of at least this many bytes are gzip-compressed for clients that "
                   "accept it; 0 = never."),
    /* device-tree edits (docs/api.md) */
    SB_OPT_ROW_DURATION(sb_config_api, processor_timeout_ms, "processor_timeout", "5s", MS(100),
                        MIN(1),
                        "How long an edit or delete of a node, source or field waits for the "
                        "processor's reply before answering 503."),
    /* the request worker pool (docs/api.md) */
    SB_OPT_ROW_INT(sb_config_api, workers, "workers", "4", 0, 256,
                   "Threads that run API requests, so a slow one (a device-tree edit waiting "
                   "for the processor, a metric query, a backup) does not hold up the others; "
                   "0 = every request on the service thread."),
    SB_OPT_END,
};

/* The handler service. */
static const sb_option handler_filter_table[] = {
    SB_OPT_ROW_MAP(sb_config_handler_filter, labels, "labels",
                   "Run only the handlers whose labels include all of these; empty = every "
                   "handler."),
    SB_OPT_END,
};

static const sb_option handler_table[] = {
    SB_OPT_ROW_SECTION(sb_config_handler, filter, "filter", handler_filter_table,
                       "Which handler documents this instance runs."),
    SB_OPT_ROW_INT(sb_config_handler, queue_max, "queue_max", "1000", 1, 1000000,
                   "Calls waiting for one handler; more are dropped (and counted in the "
                   "status)."),
    SB_OPT_END,
};

static const sb_option run_table[] = {
    SB_OPT_ROW_LIST(sb_config_run, services, "services",
                    "gateway,processor,forward,task,scheduler,handler,api",
                    "Services `switchboard run` starts, each on its own thread."),
    SB_OPT_END,
};

static const sb_option site_table[] = {
    SB_OPT_ROW_STR(sb_config_site, timezone, "timezone", "",
                   "IANA time zone of schedules and templates (Europe/Berlin); empty = the "
                   "system's."),
    SB_OPT_ROW_STR(sb_config_site, location, "location", "",
                   "latitude,longitude in degrees for sunrise/sunset (52.52,13.405); empty = none. "
                   "The settings entity's geoLocation overrides it."),
    SB_OPT_END,
};

const sb_option sb_config_table[] = {
    {.type = SB_OPT_STRING,
     .key = "data_dir",
     .def = "data",
     .offset = offsetof(sb_config, data_dir),
     .flags = SB_OPT_REQUIRED,
     .desc = "Directory for databases, journals and managed brokers; relative to the working "
             "directory."},
    SB_OPT_ROW_SECRET(sb_config, secret, "secret",
                      "Key that signs login tokens and encrypts secrets inside stored entities; "
                      "empty = generated once into <data_dir>/secret."),
    SB_OPT_ROW_STR(sb_config, instance, "instance", "",
                   "Name of this service instance in client ids and status topics; empty = "
                   "host name."),
    SB_OPT_ROW_SECTION(sb_config, log, "log", log_table, "Logging."),
    SB_OPT_ROW_SECTION(sb_config, bus, "bus", bus_table, "The MQTT bus every service connects to."),
    SB_OPT_ROW_SECTION(sb_config, storage, "storage", storage_table,
                       "Where entities (gateways, nodes, fields, tasks ...) are kept."),
    SB_OPT_ROW_SECTION(sb_config, metrics, "metrics", metrics_table,
                       "The time series of field values."),
    SB_OPT_ROW_SECTION(sb_config, gateway, "gateway", gateway_table,
                       "The gateway service (switchboard-gateway)."),
    SB_OPT_ROW_SECTION(sb_config, processor, "processor", processor_table,
                       "The message processor (switchboard-processor)."),
    SB_OPT_ROW_SECTION(sb_config, task, "task", task_table, "The task service (switchboard-task)."),
    SB_OPT_ROW_SECTION(sb_config, api, "api", api_table, "The HTTP API (switchboard-api)."),
    SB_OPT_ROW_SECTION(sb_config, handler, "handler", handler_table,
                       "The handler service (switchboard-handler)."),
    SB_OPT_ROW_SECTION(sb_config, run, "run", run_table, "The all-in-one `switchboard run`."),
    SB_OPT_ROW_SECTION(sb_config, site, "site", site_table,
                       "Where this installation is (schedules, sunrise/sunset, templates)."),
    SB_OPT_END,
};
