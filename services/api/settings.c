/*
 * settings.c - GET and POST /api/settings: the installation's settings, the one settings
 * document "system" (kind "settings"). The scheduler reads its zone and location
 * (docs/automation.md, Zone and location); the dashboard its units.
 *
 *   {"id": "system", "spec": {"timezone": "Europe/Berlin",
 *                             "geoLocation": {"latitude": 52.52, "longitude": 13.405},
 *                             "units": "metric"}}
 *
 * Unlike the entity routes the keys are checked here, every bad one named in one 400: a zone
 * the system does not know, coordinates out of range, units other than metric or imperial.
 * Other keys of spec are kept as sent. A write publishes <p>/event/settings/system.
 */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "core/json.h"
#include "core/time.h"
#include "core/tz.h"

#define SETTINGS_ID "system"

/* Appends "what" to em's text, "; "-separated. */
static void add_problem(sb_errmsg *em, const char *what)
{
    size_t used = strlen(em->text);
    snprintf(em->text + used, sizeof(em->text) - used, "%s%s", used ? "; " : "", what);
}

static void check_coordinate(const cJSON *geo, const char *key, double limit, sb_errmsg *em)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(geo, key);
    char msg[128];
    if (!cJSON_IsNumber(v)) {
        snprintf(msg, sizeof(msg), "spec.geoLocation.%s: expected a number", key);
        add_problem(em, msg);
    } else if (v->valuedouble < -limit || v->valuedouble > limit) {
        snprintf(msg, sizeof(msg), "spec.geoLocation.%s: %g is outside -%g..%g", key,
                 v->valuedouble, limit, limit);
        add_problem(em, msg);
    }
}

/* Every problem of doc in em; true when there is none. */
static bool settings_check(const cJSON *doc, sb_errmsg *em)
{
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(doc, "spec");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(doc, "id");
    char msg[160];
    if (id && (!cJSON_IsString(id) || strcmp(id->valuestring, SETTINGS_ID) != 0))
        add_problem(em, "id: the settings document is \"" SETTINGS_ID "\"");
    if (!cJSON_IsObject(spec)) {
        add_problem(em, "spec: expected an object");
        return false;
    }
    const cJSON *tz = cJSON_GetObjectItemCaseSensitive(spec, "timezone");
    if (tz && !cJSON_IsString(tz)) {
        add_problem(em, "spec.timezone: expected a string");
    } else if (tz && tz->valuestring[0] && !sb_tz_valid(tz->valuestring)) {
        snprintf(msg, sizeof(msg), "spec.timezone: '%.64s' is not a known zone", tz->valuestring);
        add_problem(em, msg);
    }
    const cJSON *geo = cJSON_GetObjectItemCaseSensitive(spec, "geoLocation");
    if (geo && !cJSON_IsNull(geo)) {
        if (!cJSON_IsObject(geo)) {
            add_problem(em, "spec.geoLocation: expected an object {latitude, longitude}");
        } else {
            check_coordinate(geo, "latitude", 90, em);
            check_coordinate(geo, "longitude", 180, em);
        }
    }
    const cJSON *units = cJSON_GetObjectItemCaseSensitive(spec, "units");
    if (units && (!cJSON_IsString(units) || (strcmp(units->valuestring, "metric") != 0 &&
                                             strcmp(units->valuestring, "imperial") != 0)))
        add_problem(em, "spec.units: expected metric or imperial");
    return em->text[0] == '\0';
}

void api_settings_get(api *a, api_req *rq, api_resp *rs)
{
    (void)rq;
    cJSON *doc = NULL;
    sb_errmsg em = {{0}};
    sb_err rc = sb_store_get(a->store, "settings", SETTINGS_ID, &doc, &em);
    if (rc == SB_ERR_NOTFOUND) {
        doc = cJSON_CreateObject();
        cJSON_AddStringToObject(doc, "id", SETTINGS_ID);
        cJSON_AddObjectToObject(doc, "spec");
    } else if (rc != SB_OK) {
        api_error(rs, api_status_of(rc), "store", sb_errmsg_str(&em, rc));
        return;
    }
    api_reply(rs, 200, doc);
}

void api_settings_save(api *a, api_req *rq, api_resp *rs)
{
    cJSON *doc = NULL, *old = NULL;
    sb_errmsg em = {{0}};
    if (!rq->body || sb_json_parse(rq->body, rq->body_len, &doc, &em) != SB_OK ||
        !cJSON_IsObject(doc)) {
        api_error(rs, 400, "bad request", "the body must be a JSON object {\"spec\":{...}}");
        goto done;
    }
    if (!settings_check(doc, &em)) {
        api_error(rs, 400, "invalid settings", em.text);
        goto done;
    }
    sb_json_set_str(doc, "id", SETTINGS_ID);
    char now[SB_TIME_RFC3339_LEN];
    sb_time_format(sb_time_now_ms(), now, sizeof(now));
    sb_json_set_str(doc, "modifiedOn", now);
    sb_err rc = sb_store_get(a->store, "settings", SETTINGS_ID, &old, NULL);
    if ((rc = sb_store_put(a->store, "settings", doc, &em)) != SB_OK) {
        api_error(rs, api_status_of(rc), "store", sb_errmsg_str(&em, rc));
        goto done;
    }
    api_event(a, old ? "updated" : "created", SB_KIND_SETTINGS, doc);
    api_reply(rs, old ? 200 : 201, doc);
    doc = NULL;
done:
    cJSON_Delete(doc);
    cJSON_Delete(old);
}
