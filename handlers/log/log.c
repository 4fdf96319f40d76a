/*
 * log.c - the log handler: writes the rendered message to the handler service's log, at the
 * level the spec names. An empty message logs the call's source and parameters.
 */
#include <stddef.h>
#include <stdlib.h>

#include "core/json.h"
#include "core/options.h"
#include "handlers/plugin.h"

typedef struct log_opts {
    char *message;
    int level; /* index into levels */
} log_opts;

static const char *const levels[] = {"error", "warn", "info", "debug", NULL};

static const sb_option log_table[] = {
    SB_OPT_ROW_STR(log_opts, message, "message", "",
                   "The line to log (a template); empty = the call's source and parameters."),
    SB_OPT_ROW_ENUM(log_opts, level, "level", "info", levels, "error, warn, info or debug."),
    SB_OPT_END,
};

static sb_err log_run(void *inst, const sb_handler_host *host, const void *opts,
                      const sb_handler_call *call, sb_errmsg *em)
{
    (void)inst;
    (void)em;
    const log_opts *o = opts;
    char *params = NULL;
    const char *text = o->message;
    if (!text || !*text)
        text = params = sb_json_print(call->parameters);
    SB_LOG(host->log, (sb_log_level)o->level, "%s%s%s", text && text == params ? call->source : "",
           text && text == params ? ": " : "", text ? text : "");
    free(params);
    return SB_OK;
}

const sb_handler_plugin sb_handler_plugin_log = {
    .info = {.name = "log",
             .version = "1",
             .description = "writes the rendered message to the handler service's log",
             .options = log_table},
    .options_size = sizeof(log_opts),
    .run = log_run,
};
