/* site.c - the installation's time zone and location (site.h). */
#include "storage/site.h"

#include <stdio.h>

#include "core/json.h"
#include "core/log.h"
#include "core/sun.h"
#include "core/template.h"
#include "core/tz.h"

/* The settings entity's geoLocation, when it has one; SB_ERR_INVALID when out of range. */
static sb_err settings_location(const cJSON *settings, sb_site *out, sb_errmsg *em)
{
    const cJSON *geo = sb_json_path(settings, "spec.geoLocation");
    const cJSON *lat = cJSON_GetObjectItemCaseSensitive(geo, "latitude");
    const cJSON *lon = cJSON_GetObjectItemCaseSensitive(geo, "longitude");
    if (!cJSON_IsNumber(lat) || !cJSON_IsNumber(lon))
        return SB_OK;
    if (lat->valuedouble < -90 || lat->valuedouble > 90 || lon->valuedouble < -180 ||
        lon->valuedouble > 180)
        return sb_fail(em, SB_ERR_INVALID, "settings geoLocation: coordinates out of range");
    out->latitude = lat->valuedouble;
    out->longitude = lon->valuedouble;
    out->has_location = true;
    return SB_OK;
}

sb_err sb_site_load(const sb_config *cfg, sb_store *store, sb_site *out, sb_errmsg *em)
{
    *out = (sb_site){0};
    const sb_config_site *site = &cfg->site;
    const char *tz = site->timezone ? site->timezone : "";
    if (site->location && *site->location) {
        if (sb_sun_location_parse(site->location, &out->latitude, &out->longitude, em) != SB_OK)
            return sb_fail_wrap(em, SB_ERR_INVALID, "site.location");
        out->has_location = true;
    }
    cJSON *settings = NULL;
    sb_errmsg sem = {{0}};
    sb_err rc =
        store ? sb_store_get(store, "settings", "system", &settings, &sem) : SB_ERR_NOTFOUND;
    if (rc != SB_OK && rc != SB_ERR_NOTFOUND)
        sb_warn(NULL, "settings: not read: %s", sb_errmsg_str(&sem, rc));
    rc = settings_location(settings, out, em);
    const cJSON *stz = sb_json_path(settings, "spec.timezone");
    const char *key = "site.timezone";
    if (cJSON_IsString(stz) && stz->valuestring[0]) {
        tz = stz->valuestring;
        key = "settings 'system' spec.timezone";
    }
    if (rc == SB_OK && *tz && !sb_tz_valid(tz))
        rc = sb_fail(em, SB_ERR_INVALID, "%s: time zone '%.64s' is unknown (want an IANA name)",
                     key, tz);
    if (rc == SB_OK)
        snprintf(out->tz, sizeof(out->tz), "%s", tz);
    cJSON_Delete(settings);
    return rc;
}

void sb_site_apply_to_templates(const sb_site *site)
{
    sb_tmpl_set_site(site->tz[0] ? site->tz : NULL, site->has_location, site->latitude,
                     site->longitude);
}
