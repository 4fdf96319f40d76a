/*
 * partition.h - several processor instances share the input by gateway (docs/scaling.md).
 *
 * The partition key of a frame is the last level of its topic "<p>/msg/in/<gatewayId>" (the
 * gateway service's stream name). Members are the processor instances whose retained status
 * "<p>/status/processor/<instance>" says online (the broker publishes the offline last will
 * when one dies); this instance is always a member. A key belongs to the member with the
 * highest rendezvous weight, so a member joining or leaving moves only the keys it gains or
 * had. The worker applies and acknowledges only frames of the keys it owns and ignores the
 * others without an ack; on gaining a key it reloads that gateway's nodes and sources and its
 * stream position from the store and asks the producer to resend from there (a gap ack); on
 * losing one it drops that gateway's records from memory. While two instances both believe
 * they own a key (the hand-over window), the position check inside the commit transaction
 * (SB_STORE_CHECK) lets only one of them commit each frame; the other reloads and drops back.
 */
#ifndef SB_PROCESSOR_PARTITION_H
#define SB_PROCESSOR_PARTITION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/bus.h"
#include "core/err.h"
#include "core/stream.h"

/* The rendezvous weight of key for member (a 64-bit hash of both; stable across builds). */
uint64_t sb_partition_weight(const char *key, const char *member);

/*
 * The owner of key among members[0..n): the one with the highest weight (ties: the smaller
 * name). NULL when n is 0. The same inputs give the same answer in every process, whatever
 * the order of members.
 */
const char *sb_partition_owner(const char *key, const char *const *members, size_t n);

typedef struct proc proc;

/* Creates the partition state of p (self = this instance's id). */
sb_err part_create(proc *p, const char *self, sb_errmsg *em);
void part_destroy(proc *p);
/* Subscribes to "<p>/status/processor/+" (call before subscribing to the input). */
sb_err part_subscribe(proc *p, sb_errmsg *em);

/* ---- worker thread only ----------------------------------------------------------------- */

/* Waits (at most a few seconds) until the members' retained statuses have arrived. */
void part_settle(proc *p);
/* Applies a membership change: drops lost gateways, loads gained ones. Cheap when none. */
void part_sync(proc *p);
/* Whether this instance applies the frame received on topic. */
bool part_owns_topic(proc *p, const char *topic);
/* Whether this instance owns gateway key; a key seen for the first time and owned is loaded
 * from the store (records and stream position). */
bool part_owns_key(proc *p, const char *key);
/* After the whole tree was loaded from the store: drops the gateways of other instances. */
void part_after_load(proc *p);
/*
 * After a commit failed with SB_ERR_CONFLICT (another instance committed a stream first):
 * re-reads every position and the tree from the store and asks the producers of the streams
 * named in_group[0..n) to resend after the stored position.
 */
void part_after_conflict(proc *p, char (*in_group)[SB_STREAM_NAME_MAX], size_t n);

#endif
