/*
 * secret.h - secrets inside stored entities (gateway and handler passwords, bot tokens, API
 * keys), encrypted at rest with AES-256-GCM under a key derived from the configured `secret`
 * (HKDF-SHA256, its own info string, so the key differs from the token signing key).
 *
 * A sealed value is the string "enc:v1:" + base64(12-byte nonce | ciphertext | 16-byte tag).
 * The API seals on every write (sb_secret_seal_doc) and never returns secrets (they read as
 * SB_SECRET_PLACEHOLDER); a service that needs the clear text (the gateway service for a
 * provider's broker password) opens the document it read from the store (sb_secret_open_doc).
 *
 * Which values are secrets: a string under a key named password, passwd, secret, token,
 * apiKey, api_key, apiToken, botToken, authToken, accessToken, privateKey, clientSecret,
 * authorization (any case, '_' and '-' ignored: an "Authorization" or "Api-Key" header too), and
 * the "value" of an object marked {"secret": true, "value": "..."} (for example a webhook header).
 */
#ifndef SB_SECRET_H
#define SB_SECRET_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"
#include "core/err.h"

#define SB_SECRET_PREFIX      "enc:v1:"
#define SB_SECRET_PLACEHOLDER "********"

typedef struct sb_secret_key {
    unsigned char k[32];
} sb_secret_key;

/* Derives the entity key from the secret text (any length >= 1). */
sb_err sb_secret_key_derive(const char *secret, size_t len, sb_secret_key *key, sb_errmsg *em);

/* The key of this installation: cfg->secret, else the text in <data_dir>/secret (written by the
 * API service on its first start). SB_ERR_NOTFOUND when neither exists yet. */
sb_err sb_secret_key_load(const sb_config *cfg, sb_secret_key *key, sb_errmsg *em);

/* Whether s is a sealed value. */
bool sb_secret_is_sealed(const char *s);

/* Whether an entity key names a secret (see above). */
bool sb_secret_key_name(const char *name);

/* Seals plain into a new string (caller frees). */
sb_err sb_secret_seal(const sb_secret_key *key, const char *plain, char **out, sb_errmsg *em);

/* Opens a sealed value into a new string (caller frees). SB_ERR_INVALID when it is not a
 * sealed value; SB_ERR_AUTH when it was sealed under another key or has been altered. */
sb_err sb_secret_open(const sb_secret_key *key, const char *sealed, char **out, sb_errmsg *em);

/*
 * Seals every secret of doc in place. A secret equal to SB_SECRET_PLACEHOLDER takes the value
 * at the same place in old (the stored document; NULL = none), and is removed when old has
 * none; a value that is already sealed is kept.
 */
sb_err sb_secret_seal_doc(const sb_secret_key *key, cJSON *doc, const cJSON *old, sb_errmsg *em);

/* Replaces every secret of doc with SB_SECRET_PLACEHOLDER. */
void sb_secret_redact_doc(cJSON *doc);

/* Opens every sealed string of doc in place; the first failure is returned (naming the key)
 * and the rest are still opened. */
sb_err sb_secret_open_doc(const sb_secret_key *key, cJSON *doc, sb_errmsg *em);

/* What a service that reads entities does: sb_secret_key_load(cfg) and sb_secret_open_doc(doc).
 * Without a key a document with nothing sealed is fine; one with sealed values fails saying
 * why there is no key. */
sb_err sb_secret_open_with(const sb_config *cfg, cJSON *doc, sb_errmsg *em);

#endif
