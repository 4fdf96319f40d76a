/*
 * esph_light.c - ESPHome's light JSON schema (Home Assistant's "json" light schema), both ways:
 * a state {"state":"ON","brightness":128,"color_mode":"rgb","color":{"r":255,"g":128,"b":0},
 * "color_temp":300,"effect":"None"} to fields, and a field write to a command object.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gateways/esphome/esph_internal.h"

/* Keys a light only takes in commands. */
static bool command_only(const char *k)
{
    return strcmp(k, "transition") == 0 || strcmp(k, "flash") == 0;
}

static void number(esph_ctx *c, sb_msg *m, const char *field, const cJSON *v, const char *unit)
{
    char text[32];
    if (!cJSON_IsNumber(v) || v->valuedouble != v->valuedouble) {
        esph_note(c, "%s.%s: not a number", m->source_id, field);
        return;
    }
    snprintf(text, sizeof(text), "%.15g", v->valuedouble);
    esph_add(c, m, field, text, SB_METRIC_GAUGE, unit);
}

static void text(esph_ctx *c, sb_msg *m, const char *field, const cJSON *v)
{
    if (cJSON_IsString(v) && *v->valuestring)
        esph_add(c, m, field, v->valuestring, SB_METRIC_STRING, NULL);
    else
        esph_note(c, "%s.%s: not a text", m->source_id, field);
}

/* "color": r, g, b as the hex text "RRGGBB"; w and c as the white channels. */
static void color(esph_ctx *c, sb_msg *m, const cJSON *col)
{
    if (!cJSON_IsObject(col)) {
        esph_note(c, "%s.color: not an object", m->source_id);
        return;
    }
    int rgb[3], have = 0;
    static const char *const ch[3] = {"r", "g", "b"};
    for (int i = 0; i < 3; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(col, ch[i]);
        if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= 255)
            rgb[i] = (int)v->valuedouble, have++;
        else if (v)
            esph_note(c, "%s.color.%s: not a number 0..255", m->source_id, ch[i]);
    }
    if (have == 3) {
        char hex[8];
        snprintf(hex, sizeof(hex), "%02X%02X%02X", rgb[0], rgb[1], rgb[2]);
        esph_add(c, m, "color", hex, SB_METRIC_STRING, NULL);
    }
    const cJSON *v;
    if ((v = cJSON_GetObjectItemCaseSensitive(col, "w")))
        number(c, m, "white", v, NULL);
    if ((v = cJSON_GetObjectItemCaseSensitive(col, "c")))
        number(c, m, "cold_white", v, NULL);
}

static void light_key(esph_ctx *c, sb_msg *m, const cJSON *it)
{
    const char *k = it->string;
    if (strcmp(k, "state") == 0) {
        const char *s = cJSON_IsString(it) ? it->valuestring : "";
        if (strcasecmp(s, "ON") == 0 || strcasecmp(s, "OFF") == 0)
            esph_add(c, m, SB_ESPH_FIELD_STATE, strcasecmp(s, "ON") == 0 ? "true" : "false",
                     SB_METRIC_BINARY, NULL);
        else
            esph_note(c, "%s.state: not ON or OFF", m->source_id);
    } else if (strcmp(k, "brightness") == 0) {
        number(c, m, "brightness", it, NULL);
    } else if (strcmp(k, "color_temp") == 0) {
        number(c, m, "color_temp", it, "mired");
    } else if (strcmp(k, "color_mode") == 0 || strcmp(k, "effect") == 0) {
        text(c, m, k, it);
    } else if (strcmp(k, "color") == 0) {
        color(c, m, it);
    } else if (strcmp(k, "white_value") == 0) {
        /* legacy: read after the loop, when color.w did not give the white channel */
    } else if (!command_only(k)) {
        esph_note(c, "%s: unknown key '%.40s', skipped", m->source_id, k);
    }
}

void esph_light_state(esph_ctx *c, sb_msg *m, const char *payload, size_t len)
{
    cJSON *root = cJSON_ParseWithLength(payload, len);
    if (!cJSON_IsObject(root)) {
        esph_note(c, "%s: payload is not a JSON object: '%.*s'", c->t->source_id,
                  (int)(len < 60 ? len : 60), payload);
    } else {
        const cJSON *it;
        cJSON_ArrayForEach(it, root)
        {
            light_key(c, m, it);
        }
        /* white_value only when color.w did not give the white channel */
        const cJSON *wv = cJSON_GetObjectItemCaseSensitive(root, "white_value");
        const cJSON *col = cJSON_GetObjectItemCaseSensitive(root, "color");
        if (wv && !cJSON_GetObjectItemCaseSensitive(col, "w"))
            number(c, m, "white", wv, NULL);
    }
    cJSON_Delete(root);
}

/* ---- commands ------------------------------------------------------------------------------ */

static sb_err int_value(const char *v, long lo, long hi, long *out, sb_errmsg *em)
{
    char *end = NULL;
    double d = strtod(v, &end);
    if (!*v || *end || !(d >= lo && d <= hi) || d != (double)(long)d)
        return sb_fail(em, SB_ERR_INVALID, "'%.20s' is not an integer %ld..%ld", v, lo, hi);
    *out = (long)d;
    return SB_OK;
}

/* "FF8000", "#ff8000" or "255,128,0". */
static sb_err rgb_value(const char *v, long rgb[3], sb_errmsg *em)
{
    const char *h = v + (*v == '#');
    if (strlen(h) == 6 && strspn(h, "0123456789abcdefABCDEF") == 6) {
        unsigned long x = strtoul(h, NULL, 16);
        rgb[0] = (long)(x >> 16) & 0xff, rgb[1] = (long)(x >> 8) & 0xff, rgb[2] = (long)x & 0xff;
        return SB_OK;
    }
    const char *p = v;
    for (int i = 0; i < 3; i++) {
        char *end = NULL;
        rgb[i] = strtol(p, &end, 10);
        if (end == p || rgb[i] < 0 || rgb[i] > 255 || (i < 2 ? *end != ',' : *end != '\0'))
            return sb_fail(em, SB_ERR_INVALID, "'%.20s' is not a colour (RRGGBB or r,g,b)", v);
        p = end + 1;
    }
    return SB_OK;
}

static sb_err onoff(const char *v, const char **out, sb_errmsg *em)
{
    static const char *const on[] = {"on", "true", "1", "yes", NULL};
    static const char *const off[] = {"off", "false", "0", "no", NULL};
    for (int i = 0; on[i]; i++) {
        if (strcasecmp(v, on[i]) == 0)
            return *out = "ON", SB_OK;
        if (strcasecmp(v, off[i]) == 0)
            return *out = "OFF", SB_OK;
    }
    if (strcasecmp(v, "toggle") == 0)
        return *out = "TOGGLE", SB_OK;
    return sb_fail(em, SB_ERR_INVALID, "'%.20s' is not on/off/toggle", v);
}

static sb_err light_fill(cJSON *o, const char *key, const char *value, sb_errmsg *em)
{
    long n = 0, rgb[3];
    const char *word = NULL;
    sb_err rc;
    if (strcmp(key, SB_ESPH_FIELD_STATE) == 0) {
        if ((rc = onoff(value, &word, em)) == SB_OK)
            cJSON_AddStringToObject(o, "state", word);
        return rc;
    }
    if (strcmp(key, "effect") == 0) {
        if (!*value || strlen(value) > 64)
            return sb_fail(em, SB_ERR_INVALID, "an effect name of 1..64 bytes");
        cJSON_AddStringToObject(o, "effect", value);
        return SB_OK;
    }
    cJSON_AddStringToObject(o, "state", "ON");
    if (strcmp(key, "brightness") == 0 || strcmp(key, "color_temp") == 0) {
        bool bri = key[0] == 'b';
        if ((rc = int_value(value, bri ? 0 : 1, bri ? 255 : 1000, &n, em)) == SB_OK)
            cJSON_AddNumberToObject(o, key, (double)n);
        return rc;
    }
    cJSON *col = cJSON_AddObjectToObject(o, "color");
    if (strcmp(key, "color") == 0) {
        if ((rc = rgb_value(value, rgb, em)) == SB_OK) {
            cJSON_AddNumberToObject(col, "r", (double)rgb[0]);
            cJSON_AddNumberToObject(col, "g", (double)rgb[1]);
            cJSON_AddNumberToObject(col, "b", (double)rgb[2]);
        }
        return rc;
    }
    if (strcmp(key, "white") == 0 || strcmp(key, "cold_white") == 0) {
        if ((rc = int_value(value, 0, 255, &n, em)) == SB_OK)
            cJSON_AddNumberToObject(col, key[0] == 'w' ? "w" : "c", (double)n);
        return rc;
    }
    return sb_fail(em, SB_ERR_INVALID, "not writable");
}

sb_err esph_light_command(const char *key, const char *value, char *out, size_t len, sb_errmsg *em)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    sb_err rc = light_fill(o, key, value, em);
    if (rc == SB_OK && !cJSON_PrintPreallocated(o, out, (int)len, false))
        rc = sb_fail(em, SB_ERR_TOO_LARGE, "command longer than %zu bytes", len);
    cJSON_Delete(o);
    return rc;
}
