/*
 * token.c - service tokens: credentials for scripts and Prometheus, "<id>_<secret>".
 *
 * POST /api/service_token (admin) creates one: the body names it ({"name", "role", "expiresAt",
 * "labels", "enabled"}); the answer carries "token" once and the store keeps only
 * "tokenHash": "sha256$<hex>" (the 40-character random secret has 238 bits, so a fast hash
 * is enough: nobody can guess it, unlike a password). Posting an existing id updates name,
 * role, expiry, labels and enabled and keeps the hash. List, get and delete are the generic
 * entity routes; enable/disable too.
 *
 * "Authorization: Bearer <id>_<secret>" authenticates with the token's role while it is enabled
 * and unexpired. A JWT always contains '.', a service token never does.
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "core/json.h"
#include "core/time.h"

#define SECRET_LEN 40
#define HASH_TAG   "sha256$"

static void hash_secret(const char *secret, char out[sizeof(HASH_TAG) + 64])
{
    unsigned char md[32];
    unsigned int n = 0;
    if (EVP_Digest(secret, strlen(secret), md, &n, EVP_sha256(), NULL) != 1)
        memset(md, 0, sizeof(md));
    strcpy(out, HASH_TAG);
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + sizeof(HASH_TAG) - 1 + 2 * i, 3, "%02x", md[i]);
}

bool api_token_prepare(api *a, api_req *rq, cJSON *doc, const cJSON *old, api_resp *rs, char *shown,
                       size_t len)
{
    (void)a;
    shown[0] = '\0';
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "tokenHash");
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "token");
    const char *role = sb_json_str(doc, "role", "readonly");
    if (api_role_parse(role) == API_ROLE_NONE) {
        api_errorf(rs, 400, "invalid entity", "role: '%.32s' is not admin, readwrite or readonly",
                   role);
        return false;
    }
    sb_json_set_str(doc, "role", role);
    const char *exp = sb_json_str(doc, "expiresAt", NULL);
    int64_t ms = 0;
    if (exp && sb_time_parse(exp, &ms) != SB_OK) {
        api_errorf(rs, 400, "invalid entity", "expiresAt: '%.64s' is not an RFC 3339 time", exp);
        return false;
    }
    if (!cJSON_GetObjectItemCaseSensitive(doc, "enabled"))
        sb_json_set_bool(doc, "enabled", true);
    if (old) { /* an update: the credential itself does not change */
        static const char *const kept[] = {"tokenHash", "userId", "createdAt"};
        for (size_t i = 0; i < SB_ARRAY_LEN(kept); i++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(old, kept[i]);
            if (v)
                sb_json_set(doc, kept[i], cJSON_Duplicate(v, true));
        }
        return true;
    }
    char secret[SECRET_LEN + 1], hash[sizeof(HASH_TAG) + 64], now[SB_TIME_RFC3339_LEN];
    if (api_random_text(secret, SECRET_LEN, sizeof(secret)) != SB_OK) {
        api_error(rs, 500, "internal error", "no random bytes for a token");
        return false;
    }
    hash_secret(secret, hash);
    sb_time_format(sb_time_now_ms(), now, sizeof(now));
    sb_json_set_str(doc, "tokenHash", hash);
    sb_json_set_str(doc, "userId", rq->user_id);
    sb_json_set_str(doc, "createdAt", now);
    snprintf(shown, len, "%s_%s", sb_json_str(doc, "id", ""), secret);
    OPENSSL_cleanse(secret, sizeof(secret));
    return true;
}

sb_err api_token_authenticate(api *a, const char *token, api_req *rq, sb_errmsg *em)
{
    const char *us = strrchr(token, '_');
    char id[SB_QUICKID_PART_MAX];
    if (!us || us == token || (size_t)(us - token) >= sizeof(id) || strlen(us + 1) != SECRET_LEN)
        return sb_fail(em, SB_ERR_AUTH, "invalid token");
    snprintf(id, sizeof(id), "%.*s", (int)(us - token), token);
    cJSON *doc = NULL;
    sb_err rc = sb_store_get(a->store, "service_token", id, &doc, em);
    if (rc == SB_ERR_NOTFOUND)
        return sb_fail(em, SB_ERR_AUTH, "invalid token");
    if (rc != SB_OK)
        return rc;
    char hash[sizeof(HASH_TAG) + 64];
    hash_secret(us + 1, hash);
    const char *stored = sb_json_str(doc, "tokenHash", "");
    const char *exp = sb_json_str(doc, "expiresAt", NULL);
    int64_t ms = 0;
    if (strlen(stored) != strlen(hash) || CRYPTO_memcmp(stored, hash, strlen(hash)) != 0)
        rc = sb_fail(em, SB_ERR_AUTH, "invalid token");
    else if (cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(doc, "enabled")))
        rc = sb_fail(em, SB_ERR_AUTH, "service token '%s' is disabled", id);
    else if (exp && (sb_time_parse(exp, &ms) != SB_OK || ms <= sb_time_now_ms()))
        rc = sb_fail(em, SB_ERR_AUTH, "service token '%s' has expired", id);
    else if ((rq->role = api_role_parse(sb_json_str(doc, "role", ""))) == API_ROLE_NONE)
        rc = sb_fail(em, SB_ERR_AUTH, "service token '%s' has no valid role", id);
    if (rc == SB_OK) {
        snprintf(rq->user_id, sizeof(rq->user_id), "%s", sb_json_str(doc, "userId", ""));
        snprintf(rq->username, sizeof(rq->username), "token:%.100s", id);
    } else {
        rq->role = API_ROLE_NONE;
    }
    cJSON_Delete(doc);
    return rc;
}
