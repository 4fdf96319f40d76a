/*
 * secret.c - AES-256-GCM sealing of entity secrets (secret.h), with OpenSSL's EVP interface.
 */
#include "core/secret.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

#define NONCE 12
#define TAG   16
#define INFO  "switchboard entity secrets v1"
/* A sealed value never needs to be larger; it bounds what open_ decodes. */
#define SEALED_MAX (64 * 1024)

sb_err sb_secret_key_derive(const char *secret, size_t len, sb_secret_key *key, sb_errmsg *em)
{
    static const unsigned char salt[] = "switchboard";
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
    size_t out = sizeof(key->k);
    bool ok = c && len > 0 && EVP_PKEY_derive_init(c) > 0 &&
              EVP_PKEY_CTX_set_hkdf_md(c, EVP_sha256()) > 0 &&
              EVP_PKEY_CTX_set1_hkdf_salt(c, salt, sizeof(salt) - 1) > 0 &&
              EVP_PKEY_CTX_set1_hkdf_key(c, (const unsigned char *)secret, (int)len) > 0 &&
              EVP_PKEY_CTX_add1_hkdf_info(c, (const unsigned char *)INFO, sizeof(INFO) - 1) > 0 &&
              EVP_PKEY_derive(c, key->k, &out) > 0 && out == sizeof(key->k);
    EVP_PKEY_CTX_free(c);
    return ok ? SB_OK : sb_fail(em, SB_ERR_INTERNAL, "secret: key derivation failed");
}

sb_err sb_secret_key_load(const sb_config *cfg, sb_secret_key *key, sb_errmsg *em)
{
    if (cfg->secret && *cfg->secret)
        return sb_secret_key_derive(cfg->secret, strlen(cfg->secret), key, em);
    char *path = sb_config_data_path(cfg, "secret"), buf[256] = "";
    FILE *f = path ? fopen(path, "r") : NULL;
    size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    sb_err rc = buf[0] ? sb_secret_key_derive(buf, strlen(buf), key, em)
                       : sb_fail(em, SB_ERR_NOTFOUND, "no secret configured and no %s yet",
                                 path ? path : "<data_dir>/secret");
    OPENSSL_cleanse(buf, sizeof(buf));
    free(path);
    return rc;
}

bool sb_secret_is_sealed(const char *s)
{
    return s && strncmp(s, SB_SECRET_PREFIX, sizeof(SB_SECRET_PREFIX) - 1) == 0;
}

bool sb_secret_key_name(const char *name)
{
    static const char *const names[] = {
        "password", "passwd",    "secret",      "token",      "apikey",       "apitoken",
        "bottoken", "authtoken", "accesstoken", "privatekey", "clientsecret", "authorization"};
    char low[32];
    size_t n = 0;
    for (const char *c = name; c && *c; c++) {
        if (*c == '_' || *c == '-')
            continue;
        if (n + 1 >= sizeof(low))
            return false;
        low[n++] = (char)tolower((unsigned char)*c);
    }
    low[n] = '\0';
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(low, names[i]) == 0)
            return true;
    return false;
}

sb_err sb_secret_seal(const sb_secret_key *key, const char *plain, char **out, sb_errmsg *em)
{
    size_t n = strlen(plain);
    if (n > SEALED_MAX / 2)
        return sb_fail(em, SB_ERR_TOO_LARGE, "secret: longer than %d bytes", SEALED_MAX / 2);
    unsigned char *raw = malloc(NONCE + n + TAG);
    char *text = malloc(sizeof(SB_SECRET_PREFIX) + 4 * ((NONCE + n + TAG + 2) / 3) + 1);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int len = 0, fin = 0;
    bool ok = raw && text && c && RAND_bytes(raw, NONCE) == 1 &&
              EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key->k, raw) == 1 &&
              EVP_EncryptUpdate(c, raw + NONCE, &len, (const unsigned char *)plain, (int)n) == 1 &&
              EVP_EncryptFinal_ex(c, raw + NONCE + len, &fin) == 1 &&
              EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG, raw + NONCE + len + fin) == 1;
    EVP_CIPHER_CTX_free(c);
    if (ok) {
        strcpy(text, SB_SECRET_PREFIX);
        EVP_EncodeBlock((unsigned char *)text + sizeof(SB_SECRET_PREFIX) - 1, raw,
                        NONCE + len + fin + TAG);
        *out = text;
    } else {
        free(text);
    }
    free(raw);
    return ok ? SB_OK : sb_fail(em, SB_ERR_INTERNAL, "secret: encryption failed");
}

sb_err sb_secret_open(const sb_secret_key *key, const char *sealed, char **out, sb_errmsg *em)
{
    if (!sb_secret_is_sealed(sealed))
        return sb_fail(em, SB_ERR_INVALID, "secret: not a sealed value");
    const char *b64 = sealed + sizeof(SB_SECRET_PREFIX) - 1;
    size_t bl = strlen(b64);
    if (bl % 4 || bl > SEALED_MAX || bl < 4 * ((NONCE + TAG + 2) / 3))
        return sb_fail(em, SB_ERR_INVALID, "secret: malformed sealed value");
    unsigned char *raw = malloc(bl / 4 * 3 + 1);
    int rl = raw ? EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)bl) : -1;
    rl -= (b64[bl - 1] == '=') + (b64[bl - 2] == '=');
    if (rl < NONCE + TAG) {
        free(raw);
        return sb_fail(em, SB_ERR_INVALID, "secret: malformed sealed value");
    }
    int n = rl - NONCE - TAG, len = 0, fin = 0;
    char *plain = malloc((size_t)n + 1);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    bool ok = plain && c && EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key->k, raw) == 1 &&
              EVP_DecryptUpdate(c, (unsigned char *)plain, &len, raw + NONCE, n) == 1 &&
              EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG, raw + NONCE + n) == 1 &&
              EVP_DecryptFinal_ex(c, (unsigned char *)plain + len, &fin) == 1;
    EVP_CIPHER_CTX_free(c);
    free(raw);
    if (!ok) {
        free(plain);
        return sb_fail(em, SB_ERR_AUTH, "secret: sealed under another key, or altered");
    }
    plain[len + fin] = '\0';
    *out = plain;
    return SB_OK;
}

/* ---- documents --------------------------------------------------------------------------------
 */

/* {"secret": true, "value": "..."}: the value is the secret. */
static bool marked(const cJSON *o)
{
    return cJSON_IsObject(o) && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "secret")) &&
           cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, "value"));
}

/* Calls fn on every secret string of doc with its counterpart in old (may be NULL). */
typedef sb_err (*visit_fn)(void *ctx, cJSON *parent, cJSON *item, const cJSON *old);

static sb_err walk(cJSON *node, const cJSON *old, visit_fn fn, void *ctx, int depth)
{
    sb_err first = SB_OK;
    if (depth > 32)
        return SB_OK;
    int i = 0;
    for (cJSON *e = node->child, *next; e; e = next, i++) {
        next = e->next; /* fn may remove e */
        const cJSON *o = NULL;
        if (old && cJSON_IsObject(node) && e->string)
            o = cJSON_GetObjectItemCaseSensitive(old, e->string);
        else if (old && cJSON_IsArray(node))
            o = cJSON_GetArrayItem(old, i);
        sb_err rc = SB_OK;
        if (cJSON_IsString(e) && e->string && cJSON_IsObject(node) &&
            (sb_secret_key_name(e->string) || (strcmp(e->string, "value") == 0 && marked(node))))
            rc = fn(ctx, node, e, o);
        else if (cJSON_IsObject(e) || cJSON_IsArray(e))
            rc = walk(e, o, fn, ctx, depth + 1);
        if (rc != SB_OK && first == SB_OK)
            first = rc;
    }
    return first;
}

typedef struct visit {
    const sb_secret_key *key;
    sb_errmsg *em; /* set to NULL after the first failure, which it keeps */
} visit;

static sb_err seal_one(void *ctx, cJSON *parent, cJSON *item, const cJSON *old)
{
    visit *v = ctx;
    const char *s = item->valuestring;
    if (sb_secret_is_sealed(s))
        return SB_OK;
    if (strcmp(s, SB_SECRET_PLACEHOLDER) == 0) {
        if (cJSON_IsString(old) && sb_secret_is_sealed(old->valuestring))
            cJSON_SetValuestring(item, old->valuestring);
        else
            cJSON_DeleteItemFromObjectCaseSensitive(parent, item->string);
        return SB_OK;
    }
    char *sealed = NULL;
    sb_err rc = sb_secret_seal(v->key, s, &sealed, v->em);
    if (rc == SB_OK && !cJSON_SetValuestring(item, sealed))
        rc = sb_fail(v->em, SB_ERR_NOMEM, "out of memory");
    free(sealed);
    return rc;
}

sb_err sb_secret_seal_doc(const sb_secret_key *key, cJSON *doc, const cJSON *old, sb_errmsg *em)
{
    visit v = {key, em};
    return doc ? walk(doc, old, seal_one, &v, 0) : SB_OK;
}

static sb_err redact_one(void *ctx, cJSON *parent, cJSON *item, const cJSON *old)
{
    (void)ctx;
    (void)parent;
    (void)old;
    cJSON_SetValuestring(item, SB_SECRET_PLACEHOLDER);
    return SB_OK;
}

void sb_secret_redact_doc(cJSON *doc)
{
    if (doc)
        walk(doc, NULL, redact_one, NULL, 0);
}

static sb_err open_one(void *ctx, cJSON *parent, cJSON *item, const cJSON *old)
{
    visit *v = ctx;
    (void)parent;
    (void)old;
    if (!sb_secret_is_sealed(item->valuestring))
        return SB_OK; /* stored before encryption, or written by hand: used as it is */
    char *plain = NULL;
    sb_err rc = sb_secret_open(v->key, item->valuestring, &plain, v->em);
    if (rc == SB_OK && !cJSON_SetValuestring(item, plain))
        rc = sb_fail(v->em, SB_ERR_NOMEM, "out of memory");
    if (plain)
        OPENSSL_cleanse(plain, strlen(plain));
    free(plain);
    if (rc == SB_OK)
        return rc;
    rc = sb_fail_wrap(v->em, rc, "key '%s'", item->string);
    v->em = NULL;
    return rc;
}

sb_err sb_secret_open_doc(const sb_secret_key *key, cJSON *doc, sb_errmsg *em)
{
    visit v = {key, em};
    return doc ? walk(doc, NULL, open_one, &v, 0) : SB_OK;
}

sb_err sb_secret_open_with(const sb_config *cfg, cJSON *doc, sb_errmsg *em)
{
    sb_secret_key key;
    sb_errmsg kem = {{0}};
    sb_err krc = sb_secret_key_load(cfg, &key, &kem);
    if (krc != SB_OK)
        memset(&key, 0, sizeof(key)); /* fine while nothing is sealed */
    sb_err rc = sb_secret_open_doc(&key, doc, em);
    if (rc != SB_OK && krc != SB_OK)
        rc = sb_fail_wrap(em, rc, "%s", kem.text);
    OPENSSL_cleanse(&key, sizeof(key));
    return rc;
}
