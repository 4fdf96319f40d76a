/*
 * email.c - the email handler: one message per call over SMTP with libcurl, to every address
 * in "to", with a rendered subject and body (text/plain, UTF-8). Security: none (plain SMTP),
 * starttls (upgrade required) or ssl (SMTPS). Authentication when a username is given.
 * Server errors (4xx/5xx replies, connection failures) are retried; a malformed address or a
 * message the server refuses for good is reported as such by curl and retried too, up to the
 * handler's retries: SMTP does not tell the two apart reliably.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/json.h"
#include "core/options.h"
#include "core/time.h"
#include "core/uuid.h"
#include "handlers/http.h"
#include "handlers/plugin.h"

typedef struct email_opts {
    char *host;
    int64_t port;
    int security; /* index into securities */
    char *username;
    char *password;
    bool insecure;
    char *from;
    sb_strlist to;
    char *subject;
    char *body;
    int64_t timeout_ms;
} email_opts;

enum { SEC_NONE = 0, SEC_STARTTLS, SEC_SSL };
static const char *const securities[] = {"none", "starttls", "ssl", NULL};

static const sb_option email_table[] = {
    {.type = SB_OPT_STRING,
     .key = "host",
     .def = "",
     .offset = offsetof(email_opts, host),
     .flags = SB_OPT_REQUIRED,
     .desc = "SMTP server host name or address."},
    SB_OPT_ROW_INT(email_opts, port, "port", "0", 0, 65535,
                   "SMTP port; 0 = 25 (none), 587 (starttls) or 465 (ssl)."),
    SB_OPT_ROW_ENUM(email_opts, security, "security", "starttls", securities,
                    "none (plain SMTP), starttls (upgrade required) or ssl (SMTPS)."),
    SB_OPT_ROW_STR(email_opts, username, "username", "", "SMTP user; empty = no login."),
    SB_OPT_ROW_SECRET(email_opts, password, "password", "SMTP password."),
    SB_OPT_ROW_BOOL(email_opts, insecure, "insecure", "false",
                    "Accept any TLS certificate (self-signed servers)."),
    {.type = SB_OPT_STRING,
     .key = "from",
     .def = "",
     .offset = offsetof(email_opts, from),
     .flags = SB_OPT_REQUIRED,
     .desc = "Sender address."},
    SB_OPT_ROW_LIST(email_opts, to, "to", "", "Recipient addresses (templates)."),
    SB_OPT_ROW_STR(email_opts, subject, "subject", "Switchboard notification",
                   "Subject line (a template)."),
    SB_OPT_ROW_STR(email_opts, body, "body", "",
                   "Message text (a template); empty = the call's parameters as JSON."),
    SB_OPT_ROW_DURATION(email_opts, timeout_ms, "timeout", "30s", 100, 600000,
                        "Whole-delivery timeout."),
    SB_OPT_END,
};

static sb_err email_check(const void *opts, sb_errmsg *em)
{
    const email_opts *o = opts;
    if (o->to.n == 0)
        return sb_fail(em, SB_ERR_INVALID, "spec.to: at least one recipient is required");
    for (size_t i = 0; i < o->to.n; i++)
        if (strpbrk(o->to.items[i], "\r\n<>"))
            return sb_fail(em, SB_ERR_INVALID, "spec.to: '%s' is not an address", o->to.items[i]);
    if (strpbrk(o->from, "\r\n<>"))
        return sb_fail(em, SB_ERR_INVALID, "spec.from: '%s' is not an address", o->from);
    return SB_OK;
}

typedef struct upload {
    const char *data;
    size_t len, off;
} upload;

static size_t on_read(char *buf, size_t size, size_t n, void *ctx)
{
    upload *u = ctx;
    size_t room = size * n, left = u->len - u->off;
    size_t k = left < room ? left : room;
    memcpy(buf, u->data + u->off, k);
    u->off += k;
    return k;
}

/* Appends text to *out (a malloc'd growing string); false on allocation failure. */
static bool append(char **out, size_t *len, const char *text)
{
    size_t tl = strlen(text);
    char *grown = realloc(*out, *len + tl + 1);
    if (!grown)
        return false;
    memcpy(grown + *len, text, tl + 1);
    *out = grown;
    *len += tl;
    return true;
}

/* A header value on one line: CR and LF become spaces (no header injection). */
static void one_line(char *s)
{
    for (; *s; s++)
        if (*s == '\r' || *s == '\n')
            *s = ' ';
}

/* The whole message (RFC 5322): headers, a blank line, the body with CRLF line ends. */
static char *message(const email_opts *o, const char *body, size_t *len)
{
    char date[64], id[SB_UUID_LEN], line[1024];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
    sb_uuid(id);
    char *subject = strdup(o->subject ? o->subject : "");
    if (!subject)
        return NULL;
    one_line(subject);
    char *out = NULL;
    *len = 0;
    bool ok = true;
    snprintf(line, sizeof(line), "Date: %s\r\nFrom: <%s>\r\nTo: ", date, o->from);
    ok = ok && append(&out, len, line);
    for (size_t i = 0; ok && i < o->to.n; i++) {
        snprintf(line, sizeof(line), "%s<%s>", i ? ", " : "", o->to.items[i]);
        ok = append(&out, len, line);
    }
    snprintf(line, sizeof(line), "\r\nMessage-ID: <%s@switchboard>\r\nSubject: ", id);
    ok = ok && append(&out, len, line) && append(&out, len, subject) &&
         append(&out, len,
                "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
                "Content-Transfer-Encoding: 8bit\r\n\r\n");
    free(subject);
    for (const char *p = body; ok && *p;) { /* bare LF -> CRLF */
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (n && p[n - 1] == '\r')
            n--;
        char *piece = strndup(p, n);
        ok = piece && append(&out, len, piece) && append(&out, len, "\r\n");
        free(piece);
        p = nl ? nl + 1 : p + strlen(p);
    }
    if (!ok) {
        free(out);
        return NULL;
    }
    return out;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static sb_err email_run(void *inst, const sb_handler_host *host, const void *opts,
                        const sb_handler_call *call, sb_errmsg *em)
{
    (void)inst;
    const email_opts *o = opts;
    sb_err rc = email_check(o, em); /* the rendered addresses */
    if (rc != SB_OK)
        return rc;
    pthread_once(&curl_once, curl_init);
    char *params = NULL;
    const char *body = o->body;
    if (!body || !*body)
        body = params = sb_json_print(call->parameters);
    size_t len = 0;
    char *msg = body ? message(o, body, &len) : NULL;
    free(params);
    CURL *c = msg ? curl_easy_init() : NULL;
    if (!c) {
        free(msg);
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    }
    int64_t port = o->port                       ? o->port
                   : o->security == SEC_SSL      ? 465
                   : o->security == SEC_STARTTLS ? 587
                                                 : 25;
    char url[512], from[512], errbuf[CURL_ERROR_SIZE] = "";
    snprintf(url, sizeof(url), "%s://%s:%lld", o->security == SEC_SSL ? "smtps" : "smtp", o->host,
             (long long)port);
    snprintf(from, sizeof(from), "<%s>", o->from);
    struct curl_slist *rcpt = NULL;
    for (size_t i = 0; i < o->to.n; i++) {
        char to[512];
        snprintf(to, sizeof(to), "<%s>", o->to.items[i]);
        rcpt = curl_slist_append(rcpt, to);
    }
    upload up = {.data = msg, .len = len};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)o->timeout_ms);
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(c, CURLOPT_READDATA, &up);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
    if (o->security == SEC_STARTTLS)
        curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
    if (o->username && *o->username) {
        curl_easy_setopt(c, CURLOPT_USERNAME, o->username);
        curl_easy_setopt(c, CURLOPT_PASSWORD, o->password ? o->password : "");
    }
    if (o->insecure) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    sb_http_cancel_on(c, host->cancel);
    CURLcode cc = curl_easy_perform(c);
    if (cc == CURLE_OK)
        sb_fail(em, SB_OK, "sent to %zu recipient%s", o->to.n, o->to.n == 1 ? "" : "s");
    else
        rc = sb_fail(em,
                     cc == CURLE_ABORTED_BY_CALLBACK  ? SB_ERR_CLOSED
                     : cc == CURLE_LOGIN_DENIED       ? SB_ERR_AUTH
                     : cc == CURLE_OPERATION_TIMEDOUT ? SB_ERR_TIMEOUT
                     : cc == CURLE_URL_MALFORMAT      ? SB_ERR_INVALID
                                                      : SB_ERR_IO,
                     "%s: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(cc));
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(c);
    free(msg);
    return rc;
}

const sb_handler_plugin sb_handler_plugin_email = {
    .info = {.name = "email",
             .version = "1",
             .description = "sends the rendered subject and body by SMTP (plain, STARTTLS, SSL)",
             .options = email_table},
    .options_size = sizeof(email_opts),
    .check = email_check,
    .run = email_run,
};
