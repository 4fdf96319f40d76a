/*
 * webhook.c - webhook evaluation: POSTs the task's variables as JSON to the configured URL and
 * reads the answer {"triggered": true|false, ...} (or a bare true/false); the other keys become
 * handler parameters. Runs on the task worker with a timeout (the task's own, else
 * task.webhook_timeout): a slow endpoint delays the evaluations queued behind it by at most that.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "services/task/task.h"

#define WEBHOOK_MAX_ANSWER (1024 * 1024)

typedef struct answer {
    char *buf;
    size_t len;
    bool too_large;
} answer;

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
    answer *a = ctx;
    size_t add = size * n;
    if (a->len + add > WEBHOOK_MAX_ANSWER) {
        a->too_large = true;
        return 0;
    }
    char *grown = realloc(a->buf, a->len + add + 1);
    if (!grown)
        return 0;
    memcpy(grown + a->len, data, add);
    a->buf = grown;
    a->len += add;
    a->buf[a->len] = 0;
    return add;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static struct curl_slist *header_list(const task_webhook *hook)
{
    struct curl_slist *list = curl_slist_append(NULL, "Content-Type: application/json");
    const cJSON *h;
    cJSON_ArrayForEach(h, hook->headers)
    {
        char line[1024];
        if (!cJSON_IsString(h) || strpbrk(h->string, ":\r\n") || strpbrk(h->valuestring, "\r\n"))
            continue; /* a header that would split the request is never sent */
        snprintf(line, sizeof(line), "%s: %s", h->string, h->valuestring);
        list = curl_slist_append(list, line);
    }
    return list;
}

static sb_err post(const sb_config *cfg, const task_webhook *hook, const char *body, answer *a,
                   sb_errmsg *em)
{
    pthread_once(&curl_once, curl_init_once);
    CURL *c = curl_easy_init();
    struct curl_slist *headers = header_list(hook);
    if (!c || !headers) {
        curl_easy_cleanup(c);
        curl_slist_free_all(headers);
        return sb_fail(em, SB_ERR_NOMEM, "cannot set up the request");
    }
    char err[CURL_ERROR_SIZE] = "";
    long timeout = (long)(hook->timeout_ms ? hook->timeout_ms : cfg->task.webhook_timeout_ms);
    curl_easy_setopt(c, CURLOPT_URL, hook->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
    if (hook->insecure) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    CURLcode cc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    curl_slist_free_all(headers);
    if (a->too_large)
        return sb_fail(em, SB_ERR_TOO_LARGE, "answer larger than %d bytes", WEBHOOK_MAX_ANSWER);
    if (cc == CURLE_OPERATION_TIMEDOUT)
        return sb_fail(em, SB_ERR_TIMEOUT, "no answer from %s within %ld ms", hook->url, timeout);
    if (cc != CURLE_OK)
        return sb_fail(em, SB_ERR_IO, "%s: %s", hook->url, err[0] ? err : curl_easy_strerror(cc));
    if (status < 200 || status > 299)
        return sb_fail(em, SB_ERR_REMOTE, "%s answered HTTP %ld", hook->url, status);
    return SB_OK;
}

sb_err task_webhook_eval(const sb_config *cfg, const task_webhook *hook, const cJSON *vars,
                         bool *triggered, cJSON **extra, sb_errmsg *em)
{
    *extra = NULL;
    *triggered = false;
    char *body = sb_json_print(vars);
    answer a = {0};
    sb_err rc = body ? post(cfg, hook, body, &a, em) : sb_fail(em, SB_ERR_NOMEM, "out of memory");
    free(body);
    cJSON *res = NULL;
    if (rc == SB_OK && sb_json_parse(a.buf ? a.buf : "", a.len, &res, em) != SB_OK)
        rc = sb_fail_wrap(em, SB_ERR_INVALID, "answer is not JSON");
    if (rc == SB_OK)
        rc = task_result_parse(res, triggered, extra, em);
    cJSON_Delete(res);
    free(a.buf);
    return rc;
}
