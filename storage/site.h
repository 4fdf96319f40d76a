/*
 * site.h - where this installation is: its time zone and location, for sunrise/sunset and
 * local times in schedules and templates.
 *
 * The config's site.timezone and site.location ("lat,lon"), overridden by the settings entity
 * "system": {"spec":{"geoLocation":{"latitude":52.52,"longitude":13.405},
 * "timezone":"Europe/Berlin"}} (what the dashboard's settings editor writes).
 * docs/automation.md "Zone and location".
 */
#ifndef SB_SITE_H
#define SB_SITE_H

#include <stdbool.h>

#include "core/config.h"
#include "core/err.h"
#include "storage/store.h"

typedef struct sb_site {
    char tz[64]; /* IANA name; "" = the system's zone */
    bool has_location;
    double latitude, longitude;
} sb_site;

/* Reads the site from cfg and the store's settings "system" (store may be NULL). Errors name
 * the key: an unknown zone, a malformed location, coordinates out of range. */
sb_err sb_site_load(const sb_config *cfg, sb_store *store, sb_site *out, sb_errmsg *em);

/* Makes site the zone and location of every template rendered without options in this process
 * (tasks and handlers; sb_tmpl_set_site). */
void sb_site_apply_to_templates(const sb_site *site);

#endif
