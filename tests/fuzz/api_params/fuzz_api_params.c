/*
 * fuzz_api_params.c - fuzzes the API's query-parameter parsing (services/api/params.c):
 * limit, offset, MyController's JSON-stringified sortBy/filter and plain key=value filters.
 *
 * Input: a raw query string "a=1&filter=%5B...%5D&sortBy=..." split on '&' and the first '=',
 * percent-decoded as libwebsockets does before the API sees it. Checks: a failure comes with a
 * message; a success has 1 <= limit <= 1000, offset >= 0, one filter per plain parameter on top
 * of those of `filter`, and a query that matches and orders documents without crashing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "services/api/api.h"

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_api_params: %s\n", what);
        abort();
    }
}

static int hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* In-place percent-decoding; '+' stays (lws leaves it). NULs end the text. */
static void decode(char *s)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        if (*p == '%' && hex(p[1]) >= 0 && hex(p[2]) >= 0) {
            *o++ = (char)(hex(p[1]) * 16 + hex(p[2]));
            p += 2;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
}

static void split(char *text, api_params *p)
{
    for (char *save = NULL, *f = strtok_r(text, "&", &save); f; f = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(f, '=');
        if (eq)
            *eq++ = '\0';
        decode(f);
        if (eq)
            decode(eq);
        if (*f)
            api_params_add(p, f, eq ? eq : "");
    }
}

static size_t plain_count(const api_params *p)
{
    size_t n = 0;
    for (size_t i = 0; i < p->n; i++)
        n += strcmp(p->keys[i], "limit") && strcmp(p->keys[i], "offset") &&
             strcmp(p->keys[i], "sortBy") && strcmp(p->keys[i], "filter");
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static cJSON *docs[3];
    if (!docs[0]) {
        docs[0] = cJSON_Parse("{\"id\":\"a\",\"name\":\"x\",\"enabled\":true,\"n\":5}");
        docs[1] = cJSON_Parse("{\"id\":\"b\",\"name\":\"5\",\"labels\":{\"room\":\"hall\"}}");
        docs[2] = cJSON_Parse("{\"id\":\"c\"}");
    }
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    api_params p = {0};
    split(text, &p);
    sb_query q;
    sb_errmsg em = {{0}};
    if (api_params_query(&p, &q, &em) != SB_OK) {
        check(em.text[0] != '\0', "a failure without a message");
    } else {
        check(q.limit >= 1 && q.limit <= 1000, "limit out of range");
        check(q.offset >= 0, "negative offset");
        check(q.n_filters >= plain_count(&p), "a plain parameter without its filter");
        for (int i = 0; i < 3; i++) {
            (void)sb_query_match(&q, docs[i]);
            for (int j = 0; j < 3; j++)
                check((sb_query_compare(&q, docs[i], docs[j]) == 0) == (i == j),
                      "only a document equals itself");
        }
        sb_query_free(&q);
    }
    api_params_free(&p);
    free(text);
    return 0;
}
