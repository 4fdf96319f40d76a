/*
 * stream_journal.h - the on-disk journal of a stream producer (stream.h, docs/bus.md "The
 * producer's journal"): what the producer has accepted and not yet seen acknowledged survives
 * a crash of its process.
 *
 * One file per stream, <dir>/<stream>.journal, appended one record per line with a single
 * write(2) each (the page cache keeps it through a SIGKILL; fsync only when asked, for power
 * loss):
 *
 *   i <item JSON>              an item accepted into the open frame
 *   f <epoch> <seq> <n>        the n oldest unsealed items became frame (epoch, seq)
 *   F <frame JSON>             a whole frame envelope (written by a rewrite)
 *   a <epoch> <seq>            acknowledged: every frame up to (epoch, seq) is durable at the
 *                              consumer, and every frame of an older epoch
 *
 * Reading it back gives the frames still unacknowledged, with their original epoch and seq, and
 * the items never sealed. A last line without its '\n' (a torn write) is ignored; a line that
 * does not parse is skipped and counted. The file is rewritten with only what is pending
 * (compaction) when it grows, and emptied when everything is acknowledged.
 */
#ifndef SB_STREAM_JOURNAL_H
#define SB_STREAM_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef struct sb_stream_journal_frame {
    int64_t epoch, seq;
    char *text; /* the frame's envelope, as published */
    size_t len;
} sb_stream_journal_frame;

/* What a journal holds; free with sb_stream_journal_replay_free(). */
typedef struct sb_stream_journal_replay {
    sb_stream_journal_frame *frames; /* unacknowledged frames, oldest first */
    size_t n_frames;
    char **items; /* items accepted and never sealed, in order (NUL-terminated JSON) */
    size_t n_items;
    int64_t max_epoch; /* the highest epoch the journal names; 0 when none */
    size_t bad_lines;  /* lines skipped because they did not parse */
    bool torn;         /* the last line had no '\n' and was ignored */
} sb_stream_journal_replay;

/*
 * Reads journal text (need not be NUL-terminated) of stream into out. Never fails on bad
 * content (it is skipped and counted); SB_ERR_NOMEM only. Frames of an F record must name
 * stream. Free out with sb_stream_journal_replay_free() in every case.
 */
sb_err sb_stream_journal_parse(const char *data, size_t len, const char *stream,
                               sb_stream_journal_replay *out);
void sb_stream_journal_replay_free(sb_stream_journal_replay *r);

/* Builds the envelope {"stream","epoch","seq","items":[items]} from items' text joined by ','
 * (the form sb_stream_encode writes). qname is the stream name as a JSON string. Caller frees. */
char *sb_stream_journal_envelope(const char *qname, int64_t epoch, int64_t seq, const char *items,
                                 size_t items_len, size_t *len);

typedef struct sb_stream_journal sb_stream_journal;

/*
 * Opens (creating dir and the file) and locks the journal of stream, and reads what it holds
 * into replay (freed by the caller). SB_ERR_BUSY when another process holds it, SB_ERR_IO on
 * file errors, both naming the path. sync: fdatasync after every record.
 */
sb_err sb_stream_journal_open(const char *dir, const char *stream, bool sync,
                              sb_stream_journal **out, sb_stream_journal_replay *replay,
                              sb_errmsg *em);

/* Appends one record; SB_ERR_IO when the write fails (the caller counts it). */
sb_err sb_stream_journal_item(sb_stream_journal *j, const char *item, size_t len);
sb_err sb_stream_journal_sealed(sb_stream_journal *j, int64_t epoch, int64_t seq, size_t n);
sb_err sb_stream_journal_acked(sb_stream_journal *j, int64_t epoch, int64_t seq);

/* One record of a rewrite: a whole frame ('F') or an unsealed item ('i'); text borrowed. */
typedef struct sb_stream_journal_rec {
    char kind;
    const char *text;
    size_t len;
} sb_stream_journal_rec;

/* Replaces the file by one holding only recs (written to a temporary file, then renamed). An
 * empty list just truncates the file. */
sb_err sb_stream_journal_rewrite(sb_stream_journal *j, const sb_stream_journal_rec *recs, size_t n);

/* Bytes in the file now. */
size_t sb_stream_journal_size(const sb_stream_journal *j);

/* Closes; with remove_empty, deletes the file when it holds nothing. Accepts NULL. */
void sb_stream_journal_close(sb_stream_journal *j, bool remove_empty);

#endif
