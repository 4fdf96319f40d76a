/*
 * web.h - the web dashboard's static files (api.web_root), served by the API's HTTP server for
 * GET requests outside /api. Not a route of the router: the router's table is the API and
 * openapi.json documents exactly that table.
 */
#ifndef SB_API_WEB_H
#define SB_API_WEB_H

#include <stdbool.h>

#include "api.h"

/* Whether the request is for the dashboard: api.web_root is set, the method GET and the path
 * outside /api. */
bool api_web_wants(const api *a, const api_req *rq);

/*
 * Answers rq from api.web_root into rs: the file at the path (index.html for a directory) with
 * its content type; "<file>.gz" instead with Content-Encoding: gzip when it exists and
 * accept_encoding (the request's header, may be "") allows gzip; index.html for a path that
 * names no file and no known file type (the dashboard's routes in the browser); 404 otherwise.
 * Files under /assets/ (content-hashed names) may be cached for a year, everything else is
 * revalidated (ETag from size and mtime; if_none_match is the request's header, may be "").
 */
void api_web_serve(const api *a, const api_req *rq, const char *accept_encoding,
                   const char *if_none_match, api_resp *rs);

#endif
