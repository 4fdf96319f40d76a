/*
 * telegram.c - the telegram handler: the rendered text to every chat in chatIds with the Bot
 * API's sendMessage (POST <baseUrl>/bot<token>/sendMessage, a JSON body, {"ok":true,...} back).
 * baseUrl is configurable for a local Bot API server (and for tests). 429 and 5xx answers are
 * retried; other refusals ("chat not found", a bad token) are not.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/options.h"
#include "handlers/http.h"
#include "handlers/plugin.h"

typedef struct telegram_opts {
    char *token;
    sb_strlist chats;
    char *text;
    char *parse_mode;
    bool silent;
    char *base_url;
    int64_t timeout_ms;
} telegram_opts;

static const sb_option telegram_table[] = {
    {.type = SB_OPT_STRING,
     .key = "token",
     .def = "",
     .offset = offsetof(telegram_opts, token),
     .flags = SB_OPT_REQUIRED | SB_OPT_SECRET,
     .desc = "The bot's token from @BotFather."},
    SB_OPT_ROW_LIST(telegram_opts, chats, "chatIds", "",
                    "Chats to send to: numeric ids or @channel names."),
    SB_OPT_ROW_STR(telegram_opts, text, "text", "",
                   "Message text (a template); empty = the call's parameters as JSON."),
    SB_OPT_ROW_STR(telegram_opts, parse_mode, "parseMode", "",
                   "Telegram's parse_mode: MarkdownV2, HTML or empty for plain text."),
    SB_OPT_ROW_BOOL(telegram_opts, silent, "disableNotification", "false",
                    "Deliver without a notification sound."),
    SB_OPT_ROW_STR(telegram_opts, base_url, "baseUrl", "https://api.telegram.org",
                   "Bot API server."),
    SB_OPT_ROW_DURATION(telegram_opts, timeout_ms, "timeout", "10s", 100, 600000,
                        "Timeout of one request."),
    SB_OPT_END,
};

static sb_err telegram_check(const void *opts, sb_errmsg *em)
{
    const telegram_opts *o = opts;
    if (o->chats.n == 0)
        return sb_fail(em, SB_ERR_INVALID, "spec.chatIds: at least one chat is required");
    return SB_OK;
}

/* {"chat_id": <number or "@name">, "text", "parse_mode"?, "disable_notification"?} */
static char *request_body(const telegram_opts *o, const char *chat, const char *text)
{
    cJSON *b = cJSON_CreateObject();
    char *end = NULL;
    double num = strtod(chat, &end);
    bool numeric = *chat && end && !*end;
    bool ok =
        b && (numeric ? sb_json_set_num(b, "chat_id", num) : sb_json_set_str(b, "chat_id", chat)) &&
        sb_json_set_str(b, "text", text) &&
        (!o->parse_mode || !*o->parse_mode || sb_json_set_str(b, "parse_mode", o->parse_mode)) &&
        (!o->silent || sb_json_set_bool(b, "disable_notification", true));
    char *out = ok ? sb_json_print(b) : NULL;
    cJSON_Delete(b);
    return out;
}

static sb_err send_one(const telegram_opts *o, const atomic_bool *cancel, const char *chat,
                       const char *text, sb_errmsg *em)
{
    char url[1024];
    snprintf(url, sizeof(url), "%s/bot%s/sendMessage", o->base_url, o->token);
    char *body = request_body(o, chat, text);
    if (!body)
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    sb_http_req req = {.method = "POST",
                       .url = url,
                       .body = body,
                       .content_type = "application/json",
                       .timeout_ms = o->timeout_ms,
                       .cancel = cancel};
    sb_http_resp resp;
    sb_errmsg why = {{0}};
    sb_err rc = sb_http_do(&req, &resp, &why);
    free(body);
    if (rc != SB_OK) { /* the URL holds the token: never repeat it */
        rc = sb_fail(em, rc, "chat %s: the Bot API at %s did not answer (%s)", chat, o->base_url,
                     sb_strerror(rc));
        free(resp.body);
        return rc;
    }
    cJSON *answer = NULL;
    if (resp.body)
        sb_json_parse(resp.body, resp.len, &answer, NULL);
    if (resp.status == 200 && sb_json_bool(answer, "ok", false)) {
        rc = SB_OK;
    } else {
        long s = resp.status;
        rc = s == 429 || s >= 500 ? SB_ERR_REMOTE : SB_ERR_INVALID;
        sb_fail(em, rc, "chat %s: HTTP %ld: %.200s", chat, s,
                sb_json_str(answer, "description", "no description"));
    }
    cJSON_Delete(answer);
    free(resp.body);
    return rc;
}

static sb_err telegram_run(void *inst, const sb_handler_host *host, const void *opts,
                           const sb_handler_call *call, sb_errmsg *em)
{
    (void)inst;
    const telegram_opts *o = opts;
    char *params = NULL;
    const char *text = o->text;
    if (!text || !*text)
        text = params = sb_json_print(call->parameters);
    sb_err rc = text ? SB_OK : sb_fail(em, SB_ERR_NOMEM, "out of memory");
    for (size_t i = 0; rc == SB_OK && i < o->chats.n; i++)
        rc = send_one(o, host->cancel, o->chats.items[i], text, em);
    if (rc == SB_OK)
        sb_fail(em, SB_OK, "sent to %zu chat%s", o->chats.n, o->chats.n == 1 ? "" : "s");
    free(params);
    return rc;
}

const sb_handler_plugin sb_handler_plugin_telegram = {
    .info = {.name = "telegram",
             .version = "1",
             .description = "sends the rendered text to Telegram chats (Bot API sendMessage)",
             .options = telegram_table},
    .options_size = sizeof(telegram_opts),
    .check = telegram_check,
    .run = telegram_run,
};
