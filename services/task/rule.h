/*
 * rule.h - the pure parts of a task: its rule (conditions over the task's variables) and its
 * dampening (when a run of evaluation results becomes a trigger). No clock, no I/O, so the
 * unit tests and the fuzz target use them directly. docs/automation.md "Tasks".
 */
#ifndef SB_TASK_RULE_H
#define SB_TASK_RULE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "storage/store.h"

/*
 * A rule: {"matchAll": true|false, "conditions": [{"variable", "operator", "value"}, ...]}.
 * variable is a dotted key path into the variables object ("temp", "event.entity.current.value");
 * operator one of the store's filter operators (eq ne in nin gt lt gte lte exists regex, the same
 * comparison rules: numbers and numeric text compare as numbers). matchAll defaults to true.
 * A rule without conditions is refused (it would trigger on every evaluation or never).
 */
typedef struct task_rule {
    bool match_all;
    sb_query *conds; /* one single-filter query per condition */
    size_t n;
} task_rule;

#define TASK_RULE_MAX_CONDITIONS 64

/* Parses rule (borrowed). Errors name the condition: "rule: condition 2: unknown operator". */
sb_err task_rule_parse(const cJSON *rule, task_rule *out, sb_errmsg *em);
/* Whether vars (an object) satisfies the rule. */
bool task_rule_eval(const task_rule *r, const cJSON *vars);
/* Frees what parse allocated; accepts a zeroed rule. */
void task_rule_free(task_rule *r);

typedef enum task_damp_type {
    TASK_DAMP_NONE = 0,
    TASK_DAMP_CONSECUTIVE,     /* `occurrences` true results in a row */
    TASK_DAMP_EVALUATION,      /* `occurrences` true results among the last `evaluation` */
    TASK_DAMP_ACTIVE_DURATION, /* true continuously for `activeDuration` */
} task_damp_type;

#define TASK_DAMP_WINDOW_MAX 64

/* {"type":"none|consecutive|evaluation|active_duration","occurrences","evaluation",
 *  "activeDuration":"5m"}; NULL or {} is none. */
typedef struct task_damp {
    task_damp_type type;
    int64_t occurrences;
    int64_t evaluation;
    int64_t active_ms;
} task_damp;

/* What dampening remembers between evaluations (zeroed = nothing seen). */
typedef struct task_damp_state {
    int64_t consecutive;
    uint64_t window;         /* bit i = the result i evaluations ago */
    int64_t seen;            /* results in the window */
    int64_t active_since_ms; /* 0 = not active */
    bool active_fired;       /* fired during this active period */
} task_damp_state;

sb_err task_damp_parse(const cJSON *d, task_damp *out, sb_errmsg *em);

/*
 * Feeds one evaluation result at now_ms; true when the task triggers now. consecutive and
 * evaluation start counting again after a trigger; active_duration triggers once per active
 * period (a false result ends it).
 */
bool task_damp_step(const task_damp *d, task_damp_state *st, bool result, int64_t now_ms);

/* active_duration between evaluations: true when an active period has just lasted long enough. */
bool task_damp_check(const task_damp *d, task_damp_state *st, int64_t now_ms);

/* When task_damp_check should next be called, or 0 when nothing is pending. */
int64_t task_damp_due(const task_damp *d, const task_damp_state *st);

#endif
