/*
 * log.h - levelled logging with a per-service and per-plugin prefix.
 *
 * Lines look like
 *     2026-11-25T20:00:00.123Z INFO  [processor] [gateway:gw1/mysensors] node 12 is up
 * or, with format "plain" (for journald, which stamps lines itself),
 *     <6>[processor] [gateway:gw1/mysensors] node 12 is up
 * The macros check the level before formatting, so a disabled debug line costs one compare.
 * Logging is thread-safe: one line is one write(2) to stderr.
 */
#ifndef SB_LOG_H
#define SB_LOG_H

#include <stdbool.h>

typedef enum sb_log_level {
    SB_LOG_ERROR = 0,
    SB_LOG_WARN,
    SB_LOG_INFO,
    SB_LOG_DEBUG,
    SB_LOG_TRACE,
} sb_log_level;

typedef enum sb_log_format {
    SB_LOG_FORMAT_TEXT = 0, /* timestamp + level name */
    SB_LOG_FORMAT_PLAIN,    /* syslog priority prefix <N>, no timestamp (journald) */
} sb_log_format;

/* A logger names who speaks. Plugins embed one in their instance; NULL means the thread's. */
typedef struct sb_logger {
    char prefix[96]; /* "[processor] [gateway:gw1/mysensors]" */
} sb_logger;

extern sb_log_level sb_log_threshold;

void sb_log_set_level(sb_log_level level);
void sb_log_set_format(sb_log_format format);

/* "error", "warn", "info", "debug", "trace" -> level; SB_OK or SB_ERR_INVALID. */
int sb_log_level_parse(const char *name, sb_log_level *out);
const char *sb_log_level_name(sb_log_level level);

/* The default prefix for log lines written from this thread, e.g. "[processor]". Copied. */
void sb_log_thread_prefix(const char *prefix);

/* Fills lg with "<thread prefix> [<fmt...>]". */
void sb_logger_init(sb_logger *lg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void sb_log_write(const sb_logger *lg, sb_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define SB_LOG(lg, level, ...)                                                                     \
    do {                                                                                           \
        if ((level) <= sb_log_threshold)                                                           \
            sb_log_write((lg), (level), __VA_ARGS__);                                              \
    } while (0)

#define sb_error(lg, ...) SB_LOG(lg, SB_LOG_ERROR, __VA_ARGS__)
#define sb_warn(lg, ...)  SB_LOG(lg, SB_LOG_WARN, __VA_ARGS__)
#define sb_info(lg, ...)  SB_LOG(lg, SB_LOG_INFO, __VA_ARGS__)
#define sb_debug(lg, ...) SB_LOG(lg, SB_LOG_DEBUG, __VA_ARGS__)
#define sb_trace(lg, ...) SB_LOG(lg, SB_LOG_TRACE, __VA_ARGS__)

#endif
