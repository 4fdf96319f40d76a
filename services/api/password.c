/*
 * password.c - password hashes: PBKDF2-HMAC-SHA256 (OpenSSL) with a random 16-byte salt and
 * 210,000 iterations (OWASP's 2023 figure), stored as
 *     pbkdf2-sha256$<iterations>$<salt, base64>$<hash, base64>
 * so the iteration count can rise later without invalidating stored hashes. Verification
 * compares in constant time.
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

#define ITERATIONS 210000
#define SALT_LEN   16
#define HASH_LEN   32

static int b64(const unsigned char *in, int n, char *out)
{
    return EVP_EncodeBlock((unsigned char *)out, in, n);
}

/* Decodes base64 of a known binary length; -1 when it does not fit. */
static int unb64(const char *in, size_t n, unsigned char *out, int want)
{
    unsigned char buf[128];
    if (n == 0 || n > 88 || n % 4)
        return -1;
    int got = EVP_DecodeBlock(buf, (const unsigned char *)in, (int)n);
    int pad = (in[n - 1] == '=') + (in[n - 2] == '=');
    if (got - pad != want)
        return -1;
    memcpy(out, buf, (size_t)want);
    return want;
}

static bool derive(const char *pw, const unsigned char *salt, long iter, unsigned char *out)
{
    return PKCS5_PBKDF2_HMAC(pw, (int)strlen(pw), salt, SALT_LEN, (int)iter, EVP_sha256(), HASH_LEN,
                             out) == 1;
}

sb_err api_password_hash(const char *password, char *out, size_t len, sb_errmsg *em)
{
    unsigned char salt[SALT_LEN], hash[HASH_LEN];
    char s64[64], h64[64];
    if (RAND_bytes(salt, sizeof(salt)) != 1)
        return sb_fail(em, SB_ERR_INTERNAL, "no random bytes for a salt");
    if (!derive(password, salt, ITERATIONS, hash))
        return sb_fail(em, SB_ERR_INTERNAL, "PBKDF2 failed");
    b64(salt, SALT_LEN, s64);
    b64(hash, HASH_LEN, h64);
    if ((size_t)snprintf(out, len, "pbkdf2-sha256$%d$%s$%s", ITERATIONS, s64, h64) >= len)
        return sb_fail(em, SB_ERR_TOO_LARGE, "hash buffer too small");
    OPENSSL_cleanse(hash, sizeof(hash));
    return SB_OK;
}

bool api_password_verify(const char *password, const char *stored)
{
    static const char tag[] = "pbkdf2-sha256$";
    if (!password || !stored || strncmp(stored, tag, sizeof(tag) - 1) != 0)
        return false;
    const char *p = stored + sizeof(tag) - 1;
    char *end = NULL;
    long iter = strtol(p, &end, 10);
    if (iter < 1000 || iter > 10000000 || *end != '$')
        return false;
    const char *salt64 = end + 1, *dollar = strchr(salt64, '$');
    if (!dollar)
        return false;
    unsigned char salt[SALT_LEN], want[HASH_LEN], got[HASH_LEN];
    if (unb64(salt64, (size_t)(dollar - salt64), salt, SALT_LEN) < 0 ||
        unb64(dollar + 1, strlen(dollar + 1), want, HASH_LEN) < 0)
        return false;
    bool ok = derive(password, salt, iter, got) && CRYPTO_memcmp(got, want, HASH_LEN) == 0;
    OPENSSL_cleanse(got, sizeof(got));
    return ok;
}

sb_err api_random_text(char *out, size_t n, size_t len)
{
    /* Letters and digits only (safe on command lines); bytes >= 248 are drawn again so
     * r % 62 is unbiased. */
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    if (n >= len)
        return SB_ERR_INTERNAL;
    for (size_t i = 0; i < n;) {
        unsigned char r[64];
        if (RAND_bytes(r, sizeof(r)) != 1)
            return SB_ERR_INTERNAL;
        for (size_t k = 0; k < sizeof(r) && i < n; k++)
            if (r[k] < 248)
                out[i++] = alphabet[r[k] % 62];
    }
    out[n] = '\0';
    return SB_OK;
}
