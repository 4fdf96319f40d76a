#include "core/log.h"

#include "core/err.h"
#include "core/time.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

sb_log_level sb_log_threshold = SB_LOG_INFO;
static sb_log_format log_format = SB_LOG_FORMAT_TEXT;
static _Thread_local char thread_prefix[64];

static const char *const level_names[] = {"error", "warn", "info", "debug", "trace"};
static const char *const level_tags[] = {"ERROR", "WARN ", "INFO ", "DEBUG", "TRACE"};
static const int syslog_prio[] = {3, 4, 6, 7, 7};

void sb_log_set_level(sb_log_level level)
{
    sb_log_threshold = level;
}

void sb_log_set_format(sb_log_format format)
{
    log_format = format;
}

int sb_log_level_parse(const char *name, sb_log_level *out)
{
    for (size_t i = 0; i < SB_ARRAY_LEN(level_names); i++) {
        if (name && strcasecmp(name, level_names[i]) == 0) {
            *out = (sb_log_level)i;
            return SB_OK;
        }
    }
    return SB_ERR_INVALID;
}

const char *sb_log_level_name(sb_log_level level)
{
    if ((unsigned)level >= SB_ARRAY_LEN(level_names))
        return "?";
    return level_names[level];
}

void sb_log_thread_prefix(const char *prefix)
{
    snprintf(thread_prefix, sizeof(thread_prefix), "%s", prefix ? prefix : "");
}

void sb_logger_init(sb_logger *lg, const char *fmt, ...)
{
    int n = snprintf(lg->prefix, sizeof(lg->prefix), "%s%s[", thread_prefix,
                     thread_prefix[0] ? " " : "");
    if (n < 0 || (size_t)n >= sizeof(lg->prefix))
        return;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(lg->prefix + n, sizeof(lg->prefix) - (size_t)n, fmt, ap);
    va_end(ap);
    size_t len = strlen(lg->prefix);
    if (m >= 0 && len + 1 < sizeof(lg->prefix)) {
        lg->prefix[len] = ']';
        lg->prefix[len + 1] = '\0';
    }
}

void sb_log_write(const sb_logger *lg, sb_log_level level, const char *fmt, ...)
{
    char line[2048];
    size_t n = 0;
    const char *prefix = lg ? lg->prefix : thread_prefix;
    if ((unsigned)level > SB_LOG_TRACE)
        level = SB_LOG_TRACE;
    if (log_format == SB_LOG_FORMAT_PLAIN) {
        n = (size_t)snprintf(line, sizeof(line), "<%d>%s%s", syslog_prio[level], prefix,
                             prefix[0] ? " " : "");
    } else {
        char ts[SB_TIME_RFC3339_LEN];
        sb_time_format(sb_time_now_ms(), ts, sizeof(ts));
        n = (size_t)snprintf(line, sizeof(line), "%s %s %s%s", ts, level_tags[level], prefix,
                             prefix[0] ? " " : "");
    }
    if (n >= sizeof(line) - 2)
        n = sizeof(line) - 2;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
    va_end(ap);
    if (m > 0)
        n += (size_t)m < sizeof(line) - n - 1 ? (size_t)m : sizeof(line) - n - 2;
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, n);
    (void)w;
}
