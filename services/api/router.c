/*
 * router.c - the route table (method + path pattern -> handler + who may call it), matching,
 * the authentication step, and the JSON reply helpers every handler uses.
 *
 * Patterns are '/'-separated; "{kind}" matches an entity kind name (or MyController alias) that
 * the API serves, "{id}" any one non-empty segment. A path that matches a pattern under another
 * method gets 405 with an Allow header; a path nothing matches gets 404.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "core/json.h"
#include "core/time.h"

typedef enum { AUTH_NONE = 0, AUTH_READ, AUTH_WRITE, AUTH_ADMIN } auth_need;

/* Which limit applies to the request body (api.body_limit unless the route takes files). */
typedef enum { BODY_JSON = 0, BODY_FIRMWARE, BODY_BACKUP } body_kind;

typedef struct route {
    api_method method;
    const char *pattern;
    api_handler fn;
    auth_need need;
    body_kind body;
} route;

static bool match(const char *pattern, const char *path, api_req *rq);
static void status(api *a, api_req *rq, api_resp *rs);
static void version(api *a, api_req *rq, api_resp *rs);

static const route routes[] = {
    {API_GET, "/api/status", status, AUTH_NONE, BODY_JSON},
    {API_GET, "/api/version", version, AUTH_READ, BODY_JSON},
    {API_GET, "/api/system", api_system, AUTH_READ, BODY_JSON},
    {API_GET, "/metrics", api_prometheus, AUTH_READ, BODY_JSON},
    {API_GET, "/api/openapi.json", api_openapi, AUTH_NONE, BODY_JSON},
    {API_GET, "/api/docs", api_docs, AUTH_NONE, BODY_JSON},
    {API_POST, "/api/user/login", api_user_login, AUTH_NONE, BODY_JSON},
    {API_POST, "/api/user/logout", api_user_logout, AUTH_NONE, BODY_JSON},
    {API_GET, "/api/user/profile", api_user_profile, AUTH_READ, BODY_JSON},
    {API_POST, "/api/user/profile", api_user_profile_update, AUTH_READ, BODY_JSON},
    {API_POST, "/api/user/password", api_user_password, AUTH_READ, BODY_JSON},
    {API_POST, "/api/action", api_action, AUTH_WRITE, BODY_JSON},
    {API_GET, "/api/quickid", api_quickid, AUTH_READ, BODY_JSON},
    {API_GET, "/api/metric", api_metric_get, AUTH_READ, BODY_JSON},
    {API_POST, "/api/firmware/upload/{id}", api_firmware_upload, AUTH_WRITE, BODY_FIRMWARE},
    {API_POST, "/api/backup/run", api_backup_run, AUTH_ADMIN, BODY_JSON},
    {API_GET, "/api/backup", api_backup_list, AUTH_ADMIN, BODY_JSON},
    {API_GET, "/api/backup/{id}", api_backup_download, AUTH_ADMIN, BODY_JSON},
    {API_POST, "/api/restore", api_restore, AUTH_ADMIN, BODY_BACKUP},
    {API_POST, "/api/metric", api_metric_post, AUTH_READ, BODY_JSON},
    {API_POST, "/api/schedule/preview", api_schedule_preview, AUTH_READ, BODY_JSON},
    {API_GET, "/api/settings", api_settings_get, AUTH_READ, BODY_JSON},
    {API_POST, "/api/settings", api_settings_save, AUTH_ADMIN, BODY_JSON},
    {API_GET, "/api/{kind}", api_entity_list, AUTH_READ, BODY_JSON},
    {API_POST, "/api/{kind}", api_entity_save, AUTH_WRITE, BODY_JSON},
    {API_DELETE, "/api/{kind}", api_entity_delete, AUTH_WRITE, BODY_JSON},
    {API_POST, "/api/{kind}/enable", api_entity_enable, AUTH_WRITE, BODY_JSON},
    {API_POST, "/api/{kind}/disable", api_entity_disable, AUTH_WRITE, BODY_JSON},
    {API_POST, "/api/{kind}/reload", api_entity_reload, AUTH_WRITE, BODY_JSON},
    {API_GET, "/api/{kind}/{id}", api_entity_get, AUTH_READ, BODY_JSON},
};

static const char *const method_names[] = {"GET",    "POST",    "PUT",  "PATCH",
                                           "DELETE", "OPTIONS", "HEAD", "OTHER"};

static const char *const need_names[] = {"none", "readonly", "readwrite", "admin"};

size_t api_route_count(void)
{
    return SB_ARRAY_LEN(routes);
}

api_route_info api_route_at(size_t i)
{
    const route *r = &routes[i];
    return (api_route_info){method_names[r->method], r->pattern, need_names[r->need]};
}

int64_t api_body_limit(const api *a, api_method method, const char *path)
{
    api_req probe;
    for (size_t i = 0; i < SB_ARRAY_LEN(routes); i++) {
        if (routes[i].method != method || !match(routes[i].pattern, path, &probe))
            continue;
        if (routes[i].body == BODY_FIRMWARE)
            return a->cfg->api.firmware_limit;
        if (routes[i].body == BODY_BACKUP)
            return a->cfg->api.restore_limit;
        break;
    }
    return a->cfg->api.body_limit;
}

/* ---- replies ------------------------------------------------------------------------------- */

void api_reply(api_resp *rs, int code, cJSON *obj)
{
    free(rs->body);
    rs->body = obj ? sb_json_print(obj) : NULL;
    cJSON_Delete(obj);
    if (!rs->body) {
        code = 500;
        rs->body = strdup("{\"error\":\"out of memory\",\"detail\":null}");
    }
    rs->status = code;
    rs->len = rs->body ? strlen(rs->body) : 0;
}

void api_reply_raw(api_resp *rs, int code, const char *ctype, char *body, size_t len)
{
    if (!body) {
        api_error(rs, 500, "out of memory", NULL);
        return;
    }
    free(rs->body);
    rs->body = body;
    rs->len = len;
    rs->status = code;
    rs->content_type = ctype;
}

void api_error(api_resp *rs, int code, const char *msg, const char *detail)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", msg);
    if (detail)
        cJSON_AddStringToObject(o, "detail", detail);
    else
        cJSON_AddNullToObject(o, "detail");
    api_reply(rs, code, o);
}

void api_errorf(api_resp *rs, int code, const char *msg, const char *fmt, ...)
{
    char detail[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    api_error(rs, code, msg, detail);
}

int api_status_of(sb_err err)
{
    switch (err) {
    case SB_OK:
        return 200;
    case SB_ERR_INVALID:
    case SB_ERR_PARSE:
        return 400;
    case SB_ERR_AUTH:
        return 401;
    case SB_ERR_NOTFOUND:
        return 404;
    case SB_ERR_EXISTS:
    case SB_ERR_CONFLICT:
        return 409;
    case SB_ERR_TOO_LARGE:
        return 413;
    case SB_ERR_BUSY:
    case SB_ERR_FULL:
    case SB_ERR_CLOSED:
    case SB_ERR_TIMEOUT:
        return 503;
    default:
        return 500;
    }
}

void api_add_header(api_resp *rs, const char *name, const char *value)
{
    size_t used = strlen(rs->headers);
    snprintf(rs->headers + used, sizeof(rs->headers) - used, "%s: %s\r\n", name, value);
}

/* ---- matching ------------------------------------------------------------------------------ */

/* Whether path matches pattern; fills rq->kind and rq->id from the placeholders. */
static bool match(const char *pattern, const char *path, api_req *rq)
{
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (*p != '/' || *s != '/')
            return false;
        const char *pe = strchr(p + 1, '/'), *se = strchr(s + 1, '/');
        size_t pl = (pe ? (size_t)(pe - p) : strlen(p)) - 1;
        size_t sl = (se ? (size_t)(se - s) : strlen(s)) - 1;
        const char *pseg = p + 1, *sseg = s + 1;
        char seg[SB_QUICKID_PART_MAX];
        if (sl == 0 || sl >= sizeof(seg))
            return false;
        memcpy(seg, sseg, sl);
        seg[sl] = '\0';
        if (pl == 6 && strncmp(pseg, "{kind}", 6) == 0) {
            sb_entity_kind k;
            if (sb_entity_kind_parse(seg, &k) != SB_OK || k == SB_KIND_SETTINGS)
                return false;
            rq->kind = k;
        } else if (pl == 4 && strncmp(pseg, "{id}", 4) == 0) {
            memcpy(rq->id, seg, sl + 1);
        } else if (pl != sl || strncmp(pseg, seg, sl) != 0) {
            return false;
        }
        p = pe ? pe : p + strlen(p);
        s = se ? se : s + strlen(s);
    }
    return *p == '\0' && (*s == '\0' || strcmp(s, "/") == 0);
}

static const route *find_route(api_req *rq, api_resp *rs)
{
    char allow[128] = "";
    for (size_t i = 0; i < SB_ARRAY_LEN(routes); i++) {
        if (!match(routes[i].pattern, rq->path, rq))
            continue;
        if (routes[i].method == rq->method)
            return &routes[i];
        const char *m = method_names[routes[i].method];
        if (!strstr(allow, m))
            snprintf(allow + strlen(allow), sizeof(allow) - strlen(allow), "%s%s",
                     allow[0] ? ", " : "", m);
    }
    if (allow[0]) {
        api_add_header(rs, "Allow", allow);
        api_errorf(rs, 405, "method not allowed", "%s %s: allowed %s", method_names[rq->method],
                   rq->path, allow);
    } else {
        api_errorf(rs, 404, "not found", "no route %s", rq->path);
    }
    return NULL;
}

static bool authorise(api *a, const route *r, api_req *rq, api_resp *rs)
{
    if (r->need == AUTH_NONE)
        return true;
    sb_errmsg em = {{0}};
    sb_err rc = api_authenticate(a, rq, &em);
    if (rc != SB_OK) {
        api_error(rs, rc == SB_ERR_AUTH ? 401 : api_status_of(rc), "unauthorized",
                  sb_errmsg_str(&em, rc));
        return false;
    }
    api_role need = r->need == AUTH_READ    ? API_ROLE_READONLY
                    : r->need == AUTH_WRITE ? API_ROLE_READWRITE
                                            : API_ROLE_ADMIN;
    /* Users, their roles and passwords, and service tokens, are the admin's to change. */
    if (r->need == AUTH_WRITE && (rq->kind == SB_KIND_USER || rq->kind == SB_KIND_SERVICE_TOKEN))
        need = API_ROLE_ADMIN;
    if (rq->role < need) {
        api_errorf(rs, 403, "forbidden", "user '%s' may not %s %s", rq->username,
                   method_names[rq->method], rq->path);
        return false;
    }
    return true;
}

bool api_route_quick(const api_req *rq)
{
    if (rq->method != API_GET)
        return false;
    /* It waits on nothing: no store, no bus request, no credentials to look up. */
    return strcmp(rq->path, "/api/status") == 0;
}

void api_dispatch(api *a, api_req *rq, api_resp *rs)
{
    atomic_fetch_add(&a->requests, 1);
    int64_t started = sb_time_mono_us();
    rq->kind = SB_KIND__COUNT;
    const route *r = api_throttle_request(a, rq, rs) ? find_route(rq, rs) : NULL;
    if (r && authorise(a, r, rq, rs))
        r->fn(a, rq, rs);
    if (!rs->body)
        api_error(rs, 500, "internal error", "the handler produced no response");
    if (rs->status >= 400)
        atomic_fetch_add(&a->errors, 1);
    sb_histo_observe(&a->request_ms, (double)(sb_time_mono_us() - started) / 1000.0);
    sb_debug(&a->log, "%s %s -> %d", method_names[rq->method], rq->path, rs->status);
}

/* ---- status and version -------------------------------------------------------------------- */

static void status(api *a, api_req *rq, api_resp *rs)
{
    (void)rq;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "ok", true);
    cJSON_AddStringToObject(o, "version", SB_VERSION);
    cJSON_AddBoolToObject(o, "busConnected", sb_bus_connected(a->bus));
    api_reply(rs, 200, o);
}

static void version(api *a, api_req *rq, api_resp *rs)
{
    (void)a;
    (void)rq;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", "switchboard");
    cJSON_AddStringToObject(o, "version", SB_VERSION);
    cJSON_AddStringToObject(o, "compiler", __VERSION__);
    cJSON_AddStringToObject(o, "buildDate", __DATE__);
    api_reply(rs, 200, o);
}
