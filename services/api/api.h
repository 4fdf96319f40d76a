/*
 * api.h - the HTTP API service (docs/api.md): a libwebsockets HTTP/1.1 server on one thread,
 * a small router, entity CRUD over the config store, login tokens (JWT HS256) and events on the
 * bus for every change.
 *
 * Internal to services/api, except sb_api_run_with(), api_params_query() (the fuzz target's
 * entry) and api_route_count()/api_route_at() (checked against openapi.json), which tests use.
 *
 * Concurrency contract. One lws service thread does all network I/O and owns every connection
 * (wsi, session, websocket client). Handlers (api_dispatch and everything it calls) run on the
 * api.workers pool threads (pool.c), several at once, plus the few quick routes the service
 * thread answers itself (api_route_quick). So a handler:
 * - touches only its own api_req/api_resp and what is safe from several threads: the store
 *   (store.h: every call thread-safe), the bus (bus.h: thread-safe, sb_bus_request included),
 *   the metric store (metrics.h), sb_histo, the config (read-only), a->secret and a->seal
 *   (read-only after start), the counters below (atomic), the throttle tables and the status
 *   book (each behind its own mutex);
 * - never touches a wsi, a session or the websocket hub's clients (service thread only);
 * - serializes what must not run twice at once itself: backups and restores (backup_mu, a
 *   second one gets 409), firmware uploads (firmware_mu).
 * Two writes of the same entity at once: the last one stored wins, as with two clients.
 */
#ifndef SB_API_H
#define SB_API_H

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/histo.h"
#include "core/quickid.h"
#include "core/secret.h"
#include "core/service.h"
#include "storage/store.h"

/* Hooks for tests: told the bound port once the server listens (port 0 picks a free one). */
typedef struct sb_api_hooks {
    void (*listening)(void *ctx, int port);
    void *ctx;
} sb_api_hooks;

int sb_api_run_with(const sb_config *cfg, sb_stop_flag *stop, const sb_api_hooks *hooks);
int sb_api_run(const sb_config *cfg, sb_stop_flag *stop);

/* ---- requests and responses ---------------------------------------------------------------- */

typedef enum api_method {
    API_GET = 0,
    API_POST,
    API_PUT,
    API_PATCH,
    API_DELETE,
    API_OPTIONS,
    API_HEAD,
    API_OTHER
} api_method;

typedef enum api_role {
    API_ROLE_NONE = 0,
    API_ROLE_READONLY,
    API_ROLE_READWRITE,
    API_ROLE_ADMIN
} api_role;

/* Query parameters in arrival order; keys and values owned (already URL-decoded). */
typedef struct api_params {
    char **keys;
    char **values;
    size_t n;
} api_params;

typedef struct api_req {
    api_method method;
    char path[1024];
    api_params params;
    char *body; /* NUL-terminated, owned; NULL when there was none */
    size_t body_len;
    char content_type[128];
    char authorization[2048];
    char cookie[2048];
    char client[64]; /* the peer's address */
    /* filled by the router and the authentication step */
    sb_entity_kind kind;
    char id[SB_QUICKID_PART_MAX];
    api_role role;
    char user_id[SB_QUICKID_PART_MAX];
    char username[SB_QUICKID_PART_MAX];
} api_req;

typedef struct api_resp {
    int status;
    char *body; /* owned, JSON text */
    size_t len;
    char headers[2048];       /* extra "Name: value\r\n" lines (Set-Cookie, Allow) */
    const char *content_type; /* static; NULL = application/json */
    bool close;               /* close the connection after the response (413: body left unread) */
    bool as_is;               /* never compressed on the fly (static files: own .gz and ETag) */
} api_resp;

void api_params_free(api_params *p);
sb_err api_params_add(api_params *p, const char *key, const char *value);
const char *api_params_get(const api_params *p, const char *key);

/* Sets the response to obj (taken, deleted) with status. */
void api_reply(api_resp *rs, int status, cJSON *obj);
/* Takes body (malloc'd, len bytes; NULL = a 500) as the response with a static content type. */
void api_reply_raw(api_resp *rs, int status, const char *ctype, char *body, size_t len);
/* {"error": msg, "detail": detail-or-null} with status. */
void api_error(api_resp *rs, int status, const char *msg, const char *detail);
void api_errorf(api_resp *rs, int status, const char *msg, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Maps a store/library error to an HTTP status (NOTFOUND 404, INVALID/PARSE 400 ...). */
int api_status_of(sb_err err);
void api_add_header(api_resp *rs, const char *name, const char *value);

/*
 * Turns limit, offset, sortBy, filter and plain key=value parameters into a store query:
 * limit 1..1000 (default 50), offset >= 0, sortBy and filter JSON-stringified as MyController's
 * web console sends them, every other parameter an eq filter ("true"/"false" also match the
 * booleans). SB_ERR_INVALID naming the parameter. Free q with sb_query_free().
 */
sb_err api_params_query(const api_params *p, sb_query *q, sb_errmsg *em);

/* ---- the service context ------------------------------------------------------------------- */

typedef struct api {
    const sb_config *cfg;
    sb_service *svc;
    sb_bus *bus;
    sb_store *store;
    sb_logger log;
    unsigned char secret[64];
    size_t secret_len;
    sb_secret_key seal;             /* seals secrets inside entities (core/secret.h) */
    struct ws_hub *hub;             /* websocket clients (ws.h) */
    struct sb_metrics *metrics;     /* the metric store, NULL when none (metric.c) */
    struct api_status_book *status; /* the services' retained status documents (system.c) */
    struct api_throttle *throttle;  /* per-client request and login counts (throttle.c) */
    struct api_pool *pool;          /* the request workers, NULL = none (http.c, pool.c) */
    pthread_mutex_t backup_mu;      /* one backup or restore at a time (backups.c) */
    pthread_mutex_t firmware_mu;    /* one firmware upload at a time (firmware.c) */
    int64_t started_ms;
    /* counters for the status */
    atomic_uint_fast64_t requests, errors;
    sb_histo request_ms; /* time to answer a request (handler only, not the network) */
} api;

typedef struct api_status_book api_status_book;

typedef void (*api_handler)(api *a, api_req *rq, api_resp *rs);

/* Routes rq (method + path) to its handler after authentication; fills rs. Any thread. */
void api_dispatch(api *a, api_req *rq, api_resp *rs);
/* Whether rq's route answers at once without waiting on anything (GET /api/status): the
 * service thread runs it itself instead of queueing it for a worker. */
bool api_route_quick(const api_req *rq);

/*
 * The request workers (pool.c). A job is one request and its response; owner is the service
 * thread's (http.c's session; NULL once the connection closed), never read by the pool.
 * api_pool_start(): n threads, wake(ctx) called by a worker after each finished job (NULL when
 * no thread started). api_pool_submit(): queues j (taken) for a worker; false (j not taken)
 * once stopping. api_pool_take_done(): the finished jobs as a list (next), or NULL.
 * api_pool_stop(): workers finish the job they run, then end; unstarted jobs stay queued.
 * api_pool_free(): stops and frees every job still held.
 */
typedef struct api_job {
    struct api_job *next;
    void *owner;
    api_req rq;
    api_resp rs;
    char accept_encoding[256]; /* the worker gzips the answer as the client accepts it */
} api_job;
typedef struct api_pool api_pool;
api_pool *api_pool_start(api *a, size_t n, void (*wake)(void *ctx), void *ctx);
size_t api_pool_threads(const api_pool *p);
bool api_pool_submit(api_pool *p, api_job *j);
api_job *api_pool_take_done(api_pool *p);
void api_pool_stop(api_pool *p);
void api_pool_free(api_pool *p);
/* Frees j with its request and response. */
void api_job_free(api_job *j);

/* One row of the route table: "GET", "/api/{kind}/{id}", the least role ("none", "readonly",
 * "readwrite"; writing users needs "admin" on top). */
typedef struct api_route_info {
    const char *method;
    const char *pattern;
    const char *role;
} api_route_info;
size_t api_route_count(void);
/* The largest body the route for method + path takes: api.firmware_limit for firmware uploads,
 * api.restore_limit for restores, else api.body_limit. */
int64_t api_body_limit(const api *a, api_method method, const char *path);
/* Row i < api_route_count(). */
api_route_info api_route_at(size_t i);

/* The OpenAPI document (openapi.json, embedded at build time) and the HTML list of its
 * operations (openapi.c). */
extern const char api_openapi_json[];
extern const size_t api_openapi_json_len;
void api_openapi(api *a, api_req *rq, api_resp *rs);
void api_docs(api *a, api_req *rq, api_resp *rs);

/* HTTP server (http.c): runs lws (and the request workers) until stop. */
int api_http_run(api *a, sb_stop_flag *stop, const sb_api_hooks *hooks);

/* Entity routes (entity.c, entity_write.c). */
void api_entity_list(api *a, api_req *rq, api_resp *rs);
void api_entity_get(api *a, api_req *rq, api_resp *rs);
void api_entity_save(api *a, api_req *rq, api_resp *rs);
void api_entity_delete(api *a, api_req *rq, api_resp *rs);
void api_entity_enable(api *a, api_req *rq, api_resp *rs);
void api_entity_disable(api *a, api_req *rq, api_resp *rs);

/* Metrics (metric.c): opens a->metrics from the config (NULL when none); the routes. */
void api_metric_open(api *a);
void api_metric_get(api *a, api_req *rq, api_resp *rs);
void api_metric_post(api *a, api_req *rq, api_resp *rs);

/* Firmware files (firmware.c): POST /api/firmware/upload/{id}; the file's path for an id. */
void api_firmware_upload(api *a, api_req *rq, api_resp *rs);
/* Removes the uploaded file of a deleted firmware document (borrowed), if it has one. */
void api_firmware_forget(api *a, const cJSON *doc);

/* The installation (system.c): subscribes to <p>/status/+/+ and keeps what arrives; the
 * routes GET /api/system and GET /metrics (Prometheus). */
sb_err api_system_open(api *a, sb_errmsg *em);
void api_system_close(api *a);
void api_system(api *a, api_req *rq, api_resp *rs);
void api_prometheus(api *a, api_req *rq, api_resp *rs);

/*
 * Throttling (throttle.c). api_throttle_request(): false with 429 and Retry-After in rs when the
 * client (its token, else its address) is over api.rate_limit. api_throttle_login_allowed():
 * false with 429 when its address had api.login_failures failed logins within
 * api.login_window; api_throttle_login_result() counts a login's outcome.
 */
sb_err api_throttle_open(api *a);
void api_throttle_close(api *a);
bool api_throttle_request(api *a, const api_req *rq, api_resp *rs);
bool api_throttle_login_allowed(api *a, const api_req *rq, api_resp *rs);
void api_throttle_login_result(api *a, const api_req *rq, bool ok);

/*
 * gzip (gzip.c). api_accepts_gzip(): whether an Accept-Encoding value allows gzip (q > 0, or *).
 * api_gzip(): in as a gzip stream into *out (caller frees). api_gzip_response(): compresses a
 * JSON or text body of at least api.gzip_min bytes for a client that accepts it.
 */
bool api_accepts_gzip(const char *accept_encoding);
sb_err api_gzip(const char *in, size_t len, char **out, size_t *out_len);
void api_gzip_response(api *a, const char *accept_encoding, api_resp *rs);

/* Backups (backups.c): POST /api/backup/run, GET /api/backup, GET /api/backup/{name},
 * POST /api/restore. */
void api_backup_run(api *a, api_req *rq, api_resp *rs);
void api_backup_list(api *a, api_req *rq, api_resp *rs);
void api_backup_download(api *a, api_req *rq, api_resp *rs);
void api_restore(api *a, api_req *rq, api_resp *rs);

/* Actions and quick ids (action.c). */
void api_action(api *a, api_req *rq, api_resp *rs);
/* Subscribes <p>/ctl/api/action: api_action's body over the bus, replying with the result. */
sb_err api_action_subscribe(api *a, sb_errmsg *em);
void api_quickid(api *a, api_req *rq, api_resp *rs);

/* schedule_preview.c: POST /api/schedule/preview. */
void api_schedule_preview(api *a, api_req *rq, api_resp *rs);

/* settings.c: GET and POST /api/settings (the settings document "system"). */
void api_settings_get(api *a, api_req *rq, api_resp *rs);
void api_settings_save(api *a, api_req *rq, api_resp *rs);

/*
 * Device-tree records (entity_tree.c): node, source and field are the processor's, so their
 * edits and deletes go to it over the bus (<p>/ctl/processor/edit|delete) and rs is answered
 * from its reply (503 when no processor answered within api.processor_timeout).
 * api_tree_edit sends changes (borrowed) for the record id of kind; the processor applies the
 * keys users may edit and ignores the others.
 * api_tree_delete deletes the records ids (borrowed) of kind and every record below them; for
 * a gateway only the device tree below it, leaving rs unset on success for the caller, which
 * deletes the gateway itself; *deleted is the number of records the processor deleted.
 * SB_OK when the processor applied it.
 */
bool api_kind_is_tree(sb_entity_kind kind);
sb_err api_tree_edit(api *a, sb_entity_kind kind, const char *id, const cJSON *changes,
                     api_resp *rs);
sb_err api_tree_delete(api *a, sb_entity_kind kind, const cJSON *ids, api_resp *rs, int *deleted);

/*
 * Checks a posted entity against the known keys of its kind: wrong-typed keys fail, all of them
 * named in em ("enabled: expected a boolean; labels.room: expected a string").
 */
sb_err api_entity_validate(sb_entity_kind kind, const cJSON *doc, sb_errmsg *em);
bool api_kind_has_enabled(sb_entity_kind kind);
/* Removes what must never leave the server from a document in place: password and token
 * hashes; secrets (core/secret.h) read as "********". */
void api_entity_redact(sb_entity_kind kind, cJSON *doc);
/* Whether documents of kind may hold secrets that are sealed at rest (not users, service tokens,
 * the device tree or firmware). */
bool api_kind_has_secrets(sb_entity_kind kind);
/* Seals every secret still stored in clear (secrets.c); logs what it did or could not do. */
void api_secrets_seal_stored(api *a);
/* Publishes <p>/event/<kind>/<id> {type, entityType, entityId, quickId, entity}. Borrows doc. */
void api_event(api *a, const char *type, sb_entity_kind kind, const cJSON *doc);

/* Auth (auth.c, password.c). */
sb_err api_auth_init(api *a, sb_errmsg *em);
/* Reads the token from Authorization: Bearer or the cookie; fills rq->role and the user. */
sb_err api_authenticate(api *a, api_req *rq, sb_errmsg *em);
api_role api_role_parse(const char *name);
void api_user_login(api *a, api_req *rq, api_resp *rs);
void api_user_logout(api *a, api_req *rq, api_resp *rs);
void api_user_profile(api *a, api_req *rq, api_resp *rs);
void api_user_profile_update(api *a, api_req *rq, api_resp *rs);
void api_user_password(api *a, api_req *rq, api_resp *rs);
/* Moves user (a stored document) to its next token generation: tokens issued before stop
 * working once it is stored. */
void api_user_revoke_tokens(cJSON *user);
/* Reload (entity_write.c): POST /api/<kind>/reload [ids] -> <p>/ctl/<service>/reload. */
void api_entity_reload(api *a, api_req *rq, api_resp *rs);
/* A signed token for user; *exp its expiry (s since the epoch). Caller frees with free(). */
char *api_token_issue(api *a, const cJSON *user, int64_t *exp);
/* Hashes password as "pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>" into out (>= 160). */
sb_err api_password_hash(const char *password, char *out, size_t len, sb_errmsg *em);
bool api_password_verify(const char *password, const char *stored);
/*
 * Service tokens (token.c). api_token_prepare() readies a posted service_token document:
 * checks role and expiresAt; for a new token makes the secret, stores its hash and writes the
 * "<id>_<secret>" to show once into shown (an update keeps the hash; shown stays ""). False
 * with rs set when the document is refused. api_token_authenticate() checks a bearer token
 * that is not a JWT and fills rq's role and user.
 */
bool api_token_prepare(api *a, api_req *rq, cJSON *doc, const cJSON *old, api_resp *rs, char *shown,
                       size_t len);
sb_err api_token_authenticate(api *a, const char *token, api_req *rq, sb_errmsg *em);
/* A random URL-safe string of n characters (n < len). */
sb_err api_random_text(char *out, size_t n, size_t len);

#define API_COOKIE "sb_token"

#endif
