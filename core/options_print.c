/*
 * options_print.c - an option table written out as commented YAML and as a Markdown table.
 *
 * The YAML output must load back to the same values (`switchboard config default >
 * switchboard.yaml` is how a user starts), so strings and enum words are double-quoted
 * whenever a YAML reader could take them for something else (a number, a boolean, null, an
 * indicator character), and durations are printed in the units they were written in.
 */
#include "core/options.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/options_internal.h"

void sb_opt_format_duration(int64_t ms, char *buf, size_t len)
{
    static const struct {
        const char *unit;
        int64_t ms;
    } units[] = {{"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1}};
    if (ms <= 0) {
        snprintf(buf, len, ms == 0 ? "0s" : "%" PRId64, ms);
        return;
    }
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < SB_ARRAY_LEN(units) && ms > 0; i++) {
        int64_t q = ms / units[i].ms;
        if (q == 0)
            continue;
        ms -= q * units[i].ms;
        int n = snprintf(buf + used, len - used, "%" PRId64 "%s", q, units[i].unit);
        if (n < 0 || (size_t)n >= len - used)
            return;
        used += (size_t)n;
    }
}

void sb_opt_format_double(double v, char *buf, size_t len)
{
    if (fabs(v) < 1e15 && v == (double)(int64_t)v) {
        snprintf(buf, len, "%" PRId64, (int64_t)v); /* 100000000, not 1e+08 */
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

const char *sb_opt_value_text(const sb_option *row, const void *base, char *buf, size_t len)
{
    const void *m = sb_opt_cmember(base, row);
    int idx;
    buf[0] = '\0';
    switch (row->type) {
    case SB_OPT_STRING:
        snprintf(buf, len, "%s", *(char *const *)m ? *(char *const *)m : "");
        break;
    case SB_OPT_INT:
        snprintf(buf, len, "%" PRId64, *(const int64_t *)m);
        break;
    case SB_OPT_DOUBLE:
        sb_opt_format_double(*(const double *)m, buf, len);
        break;
    case SB_OPT_BOOL:
        snprintf(buf, len, "%s", *(const bool *)m ? "true" : "false");
        break;
    case SB_OPT_DURATION:
        sb_opt_format_duration(*(const int64_t *)m, buf, len);
        break;
    case SB_OPT_ENUM:
        idx = *(const int *)m;
        for (int i = 0; row->choices && row->choices[i]; i++) {
            if (i == idx)
                snprintf(buf, len, "%s", row->choices[i]);
        }
        break;
    default:
        break;
    }
    return buf;
}

/* True when s reads back as the same string from a plain (unquoted) YAML scalar. */
static bool plain_ok(const char *s, bool in_flow)
{
    static const char *const words[] = {"null", "~",   "true", "false", "yes", "no",
                                        "on",   "off", "y",    "n",     NULL};
    if (!*s || strchr("0123456789.+-", *s))
        return false; /* empty, or could be a number (YAML 1.1 has many spellings) */
    for (size_t i = 0; words[i]; i++) {
        if (strcasecmp(s, words[i]) == 0)
            return false;
    }
    if (s[strlen(s) - 1] == ':')
        return false;
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        bool ok = alpha || (c >= '0' && c <= '9') || strchr("_./-@+=", c) ||
                  (!in_flow && (c == ',' || c == ':'));
        if (!ok || (p == s && !(alpha || c == '/' || c == '_')))
            return false;
    }
    return true;
}

/* Decodes one UTF-8 sequence at p; returns its length (0 when invalid) and the code point. */
static size_t utf8_next(const unsigned char *p, uint32_t *cp)
{
    size_t n = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc0 ? 2 : 0;
    if (n == 0 || *p >= 0xf8)
        return 0;
    uint32_t v = *p & (0x3f >> (n - 1));
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (p[i] & 0x3f);
    }
    *cp = v;
    return n;
}

/* Characters YAML does not allow raw, or reads as line breaks inside a quoted scalar. */
static bool must_escape(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
           (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfeff || cp == 0xfffe || cp == 0xffff;
}

static void put_quoted(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        uint32_t cp = *p;
        size_t n = *p < 0x80 ? 1 : utf8_next(p, &cp);
        if (n == 0) { /* not UTF-8 (only possible from the environment): pass it on as is */
            fputc(*p++, out);
            continue;
        }
        if (cp == '"' || cp == '\\')
            fprintf(out, "\\%c", (char)cp);
        else if (cp == '\n')
            fputs("\\n", out);
        else if (cp == '\t')
            fputs("\\t", out);
        else if (must_escape(cp))
            fprintf(out, cp < 0x100 ? "\\x%02x" : "\\u%04x", (unsigned)cp);
        else
            fwrite(p, 1, n, out);
        p += n;
    }
    fputc('"', out);
}

static void put_scalar(FILE *out, const char *s, bool in_flow)
{
    if (plain_ok(s, in_flow))
        fputs(s, out);
    else
        put_quoted(out, s);
}

/* "(0..65535)", "(error|warn|info)", "(secret)": what the comment line adds to the text. */
static void row_notes(const sb_option *row, char *buf, size_t len)
{
    char lo[48], hi[48], ch[256] = "";
    buf[0] = '\0';
    if (row->type == SB_OPT_ENUM) {
        size_t used = 0;
        for (size_t i = 0; row->choices && row->choices[i] && used < sizeof(ch); i++) {
            int n = snprintf(ch + used, sizeof(ch) - used, "%s%s", i ? "|" : "", row->choices[i]);
            used += n > 0 ? (size_t)n : 0;
        }
        snprintf(buf, len, "%s", ch);
    } else if (row->min < row->max && row->type == SB_OPT_DURATION) {
        sb_opt_format_duration((int64_t)row->min, lo, sizeof(lo));
        sb_opt_format_duration((int64_t)row->max, hi, sizeof(hi));
        snprintf(buf, len, "%s..%s", lo, hi);
    } else if (row->min < row->max && (row->type == SB_OPT_INT || row->type == SB_OPT_DOUBLE)) {
        sb_opt_format_double(row->min, lo, sizeof(lo));
        sb_opt_format_double(row->max, hi, sizeof(hi));
        snprintf(buf, len, "%s..%s", lo, hi);
    }
    if (row->flags & SB_OPT_SECRET)
        snprintf(buf + strlen(buf), len - strlen(buf), "%ssecret", buf[0] ? ", " : "");
    if (row->flags & SB_OPT_REQUIRED)
        snprintf(buf + strlen(buf), len - strlen(buf), "%srequired", buf[0] ? ", " : "");
}

static void put_comment(FILE *out, const sb_option *row, int indent)
{
    char notes[320];
    row_notes(row, notes, sizeof(notes));
    const char *d = row->desc ? row->desc : "";
    while (true) { /* a description with newlines becomes several comment lines */
        const char *nl = strchr(d, '\n');
        int n = nl ? (int)(nl - d) : (int)strlen(d);
        fprintf(out, "%*s# %.*s", indent, "", n, d);
        if (!nl)
            break;
        fputc('\n', out);
        d = nl + 1;
    }
    if (notes[0])
        fprintf(out, " (%s)", notes);
    fputc('\n', out);
}

static void put_list(FILE *out, const sb_strlist *list)
{
    fputc('[', out);
    for (size_t i = 0; i < list->n; i++) {
        if (i)
            fputs(", ", out);
        put_scalar(out, list->items[i], true);
    }
    fputc(']', out);
}

static void put_map(FILE *out, const cJSON *map)
{
    const cJSON *it;
    bool first = true;
    fputc('{', out);
    cJSON_ArrayForEach(it, map)
    {
        fputs(first ? "" : ", ", out);
        put_scalar(out, it->string ? it->string : "", true);
        fputs(": ", out);
        put_scalar(out, cJSON_IsString(it) ? it->valuestring : "", true);
        first = false;
    }
    fputc('}', out);
}

void sb_options_print_yaml(const sb_option *table, const void *base, FILE *out, int indent,
                           bool redact_secrets)
{
    char text[128];
    for (const sb_option *row = table; row->key; row++) {
        const void *m = sb_opt_cmember(base, row);
        if (row->type == SB_OPT_SECTION && row != table)
            fputc('\n', out);
        put_comment(out, row, indent);
        fprintf(out, "%*s%s:", indent, "", row->key);
        if (row->type == SB_OPT_SECTION) {
            fputc('\n', out);
            sb_options_print_yaml(row->section, m, out, indent + 2, redact_secrets);
            continue;
        }
        fputc(' ', out);
        if (row->type == SB_OPT_STRLIST) {
            put_list(out, m);
        } else if (row->type == SB_OPT_MAP) {
            put_map(out, *(cJSON *const *)m);
        } else if (row->type == SB_OPT_STRING) {
            const char *s = *(char *const *)m ? *(char *const *)m : "";
            bool hide = redact_secrets && (row->flags & SB_OPT_SECRET) && *s;
            put_scalar(out, hide ? "***" : s, false);
        } else {
            sb_opt_value_text(row, base, text, sizeof(text));
            if (row->type == SB_OPT_ENUM)
                put_scalar(out, text, false);
            else
                fputs(text, out);
        }
        fputc('\n', out);
    }
}

/* Markdown table cell text: '|' escaped (and HTML brackets outside code), newlines as spaces. */
static void put_cell(FILE *out, const char *s, bool code)
{
    for (; *s; s++) {
        if (*s == '|')
            fputs("\\|", out);
        else if (*s == '<' && !code)
            fputs("&lt;", out);
        else if (*s == '>' && !code)
            fputs("&gt;", out);
        else
            fputc(*s == '\n' ? ' ' : *s, out);
    }
}

static const char *type_name(const sb_option *row)
{
    static const char *const names[] = {
        [SB_OPT_STRING] = "string",           [SB_OPT_INT] = "integer",
        [SB_OPT_DOUBLE] = "number",           [SB_OPT_BOOL] = "bool",
        [SB_OPT_DURATION] = "duration",       [SB_OPT_ENUM] = "enum",
        [SB_OPT_STRLIST] = "list of strings", [SB_OPT_MAP] = "map of strings",
        [SB_OPT_SECTION] = "section",
    };
    return (size_t)row->type < SB_ARRAY_LEN(names) ? names[row->type] : "?";
}

static void markdown_row(FILE *out, const sb_option *row, const char *path)
{
    char notes[320];
    row_notes(row, notes, sizeof(notes));
    fprintf(out, "| `%s` | %s", path, type_name(row));
    if (notes[0]) {
        fputs(" (", out);
        put_cell(out, notes, false);
        fputc(')', out);
    }
    fputs(" | ", out);
    if (row->type == SB_OPT_MAP) {
        fputs("`{}`", out);
    } else if (row->type != SB_OPT_SECTION) {
        const char *def = row->def ? row->def : "";
        if (*def) {
            fputc('`', out);
            put_cell(out, def, true);
            fputc('`', out);
        } else {
            fputs(row->type == SB_OPT_STRLIST ? "`[]`" : "`\"\"`", out);
        }
    }
    fputs(" | ", out);
    put_cell(out, row->desc ? row->desc : "", false);
    fputs(" |\n", out);
}

static void markdown_rows(const sb_option *table, FILE *out, const char *prefix)
{
    char path[SB_OPT_PATH_MAX];
    for (const sb_option *row = table; row->key; row++) {
        sb_opt_path(path, sizeof(path), prefix, row->key);
        markdown_row(out, row, path);
        if (row->type == SB_OPT_SECTION)
            markdown_rows(row->section, out, path);
    }
}

void sb_options_print_markdown(const sb_option *table, FILE *out, const char *prefix)
{
    fputs("| Key | Type | Default | Description |\n", out);
    fputs("|-----|------|---------|-------------|\n", out);
    markdown_rows(table, out, prefix);
}
