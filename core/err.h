/*
 * err.h - the one error convention of Switchboard.
 *
 * Every fallible function returns sb_err (SB_OK == 0, errors positive) and gives its outputs
 * through pointer parameters. Library code does not log: it fills an optional sb_errmsg with a
 * sentence that names the problem (key, line, value...) and the caller decides what to do.
 */
#ifndef SB_ERR_H
#define SB_ERR_H

#include <stddef.h>

typedef enum sb_err {
    SB_OK = 0,
    SB_ERR_NOMEM,       /* allocation failed */
    SB_ERR_INVALID,     /* bad argument or malformed input */
    SB_ERR_PARSE,       /* input could not be parsed (JSON, YAML, cron ...) */
    SB_ERR_NOTFOUND,    /* no such entity, key or file */
    SB_ERR_EXISTS,      /* already exists */
    SB_ERR_IO,          /* system call or file failed (errno in the message) */
    SB_ERR_TIMEOUT,     /* a deadline passed */
    SB_ERR_FULL,        /* a bounded queue or buffer is full */
    SB_ERR_CLOSED,      /* the object is shut down or the connection is gone */
    SB_ERR_BUSY,        /* locked by someone else; try later */
    SB_ERR_UNSUPPORTED, /* not available in this build or with this peer */
    SB_ERR_AUTH,        /* authentication or authorisation refused */
    SB_ERR_CONFLICT,    /* state does not allow the operation */
    SB_ERR_TOO_LARGE,   /* input over a configured limit */
    SB_ERR_REMOTE,      /* a remote server answered with an error */
    SB_ERR_INTERNAL,    /* a bug: an invariant did not hold */
    SB_ERR__COUNT
} sb_err;

/* A short, static, lower-case description of an error code. Never NULL. */
const char *sb_strerror(sb_err err);

/* The human message that goes with an error. Functions that take an sb_errmsg * accept NULL. */
typedef struct sb_errmsg {
    char text[512];
} sb_errmsg;

/*
 * Fills em (if not NULL) with the formatted message and returns code, so a failure is one line:
 *     return sb_fail(em, SB_ERR_INVALID, "key '%s' at line %d: expected a number", key, line);
 */
sb_err sb_fail(sb_errmsg *em, sb_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes an existing message: "<prefix>: <old message>". Returns code. */
sb_err sb_fail_wrap(sb_errmsg *em, sb_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The message text, or sb_strerror(code) when em is NULL or empty. */
const char *sb_errmsg_str(const sb_errmsg *em, sb_err code);

/* free() then NULL the pointer: SB_FREE(p). */
#define SB_FREE(p)                                                                                 \
    do {                                                                                           \
        free(p);                                                                                   \
        (p) = NULL;                                                                                \
    } while (0)

#define SB_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
