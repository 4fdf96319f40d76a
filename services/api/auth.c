/*
 * auth.c - users and login tokens.
 *
 * - The signing key is config `secret`, or 32 random bytes generated once into <data_dir>/secret
 *   (mode 0600) and read back on later starts, so tokens survive restarts.
 * - First start with no users creates "admin" (role admin) with a random password, logged once
 *   and written to <data_dir>/initial-admin-password (mode 0600) for `switchboard run`.
 * - POST /api/user/login answers with a JWT (HS256, claims sub/username/iat/exp) in the body and
 *   in an HttpOnly, SameSite=Strict cookie. Every protected route takes the token from
 *   "Authorization: Bearer" or that cookie; only HS256 with our key and an unexpired exp pass.
 *   The role is read from the user's stored document on every request, so a demotion or a
 *   deleted user takes effect at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <jwt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "core/json.h"
#include "core/proc.h"
#include "core/time.h"
#include "core/uuid.h"

api_role api_role_parse(const char *name)
{
    if (!name)
        return API_ROLE_NONE;
    if (strcmp(name, "admin") == 0)
        return API_ROLE_ADMIN;
    if (strcmp(name, "readwrite") == 0)
        return API_ROLE_READWRITE;
    if (strcmp(name, "readonly") == 0)
        return API_ROLE_READONLY;
    return API_ROLE_NONE;
}

/* Creates path with mode 0600 and writes text; SB_ERR_EXISTS when it is already there. */
static sb_err write_private(const char *path, const char *text, sb_errmsg *em)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return sb_fail(em, errno == EEXIST ? SB_ERR_EXISTS : SB_ERR_IO, "%s: %s", path,
                       strerror(errno));
    size_t n = strlen(text);
    bool ok = write(fd, text, n) == (ssize_t)n && fsync(fd) == 0;
    close(fd);
    return ok ? SB_OK : sb_fail(em, SB_ERR_IO, "%s: write failed", path);
}

static sb_err load_secret(api *a, sb_errmsg *em)
{
    const char *s = a->cfg->secret;
    char buf[129] = "";
    char *path = NULL;
    if (!s || !*s) {
        if (!(path = sb_config_data_path(a->cfg, "secret")))
            return sb_fail(em, SB_ERR_NOMEM, "out of memory");
        if (api_random_text(buf, 64, sizeof(buf)) != SB_OK) {
            free(path);
            return sb_fail(em, SB_ERR_INTERNAL, "no random bytes for the secret");
        }
        sb_err rc = write_private(path, buf, em);
        if (rc == SB_ERR_EXISTS) {
            FILE *f = fopen(path, "r");
            size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
            buf[n] = '\0';
            if (f)
                fclose(f);
            buf[strcspn(buf, "\r\n")] = '\0';
            rc = strlen(buf) >= 16 ? SB_OK
                                   : sb_fail(em, SB_ERR_INVALID, "%s: shorter than 16 bytes", path);
        } else if (rc == SB_OK) {
            sb_info(&a->log, "generated the token signing key into %s", path);
        }
        free(path);
        if (rc != SB_OK)
            return rc;
        s = buf;
    }
    a->secret_len = strlen(s) < sizeof(a->secret) ? strlen(s) : sizeof(a->secret);
    memcpy(a->secret, s, a->secret_len);
    return SB_OK;
}

/* No users yet: create "admin" with a random password, shown once. */
static sb_err bootstrap_admin(api *a, sb_errmsg *em)
{
    size_t n = 0;
    sb_err rc = sb_store_count(a->store, "user", NULL, &n, em);
    if (rc != SB_OK || n > 0)
        return rc;
    char pw[24], hash[256], id[SB_UUID_LEN], now[SB_TIME_RFC3339_LEN];
    if ((rc = api_random_text(pw, 20, sizeof(pw))) ||
        (rc = api_password_hash(pw, hash, sizeof(hash), em)))
        return rc;
    sb_uuid(id);
    sb_time_format(sb_time_now_ms(), now, sizeof(now));
    cJSON *u = cJSON_CreateObject();
    sb_json_set_str(u, "id", id);
    sb_json_set_str(u, "username", "admin");
    sb_json_set_str(u, "fullName", "Administrator");
    sb_json_set_str(u, "role", "admin");
    sb_json_set_str(u, "passwordHash", hash);
    sb_json_set_str(u, "modifiedOn", now);
    rc = sb_store_put(a->store, "user", u, em);
    if (rc == SB_OK)
        api_event(a, "created", SB_KIND_USER, u);
    cJSON_Delete(u);
    if (rc != SB_OK)
        return rc;
    char *path = sb_config_data_path(a->cfg, "initial-admin-password");
    char line[64];
    snprintf(line, sizeof(line), "%s\n", pw);
    if (path) {
        unlink(path); /* a stale one from an earlier, wiped store */
        if (write_private(path, line, em) != SB_OK)
            sb_warn(&a->log, "%s", em->text);
    }
    sb_info(&a->log, "created user 'admin' with password %s (also in %s); change it", pw,
            path ? path : "?");
    free(path);
    return SB_OK;
}

sb_err api_auth_init(api *a, sb_errmsg *em)
{
    sb_err rc = sb_mkdirs(a->cfg->data_dir, em);
    if (rc == SB_OK)
        rc = load_secret(a, em);
    if (rc == SB_OK)
        rc = sb_secret_key_derive((const char *)a->secret, a->secret_len, &a->seal, em);
    if (rc == SB_OK)
        rc = bootstrap_admin(a, em);
    return rc;
}

/* ---- tokens --------------------------------------------------------------------------------- */

char *api_token_issue(api *a, const cJSON *user, int64_t *exp)
{
    jwt_t *j = NULL;
    char *out = NULL;
    time_t now = time(NULL);
    *exp = (int64_t)now + a->cfg->api.token_lifetime_ms / 1000;
    if (jwt_new(&j) == 0 && jwt_set_alg(j, JWT_ALG_HS256, a->secret, (int)a->secret_len) == 0 &&
        jwt_add_grant(j, "sub", sb_json_str(user, "id", "")) == 0 &&
        jwt_add_grant(j, "username", sb_json_str(user, "username", "")) == 0 &&
        jwt_add_grant(j, "iss", "switchboard") == 0 && jwt_add_grant_int(j, "iat", now) == 0 &&
        jwt_add_grant_int(j, "exp", (long)*exp) == 0 &&
        jwt_add_grant_int(j, "gen", (long)sb_json_num(user, "tokenGeneration", 0)) == 0)
        out = jwt_encode_str(j); /* libjwt 1.10: free() it */
    jwt_free(j);
    return out;
}

/* The token from "Authorization: Bearer x" or the sb_token cookie; NULL when neither. */
static const char *find_token(api_req *rq, char *buf, size_t len)
{
    if (strncmp(rq->authorization, "Bearer ", 7) == 0)
        return rq->authorization + 7;
    for (const char *c = rq->cookie; c && *c;) {
        c += strspn(c, " ");
        size_t n = strcspn(c, ";");
        if (strncmp(c, API_COOKIE "=", sizeof(API_COOKIE)) == 0) {
            size_t vl = n - sizeof(API_COOKIE);
            snprintf(buf, len, "%.*s", (int)vl, c + sizeof(API_COOKIE));
            return buf;
        }
        c += n + (c[n] == ';');
    }
    return NULL;
}

static sb_err token_verify(api *a, const char *token, char *sub, size_t len, long *gen,
                           sb_errmsg *em)
{
    jwt_t *j = NULL;
    /* jwt_decode checks the signature with our key; the alg check below refuses "none" and
     * every other algorithm, whatever the header claims. */
    if (jwt_decode(&j, token, a->secret, (int)a->secret_len) != 0 || !j)
        return sb_fail(em, SB_ERR_AUTH, "invalid token");
    sb_err rc = SB_OK;
    errno = 0;
    long exp = jwt_get_grant_int(j, "exp");
    bool no_exp = errno != 0;
    errno = 0;
    *gen = jwt_get_grant_int(j, "gen");
    if (errno) /* issued before generations existed: generation 0 */
        *gen = 0;
    const char *s = jwt_get_grant(j, "sub");
    if (jwt_get_alg(j) != JWT_ALG_HS256)
        rc = sb_fail(em, SB_ERR_AUTH, "invalid token: not HS256");
    else if (no_exp || exp <= (long)time(NULL))
        rc = sb_fail(em, SB_ERR_AUTH, "token expired: log in again");
    else if (!s || !*s || strlen(s) >= len)
        rc = sb_fail(em, SB_ERR_AUTH, "invalid token: no subject");
    else
        snprintf(sub, len, "%s", s);
    jwt_free(j);
    return rc;
}

sb_err api_authenticate(api *a, api_req *rq, sb_errmsg *em)
{
    char buf[2048], sub[SB_QUICKID_PART_MAX];
    const char *token = find_token(rq, buf, sizeof(buf));
    if (!token || !*token)
        return sb_fail(em, SB_ERR_AUTH, "no token: log in with POST /api/user/login");
    if (!strchr(token, '.'))
        return api_token_authenticate(a, token, rq, em);
    long gen = 0;
    sb_err rc = token_verify(a, token, sub, sizeof(sub), &gen, em);
    if (rc != SB_OK)
        return rc;
    cJSON *user = NULL;
    rc = sb_store_get(a->store, "user", sub, &user, em);
    if (rc == SB_ERR_NOTFOUND)
        return sb_fail(em, SB_ERR_AUTH, "the token's user no longer exists");
    if (rc != SB_OK)
        return rc;
    /* A password change moves the user to the next generation: older tokens are revoked. */
    if ((double)gen != sb_json_num(user, "tokenGeneration", 0)) {
        cJSON_Delete(user);
        return sb_fail(em, SB_ERR_AUTH, "token revoked (the password changed): log in again");
    }
    rq->role = api_role_parse(sb_json_str(user, "role", ""));
    snprintf(rq->user_id, sizeof(rq->user_id), "%s", sub);
    snprintf(rq->username, sizeof(rq->username), "%s", sb_json_str(user, "username", ""));
    cJSON_Delete(user);
    return rq->role == API_ROLE_NONE ? sb_fail(em, SB_ERR_AUTH, "the user has no valid role")
                                     : SB_OK;
}
