/*
 * schedule_preview.c - POST /api/schedule/preview: the next runs of a schedule spec
 * (core/schedule.h), for the dashboard's schedule editor. Nothing is stored or published.
 *
 * Body: {"spec": {...}, "type"?, "validity"?, "count"?: 1..100 (5), "after"?: RFC 3339 (now),
 *        "timezone"?, "location"?: {"latitude","longitude"}}
 * "type" and "validity" beside the spec (MyController's form of a schedule) are used when the
 * spec has none. The zone and location default to the scheduler's: the settings entity
 * "system" (spec.timezone, spec.geoLocation), else the config's site.timezone and site.location.
 * Answer: {"runs": ["<RFC 3339>", ...], "timezone": "<zone or empty>", "ended": bool}; ended
 * says the schedule has fewer runs than asked. A spec that cannot be computed is 400 naming
 * the key.
 */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "core/json.h"
#include "core/schedule.h"
#include "core/time.h"
#include "core/tz.h"
#include "storage/site.h"

/*
 * The zone and location as the scheduler takes them (storage/site.h: the config's site, over
 * which the settings entity "system" wins), over which the body's "timezone" and "location" win.
 */
static bool preview_ctx(api *a, const cJSON *body, sb_site *site, sb_sched_ctx *ctx, sb_errmsg *em)
{
    if (sb_site_load(a->cfg, a->store, site, em) != SB_OK)
        return false;
    const cJSON *tz = cJSON_GetObjectItemCaseSensitive(body, "timezone");
    if (tz) {
        if (!cJSON_IsString(tz) || (tz->valuestring[0] && !sb_tz_valid(tz->valuestring))) {
            sb_fail(em, SB_ERR_INVALID, "timezone: '%.64s' is not a known zone",
                    cJSON_IsString(tz) ? tz->valuestring : "?");
            return false;
        }
        snprintf(site->tz, sizeof(site->tz), "%s", tz->valuestring);
    }
    const cJSON *geo = cJSON_GetObjectItemCaseSensitive(body, "location");
    const cJSON *lat = cJSON_GetObjectItemCaseSensitive(geo, "latitude");
    const cJSON *lon = cJSON_GetObjectItemCaseSensitive(geo, "longitude");
    if (geo && !(cJSON_IsNumber(lat) && cJSON_IsNumber(lon) && lat->valuedouble >= -90 &&
                 lat->valuedouble <= 90 && lon->valuedouble >= -180 && lon->valuedouble <= 180)) {
        sb_fail(em, SB_ERR_INVALID, "location: expected {latitude: -90..90, longitude: -180..180}");
        return false;
    }
    if (geo) {
        site->has_location = true;
        site->latitude = lat->valuedouble;
        site->longitude = lon->valuedouble;
    }
    *ctx = (sb_sched_ctx){.tz = site->tz[0] ? site->tz : NULL,
                          .has_location = site->has_location,
                          .latitude = site->latitude,
                          .longitude = site->longitude};
    return true;
}

/* A copy of body.spec with the body's type and validity when the spec lacks them. */
static cJSON *preview_spec(const cJSON *body)
{
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(body, "spec");
    cJSON *out = cJSON_IsObject(spec) ? cJSON_Duplicate(spec, true) : cJSON_CreateObject();
    static const char *const beside[] = {"type", "validity"};
    for (size_t i = 0; out && i < SB_ARRAY_LEN(beside); i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, beside[i]);
        if (v && !cJSON_IsNull(v) && !cJSON_GetObjectItemCaseSensitive(out, beside[i]))
            cJSON_AddItemToObject(out, beside[i], cJSON_Duplicate(v, true));
    }
    return out;
}

static cJSON *preview_answer(const int64_t *runs, int got, int count, const sb_sched_ctx *ctx)
{
    cJSON *out = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(out, "runs");
    for (int i = 0; i < got; i++) {
        char t[40];
        sb_time_format(runs[i], t, sizeof(t));
        cJSON_AddItemToArray(list, cJSON_CreateString(t));
    }
    cJSON_AddStringToObject(out, "timezone", ctx->tz ? ctx->tz : "");
    cJSON_AddBoolToObject(out, "ended", got < count);
    return out;
}

void api_schedule_preview(api *a, api_req *rq, api_resp *rs)
{
    cJSON *body = NULL, *spec = NULL;
    sb_site site;
    sb_errmsg em = {{0}};
    sb_sched_ctx ctx = {0};
    int64_t runs[SB_SCHED_PREVIEW_MAX], after = sb_time_now_ms();
    int got = 0;
    if (!rq->body || sb_json_parse(rq->body, rq->body_len, &body, NULL) != SB_OK ||
        !cJSON_IsObject(body) || !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(body, "spec"))) {
        api_error(
            rs, 400, "bad request",
            "expected {\"spec\":{\"type\":...},\"count\",\"after\",\"timezone\",\"location\"}");
        goto done;
    }
    const cJSON *count = cJSON_GetObjectItemCaseSensitive(body, "count");
    int n = count ? (int)sb_json_num(body, "count", 0) : 5;
    if ((count && !cJSON_IsNumber(count)) || n < 1 || n > SB_SCHED_PREVIEW_MAX) {
        api_errorf(rs, 400, "bad request", "count: expected a number 1-%d", SB_SCHED_PREVIEW_MAX);
        goto done;
    }
    const char *at = sb_json_str(body, "after", NULL);
    if (at && sb_time_parse(at, &after) != SB_OK) {
        api_error(rs, 400, "bad request", "after: expected an RFC 3339 time");
        goto done;
    }
    if (!preview_ctx(a, body, &site, &ctx, &em)) {
        api_error(rs, 400, "bad schedule", em.text);
        goto done;
    }
    spec = preview_spec(body);
    sb_err rc = sb_sched_preview(spec, after, &ctx, n, runs, &got, &em);
    if (rc == SB_ERR_NOTFOUND)
        got = 0, rc = SB_OK;
    if (rc != SB_OK) {
        api_error(rs, 400, "bad schedule", em.text);
        goto done;
    }
    api_reply(rs, 200, preview_answer(runs, got, n, &ctx));
done:
    cJSON_Delete(spec);
    cJSON_Delete(body);
}
