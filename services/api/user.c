/*
 * user.c - POST /api/user/login, POST /api/user/logout, GET and POST /api/user/profile (one's
 * own fullName and email), POST /api/user/password (one's own password, which revokes every
 * token issued before: tokens carry the user's tokenGeneration, which a change moves on).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "core/json.h"
#include "core/time.h"

void api_user_revoke_tokens(cJSON *user)
{
    double gen = sb_json_num(user, "tokenGeneration", 0);
    sb_json_set(user, "tokenGeneration", cJSON_CreateNumber(gen + 1));
}

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
static char dummy_hash[256];

static void make_dummy_hash(void)
{
    if (api_password_hash("not a password", dummy_hash, sizeof(dummy_hash), NULL) != SB_OK)
        dummy_hash[0] = '\0';
}

static void burn_time(const char *password)
{
    /* Logins run on several threads (api.h): the hash is made once, by whichever comes first. */
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, make_dummy_hash);
    if (dummy_hash[0])
        (void)api_password_verify(password, dummy_hash);
}

static void set_cookie(api_resp *rs, const char *token, int64_t max_age)
{
    char v[1024];
    snprintf(v, sizeof(v), "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%lld", API_COOKIE,
             token, (long long)max_age);
    api_add_header(rs, "Set-Cookie", v);
}

/* A new login token for user, also set as the cookie: {"token","expiresAt"} (caller frees), or
 * NULL with rs set. */
static cJSON *new_session(api *a, const cJSON *user, api_resp *rs)
{
    int64_t exp = 0;
    char *token = api_token_issue(a, user, &exp);
    if (!token) {
        api_error(rs, 500, "internal error", "could not sign a token");
        return NULL;
    }
    char when[SB_TIME_RFC3339_LEN];
    sb_time_format(exp * 1000, when, sizeof(when));
    set_cookie(rs, token, a->cfg->api.token_lifetime_ms / 1000);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "token", token);
    cJSON_AddStringToObject(o, "expiresAt", when);
    free(token);
    return o;
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
    cJSON *o = new_session(a, user, rs);
    if (!o) {
        cJSON_Delete(user);
        return;
    }
    api_entity_redact(SB_KIND_USER, user);
    cJSON_AddItemToObject(o, "user", user);
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

/* The request's own user document (caller frees), or NULL with rs set: service tokens have
 * none. */
static cJSON *own_user(api *a, api_req *rq, api_resp *rs)
{
    if (strncmp(rq->username, "token:", 6) == 0) {
        api_error(rs, 403, "forbidden", "a service token has no profile or password");
        return NULL;
    }
    cJSON *user = NULL;
    sb_errmsg em = {{0}};
    sb_err rc = sb_store_get(a->store, "user", rq->user_id, &user, &em);
    if (rc != SB_OK)
        api_error(rs, api_status_of(rc), "profile", sb_errmsg_str(&em, rc));
    return user;
}

static cJSON *body_object(api_req *rq, api_resp *rs, const char *want)
{
    cJSON *body = NULL;
    if (!rq->body || sb_json_parse(rq->body, rq->body_len, &body, NULL) != SB_OK ||
        !cJSON_IsObject(body)) {
        api_errorf(rs, 400, "bad request", "send %s", want);
        cJSON_Delete(body);
        return NULL;
    }
    return body;
}

static sb_err store_own(api *a, cJSON *user, api_resp *rs)
{
    char now[SB_TIME_RFC3339_LEN];
    sb_time_format(sb_time_now_ms(), now, sizeof(now));
    sb_json_set_str(user, "modifiedOn", now);
    sb_errmsg em = {{0}};
    sb_err rc = sb_store_put(a->store, "user", user, &em);
    if (rc != SB_OK)
        api_error(rs, api_status_of(rc), "store", sb_errmsg_str(&em, rc));
    else
        api_event(a, "updated", SB_KIND_USER, user);
    return rc;
}

void api_user_profile_update(api *a, api_req *rq, api_resp *rs)
{
    static const char want[] = "{\"fullName\": ..., \"email\": ...} (strings; nothing else)";
    cJSON *body = body_object(rq, rs, want), *user = NULL;
    if (!body)
        return;
    const cJSON *e;
    cJSON_ArrayForEach(e, body)
    {
        if ((strcmp(e->string, "fullName") != 0 && strcmp(e->string, "email") != 0) ||
            !cJSON_IsString(e)) {
            api_errorf(rs, 400, "bad request", "%s: send %s", e->string, want);
            goto done;
        }
    }
    if (!(user = own_user(a, rq, rs)))
        goto done;
    cJSON_ArrayForEach(e, body) sb_json_set_str(user, e->string, e->valuestring);
    if (store_own(a, user, rs) == SB_OK) {
        api_entity_redact(SB_KIND_USER, user);
        api_reply(rs, 200, user);
        user = NULL;
    }
done:
    cJSON_Delete(body);
    cJSON_Delete(user);
}

void api_user_password(api *a, api_req *rq, api_resp *rs)
{
    cJSON *body = body_object(rq, rs, "{\"currentPassword\": ..., \"newPassword\": ...}");
    cJSON *user = NULL;
    if (!body)
        return;
    const char *cur = sb_json_str(body, "currentPassword", NULL),
               *next = sb_json_str(body, "newPassword", NULL);
    char hash[256];
    sb_errmsg em = {{0}};
    sb_err rc;
    if (!cur || !next || strlen(next) < 8) {
        api_error(rs, 400, "bad request",
                  "currentPassword and newPassword (8 characters or more) are required");
        goto done;
    }
    /* A stolen session must not be able to guess the password here either. */
    if (!api_throttle_login_allowed(a, rq, rs) || !(user = own_user(a, rq, rs)))
        goto done;
    bool ok = api_password_verify(cur, sb_json_str(user, "passwordHash", ""));
    api_throttle_login_result(a, rq, ok);
    if (!ok) {
        api_error(rs, 403, "forbidden", "currentPassword is wrong");
        goto done;
    }
    if ((rc = api_password_hash(next, hash, sizeof(hash), &em)) != SB_OK) {
        api_error(rs, 500, "password", sb_errmsg_str(&em, rc));
        goto done;
    }
    sb_json_set_str(user, "passwordHash", hash);
    api_user_revoke_tokens(user); /* other browsers, copies: they stop working */
    if (store_own(a, user, rs) != SB_OK)
        goto done;
    sb_info(&a->log, "user '%s' changed their password", rq->username);
    cJSON *o = new_session(a, user, rs);
    if (o)
        api_reply(rs, 200, o);
done:
    cJSON_Delete(body);
    cJSON_Delete(user);
}
