/*
 * ctl.h - `switchboard ctl`: the REST API from the command line (cmd_ctl.c).
 *
 * ctl_http.c does the HTTP (libcurl) and the saved session, ctl_print.c the human tables,
 * ctl_ws.c the websocket event tail (libwebsockets). docs/cli.md.
 */
#ifndef SB_CTL_H
#define SB_CTL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct ctl {
    char url[512];    /* http://host:port, no trailing slash */
    char token[4096]; /* bearer token; empty = none */
    bool json;        /* --json: print the API's JSON as it is */
} ctl;

typedef struct ctl_resp {
    long status; /* HTTP status; 0 when the request did not reach the server */
    char *body;  /* NUL-terminated (may contain NULs for binary downloads); caller frees */
    size_t len;
    char error[1024]; /* transport error when status is 0 */
} ctl_resp;

/* One request; body may be NULL. ctype defaults to application/json. */
void ctl_request(const ctl *c, const char *method, const char *path, const void *body,
                 size_t body_len, const char *ctype, ctl_resp *out);

/* Prints an error answer ("error: <error>: <detail>" from the API's JSON) to stderr; returns 1. */
int ctl_fail(const char *what, const ctl_resp *r);

/* Request that must answer 2xx with JSON: *out parsed (caller deletes), else prints and fails. */
int ctl_json(const ctl *c, const char *method, const char *path, const cJSON *body, cJSON **out);

/* The saved session: $XDG_CONFIG_HOME/switchboard/ctl.json (or ~/.config/...), mode 0600. */
bool ctl_session_load(ctl *c);
int ctl_session_save(const ctl *c);
void ctl_session_remove(void);

/* Tables: a list answer {count, data} of kind, or one entity as key: value lines. */
void ctl_print_list(const char *kind, const cJSON *page);
void ctl_print_entity(const cJSON *doc);

/* Follows the websocket feed, printing events; stops after count events (0 = until Ctrl-C). */
int ctl_tail(const ctl *c, const cJSON *subscription, long count);

#endif
