#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const names[SB_ERR__COUNT] = {
    [SB_OK] = "ok",
    [SB_ERR_NOMEM] = "out of memory",
    [SB_ERR_INVALID] = "invalid argument",
    [SB_ERR_PARSE] = "parse error",
    [SB_ERR_NOTFOUND] = "not found",
    [SB_ERR_EXISTS] = "already exists",
    [SB_ERR_IO] = "i/o error",
    [SB_ERR_TIMEOUT] = "timed out",
    [SB_ERR_FULL] = "queue full",
    [SB_ERR_CLOSED] = "closed",
    [SB_ERR_BUSY] = "busy",
    [SB_ERR_UNSUPPORTED] = "unsupported",
    [SB_ERR_AUTH] = "not authorised",
    [SB_ERR_CONFLICT] = "conflict",
    [SB_ERR_TOO_LARGE] = "too large",
    [SB_ERR_REMOTE] = "remote error",
    [SB_ERR_INTERNAL] = "internal error",
};

const char *sb_strerror(sb_err err)
{
    if ((int)err < 0 || err >= SB_ERR__COUNT || !names[err])
        return "unknown error";
    return names[err];
}

sb_err sb_fail(sb_errmsg *em, sb_err code, const char *fmt, ...)
{
    if (em) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(em->text, sizeof(em->text), fmt, ap);
        va_end(ap);
    }
    return code;
}

sb_err sb_fail_wrap(sb_errmsg *em, sb_err code, const char *fmt, ...)
{
    if (!em)
        return code;
    char old[sizeof(em->text)];
    memcpy(old, em->text, sizeof(old));
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(em->text, sizeof(em->text), fmt, ap);
    va_end(ap);
    /* Appended by hand: snprintf("%s", old) trips -Wformat-truncation under -Werror. */
    if (n >= 0 && (size_t)n + 3 < sizeof(em->text) && old[0]) {
        size_t at = (size_t)n, k = strnlen(old, sizeof(em->text) - at - 3);
        em->text[at] = ':';
        em->text[at + 1] = ' ';
        memcpy(em->text + at + 2, old, k);
        em->text[at + 2 + k] = '\0';
    }
    return code;
}

const char *sb_errmsg_str(const sb_errmsg *em, sb_err code)
{
    if (em && em->text[0])
        return em->text;
    return sb_strerror(code);
}
