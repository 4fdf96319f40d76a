/*
 * api.h - the HTTP API service (docs/api.md): a libwebsockets HTTP/1.1 server on one thread,
 * a small router, entity CRUD over the config store, login tokens (JWT HS256) and events on the
 * bus for every change.
 *
 * Internal to services/api, except sb_api_run_with(), api_params_query() (the fuzz target's
 * entry) and api_route_count()/api_route_at() (checked against openapi.json), which tests use.
 * Requests are handled one at a time on the lws service thread, so the handlers share the api
 * context without locks.
 */
#ifndef SB_API_H
#define SB_API_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/quickid.h"
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
    char headers[1024];       /* extra "Name: value\r\n" lines (Set-Cookie, Allow) */
    const char *content_type; /* static; NULL = application/json */
    bool close;               /* close the connection after the response (413: body left unread) */
} api_resp;

void api_params_free(api_params *p);
sb_err api_params_add(api_params *p, const char *key, const char *value);
const char *api_params_get(const api_params *p, const char *key);

/* Sets the response to obj (taken, deleted) with status. */
void api_reply(api_resp *rs, int status, cJSON *obj);
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
    struct ws_hub *hub;         /* websocket clients (ws.h) */
    struct sb_metrics *metrics; /* the metric store, NULL when none (metric.c) */
    /* counters for the status */
    uint64_t requests, errors;
} api;

typedef void (*api_handler)(api *a, api_req *rq, api_resp *rs);

/* Routes rq (method + path) to its handler after authentication; fills rs. */
void api_dispatch(api *a, api_req *rq, api_resp *rs);

/* One row of the route table: "GET", "/api/{kind}/{id}", the least role ("none", "readonly",
 * "readwrite"; writing users needs "admin" on top). */
typedef struct api_route_info {
    const char *method;
    const char *pattern;
    const char *role;
} api_route_info;
size_t api_route_count(void);
/* Row i < api_route_count(). */
api_route_info api_route_at(size_t i);

/* The OpenAPI document (openapi.json, embedded at build time) and the HTML list of its
 * operations (openapi.c). */
extern const char api_openapi_json[];
extern const size_t api_openapi_json_len;
void api_openapi(api *a, api_req *rq, api_resp *rs);
void api_docs(api *a, api_req *rq, api_resp *rs);

/* HTTP server (http.c): runs lws until stop. */
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

/* Actions and quick ids (action.c). */
void api_action(api *a, api_req *rq, api_resp *rs);
/* Subscribes <p>/ctl/api/action: api_action's body over the bus, replying with the result. */
sb_err api_action_subscribe(api *a, sb_errmsg *em);
void api_quickid(api *a, api_req *rq, api_resp *rs);

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
/* Removes what must never leave the server (password hashes) from a document in place. */
void api_entity_redact(sb_entity_kind kind, cJSON *doc);
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
/* A signed token for user; *exp its expiry (s since the epoch). Caller frees with free(). */
char *api_token_issue(api *a, const cJSON *user, int64_t *exp);
/* Hashes password as "pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>" into out (>= 160). */
sb_err api_password_hash(const char *password, char *out, size_t len, sb_errmsg *em);
bool api_password_verify(const char *password, const char *stored);
/* A random URL-safe string of n characters (n < len). */
sb_err api_random_text(char *out, size_t n, size_t len);

#define API_COOKIE "sb_token"

#endif
