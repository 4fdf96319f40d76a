/*
 * template_internal.h - what template.c (parser) and template_funcs.c (values, functions)
 * share. Not a public interface.
 */
#ifndef SB_TEMPLATE_INTERNAL_H
#define SB_TEMPLATE_INTERNAL_H

#include "core/template.h"

typedef enum tv_kind { TV_MISSING, TV_NULL, TV_BOOL, TV_NUM, TV_STR, TV_TIME, TV_JSON } tv_kind;

/* A value during evaluation. Strings are owned when own is set; JSON is borrowed from vars. */
typedef struct tv {
    tv_kind kind;
    bool b;
    bool own;
    double n;
    int64_t t; /* TV_TIME: ms since the epoch */
    char *s;
    const cJSON *j;
    const char *path; /* TV_MISSING from an unknown variable: its name (in the template) */
    size_t path_len;
} tv;

/* The render in progress. */
typedef struct tctx {
    const char *src; /* the whole template, for offsets */
    const char *p;   /* parse position */
    const cJSON *vars;
    sb_tmpl_opts opts;
    cJSON *warnings; /* NULL when the caller does not want them */
    int depth;
    sb_errmsg *em;
} tctx;

void tv_free(tv *v);
tv tv_str_copy(const char *s, size_t len);
tv tv_str_take(char *s);
/* The text of a value as rendered; *owned tells whether the caller must free() it. NULL = none. */
char *tv_text(const tv *v, bool *owned);
bool tv_truthy(const tv *v);

void tmpl_warn(tctx *c, size_t offset, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A function applied to *in (replaced in place) with its evaluated arguments. */
typedef void (*tfunc)(tctx *c, size_t offset, tv *in, tv *args);
typedef struct tfunc_def {
    const char *name;
    int nargs_min, nargs_max;
    tfunc fn;
} tfunc_def;

const tfunc_def *tmpl_func_find(const char *name, size_t len);
/* The value of now, sunrise or sunset. */
tv tmpl_builtin(tctx *c, size_t offset, const char *name);

#endif
