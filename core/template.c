/*
 * template.c - the template parser and renderer (grammar and contract in template.h). Each
 * "{{ }}" is parsed and evaluated in one pass; values and functions live in template_funcs.c.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/template_internal.h"
#include "core/time.h"

typedef struct obuf {
    char *p;
    size_t len, cap, max;
} obuf;

static sb_err put(obuf *b, const char *s, size_t n, sb_errmsg *em)
{
    if (b->len + n > b->max)
        return sb_fail(em, SB_ERR_TOO_LARGE, "template output exceeds %zu bytes", b->max);
    if (sb_buf_reserve(&b->p, &b->cap, b->len + n + 1) != SB_OK)
        return sb_fail(em, SB_ERR_NOMEM, "template: out of memory");
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return SB_OK;
}

static size_t off(const tctx *c)
{
    return (size_t)(c->p - c->src);
}

static sb_err perr(tctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static sb_err perr(tctx *c, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return sb_fail(c->em, SB_ERR_PARSE, "template offset %zu: %s", off(c), msg);
}

static void skip_ws(tctx *c)
{
    while (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')
        c->p++;
}

static bool ident_start(char ch)
{
    return isalpha((unsigned char)ch) || ch == '_';
}

static bool ident_char(char ch)
{
    return isalnum((unsigned char)ch) || ch == '_' || ch == '-';
}

static void warn_missing(tctx *c, size_t at, tv *v)
{
    if (v->kind == TV_MISSING && v->path) {
        tmpl_warn(c, at, "unknown variable '%.*s'", (int)v->path_len, v->path);
        v->path = NULL;
    }
}

static sb_err parse_string(tctx *c, tv *out)
{
    const char *start = c->p++;
    char *buf = malloc(strlen(c->p) + 1);
    size_t n = 0;
    if (!buf)
        return sb_fail(c->em, SB_ERR_NOMEM, "template: out of memory");
    while (*c->p && *c->p != '"') {
        char ch = *c->p++;
        if (ch == '\\') {
            ch = *c->p++;
            ch = ch == 'n' ? '\n' : ch == 't' ? '\t' : ch;
            if (ch != '\n' && ch != '\t' && ch != '"' && ch != '\\') {
                free(buf);
                c->p--;
                return perr(c, "unknown escape '\\%.1s' in a string", c->p);
            }
        }
        buf[n++] = ch;
    }
    if (*c->p != '"') {
        free(buf);
        c->p = start;
        return perr(c, "string without its closing quote");
    }
    c->p++;
    buf[n] = '\0';
    *out = tv_str_take(buf);
    return SB_OK;
}

/* A dotted key path into vars: object members, numeric segments index arrays. */
static tv lookup(tctx *c, const char *path, size_t len)
{
    const cJSON *node = c->vars;
    const char *p = path, *end = path + len;
    while (node && p < end) {
        const char *dot = memchr(p, '.', (size_t)(end - p));
        size_t n = (size_t)((dot ? dot : end) - p);
        char key[256];
        if (n >= sizeof(key)) {
            node = NULL;
            break;
        }
        memcpy(key, p, n);
        key[n] = '\0';
        if (cJSON_IsArray(node) && n > 0 && strspn(key, "0123456789") == n && n < 9)
            node = cJSON_GetArrayItem(node, atoi(key));
        else
            node = cJSON_IsObject(node) ? cJSON_GetObjectItemCaseSensitive(node, key) : NULL;
        p += n + (dot ? 1 : 0);
    }
    if (!node)
        return (tv){.kind = TV_MISSING, .path = path, .path_len = len};
    return (tv){.kind = TV_JSON, .j = node};
}

static sb_err parse_expr(tctx *c, tv *out);

static sb_err parse_word(tctx *c, tv *out)
{
    const char *start = c->p;
    size_t at = off(c);
    while (ident_char(*c->p) || (*c->p == '.' && (ident_char(c->p[1]))))
        c->p++;
    size_t len = (size_t)(c->p - start);
    static const char *const builtins[] = {"now", "sunrise", "sunset"};
    for (size_t i = 0; i < SB_ARRAY_LEN(builtins); i++)
        if (len == strlen(builtins[i]) && memcmp(start, builtins[i], len) == 0) {
            *out = tmpl_builtin(c, at, builtins[i]);
            return SB_OK;
        }
    if (len == 4 && memcmp(start, "true", 4) == 0)
        *out = (tv){.kind = TV_BOOL, .b = true};
    else if (len == 5 && memcmp(start, "false", 5) == 0)
        *out = (tv){.kind = TV_BOOL, .b = false};
    else if (len == 4 && memcmp(start, "null", 4) == 0)
        *out = (tv){.kind = TV_NULL};
    else
        *out = lookup(c, start, len);
    return SB_OK;
}

static sb_err parse_operand(tctx *c, tv *out)
{
    skip_ws(c);
    char ch = *c->p;
    if (ch == '"')
        return parse_string(c, out);
    if (ch == '(') {
        if (++c->depth > SB_TMPL_MAX_DEPTH)
            return perr(c, "parentheses nested deeper than %d", SB_TMPL_MAX_DEPTH);
        c->p++;
        sb_err err = parse_expr(c, out);
        if (err)
            return err;
        skip_ws(c);
        if (*c->p != ')') {
            tv_free(out);
            return perr(c, "expected ')'");
        }
        c->p++;
        c->depth--;
        return SB_OK;
    }
    if (isdigit((unsigned char)ch) || (ch == '-' && isdigit((unsigned char)c->p[1]))) {
        char *end;
        double n = strtod(c->p, &end);
        c->p = end;
        *out = (tv){.kind = TV_NUM, .n = n};
        return SB_OK;
    }
    if (ident_start(ch))
        return parse_word(c, out);
    if (!ch)
        return perr(c, "'{{' without '}}'");
    return perr(c, "unexpected character '%.1s'", c->p);
}

/* "| name args..." applied to *v. */
static sb_err parse_call(tctx *c, tv *v)
{
    skip_ws(c);
    const char *name = c->p;
    size_t at = off(c);
    while (ident_char(*c->p))
        c->p++;
    const tfunc_def *f = tmpl_func_find(name, (size_t)(c->p - name));
    if (!f) {
        int n = (int)(c->p - name);
        c->p = name;
        if (n == 0)
            return perr(c, "expected a function name after '|'");
        return perr(c, "unknown function '%.*s'", n > 40 ? 40 : n, name);
    }
    tv args[2] = {{0}, {0}};
    int n = 0;
    for (skip_ws(c); n < f->nargs_max && *c->p && *c->p != '|' && *c->p != ')' &&
                     !(c->p[0] == '}' && c->p[1] == '}');
         skip_ws(c)) {
        sb_err err = parse_operand(c, &args[n++]);
        if (err) {
            tv_free(&args[0]);
            tv_free(&args[1]);
            return err;
        }
    }
    if (n < f->nargs_min) {
        tv_free(&args[0]);
        return perr(c, "'%s' needs more arguments", f->name);
    }
    if (strcmp(f->name, "default") != 0 && strcmp(f->name, "ternary") != 0)
        warn_missing(c, at, v);
    for (int i = 0; i < n; i++)
        warn_missing(c, at, &args[i]);
    f->fn(c, at, v, args);
    tv_free(&args[0]);
    tv_free(&args[1]);
    return SB_OK;
}

static sb_err parse_expr(tctx *c, tv *out)
{
    sb_err err = parse_operand(c, out);
    if (err)
        return err;
    for (skip_ws(c); *c->p == '|'; skip_ws(c)) {
        c->p++;
        err = parse_call(c, out);
        if (err) {
            tv_free(out);
            return err;
        }
    }
    return SB_OK;
}

/* One "{{ ... }}" starting at c->p (just after the braces). */
static sb_err render_tag(tctx *c, obuf *b)
{
    size_t at = off(c);
    tv v = {0};
    c->depth = 0;
    sb_err err = parse_expr(c, &v);
    if (err)
        return err;
    skip_ws(c);
    if (!(c->p[0] == '}' && c->p[1] == '}')) {
        tv_free(&v);
        if (!*c->p)
            return perr(c, "'{{' without '}}'");
        return perr(c, "expected '}}' or '|', found '%.1s'", c->p);
    }
    c->p += 2;
    warn_missing(c, at, &v);
    bool owned;
    char *text = tv_text(&v, &owned);
    err = text ? put(b, text, strlen(text), c->em) : SB_OK;
    if (owned)
        free(text);
    tv_free(&v);
    return err;
}

static pthread_mutex_t site_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
    char tz[64];
    bool has_tz, has_location;
    double latitude, longitude;
} site;

void sb_tmpl_set_site(const char *tz, bool has_location, double latitude, double longitude)
{
    pthread_mutex_lock(&site_mu);
    site.has_tz = tz && *tz;
    snprintf(site.tz, sizeof(site.tz), "%s", site.has_tz ? tz : "");
    site.has_location = has_location;
    site.latitude = latitude;
    site.longitude = longitude;
    pthread_mutex_unlock(&site_mu);
}

/* The site's zone (copied into tz, which o->tz then points at) and location. */
static void site_defaults(sb_tmpl_opts *o, char *tz, size_t len)
{
    pthread_mutex_lock(&site_mu);
    snprintf(tz, len, "%s", site.tz);
    o->tz = site.has_tz ? tz : NULL;
    o->has_location = site.has_location;
    o->latitude = site.latitude;
    o->longitude = site.longitude;
    pthread_mutex_unlock(&site_mu);
}

sb_err sb_tmpl_render(const char *tmpl, const cJSON *vars, const sb_tmpl_opts *opts, char **out,
                      cJSON **warnings, sb_errmsg *em)
{
    tctx c = {.src = tmpl, .p = tmpl, .vars = vars, .em = em};
    obuf b = {0};
    sb_err err = SB_OK;
    *out = NULL;
    if (warnings)
        *warnings = NULL;
    if (!tmpl)
        return sb_fail(em, SB_ERR_INVALID, "template: no text");
    char site_tz[64];
    if (opts)
        c.opts = *opts;
    else
        site_defaults(&c.opts, site_tz, sizeof(site_tz));
    if (!c.opts.now_ms)
        c.opts.now_ms = sb_time_now_ms();
    b.max = c.opts.max_output ? c.opts.max_output : SB_TMPL_MAX_OUTPUT;
    if (warnings && !(c.warnings = cJSON_CreateArray()))
        return sb_fail(em, SB_ERR_NOMEM, "template: out of memory");
    if ((err = put(&b, "", 0, em)))
        goto fail;
    while (*c.p) {
        const char *open = strstr(c.p, "{{");
        size_t n = open ? (size_t)(open - c.p) : strlen(c.p);
        if ((err = put(&b, c.p, n, em)))
            goto fail;
        c.p += n;
        if (!open)
            break;
        c.p += 2;
        if ((err = render_tag(&c, &b)))
            goto fail;
    }
    *out = b.p;
    if (warnings)
        *warnings = c.warnings;
    return SB_OK;
fail:
    free(b.p);
    cJSON_Delete(c.warnings);
    return err;
}
