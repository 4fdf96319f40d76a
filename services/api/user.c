/*
 * user.c - POST /api/user/login, POST /api/user/logout, GET /api/user/profile.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "core/json.h"
#include "core/time.h"

/* The user document with this username (caller frees), or NULL. */
static cJSON *find_user(api *a, const char *username)
{
    sb_query q = {0};
    cJSON *v = cJSON_CreateString(username), *found = NULL, *user = NULL;
    if (sb_query_add(&q, "username", SB_OP_EQ, v, NULL) == SB_OK &&
        sb_store_find(a->store, "user", &q, &found, NULL) == SB_OK)
        user = cJSON_DetachItemFromArray(cJSON_GetObjectItemCaseSensitive(found, "data"), 0);
    cJSON_Delete(v);
    cJSON_Delete(found);
    sb_query_free(&q);
    return user;
}

/* An unknown user costs as much time as a wrong password, so names cannot be probed. */
static void burn_time(const char *password)
{
    static char dummy[256];
    if (!dummy[0] && api_password_hash("not a password", dummy, sizeof(dummy), NULL) != SB_OK)
        return;
    (void)api_password_verify(password, dummy);
}

static void set_cookie(api_resp *rs, const char *token, int64_t max_age)
{
    char v[1024];
    snprintf(v, sizeof(v), "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%lld", API_COOKIE,
             token, (long long)max_age);
    api_add_header(rs, "Set-Cookie", v);
}

void api_user_login(api *a, api_req *rq, api_resp *rs)
{
    cJSON *body = NULL;
    sb_errmsg em = {{0}};
    if (!rq->body || sb_json_parse(rq->body, rq->body_len, &body, &em) != SB_OK ||
        !cJSON_IsObject(body)) {
        api_error(rs, 400, "bad request", "send {\"username\": ..., \"password\": ...}");
        cJSON_Delete(body);
        return;
    }
    const char *name = sb_json_str(body, "username", NULL),
               *pw = sb_json_str(body, "password", NULL);
    if (!name || !pw) {
        api_error(rs, 400, "bad request", "username and password must be strings");
        cJSON_Delete(body);
        return;
    }
    if (!api_throttle_login_allowed(a, rq, rs)) {
        cJSON_Delete(body);
        return;
    }
    cJSON *user = find_user(a, name);
    bool ok = user && api_password_verify(pw, sb_json_str(user, "passwordHash", ""));
    if (!user)
        burn_time(pw);
    api_throttle_login_result(a, rq, ok);
    if (!ok)
        sb_info(&a->log, "login refused for '%.64s' from %s", name, rq->client);
    cJSON_Delete(body); /* name and pw point into it */
    if (!ok) {
        api_error(rs, 401, "unauthorized", "invalid username or password");
        cJSON_Delete(user);
        return;
    }
    int64_t exp = 0;
    char *token = api_token_issue(a, user, &exp);
    if (!token) {
        api_error(rs, 500, "internal error", "could not sign a token");
        cJSON_Delete(user);
        return;
    }
    char when[SB_TIME_RFC3339_LEN];
    sb_time_format(exp * 1000, when, sizeof(when));
    set_cookie(rs, token, a->cfg->api.token_lifetime_ms / 1000);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "token", token);
    cJSON_AddStringToObject(o, "expiresAt", when);
    api_entity_redact(SB_KIND_USER, user);
    cJSON_AddItemToObject(o, "user", user);
    free(token);
    api_reply(rs, 200, o);
}

void api_user_logout(api *a, api_req *rq, api_resp *rs)
{
    (void)a;
    (void)rq;
    set_cookie(rs, "", 0);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "ok", true);
    api_reply(rs, 200, o);
}

void api_user_profile(api *a, api_req *rq, api_resp *rs)
{
    cJSON *user = NULL;
    sb_errmsg em = {{0}};
    sb_err rc = sb_store_get(a->store, "user", rq->user_id, &user, &em);
    if (rc != SB_OK) {
        api_error(rs, api_status_of(rc), "profile", sb_errmsg_str(&em, rc));
        return;
    }
    api_entity_redact(SB_KIND_USER, user);
    api_reply(rs, 200, user);
}
