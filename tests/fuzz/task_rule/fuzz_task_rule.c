/*
 * fuzz_task_rule.c - a task's rule and dampening (services/task/rule.h) on arbitrary bytes: the
 * input is JSON text used as a rule, as a dampening spec and as the variables a rule reads. Each
 * parse either succeeds (and evaluation runs) or fails with a message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "services/task/rule.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_task_rule: check failed: %s (line %d)\n", #cond, __LINE__);      \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static const char vars_text[] =
    "{\"t\":21.5,\"s\":\"open\",\"n\":null,\"b\":true,\"a\":[1,\"2\",{\"x\":3}],"
    "\"event\":{\"type\":\"updated\",\"entity\":{\"current\":{\"value\":\"7\"}}}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *in = cJSON_ParseWithLength((const char *)data, size);
    if (!in)
        return 0;
    cJSON *vars = cJSON_Parse(vars_text);
    task_rule r;
    sb_errmsg em = {{0}};
    const cJSON *rule = cJSON_IsObject(in) && cJSON_GetObjectItem(in, "rule")
                            ? cJSON_GetObjectItem(in, "rule")
                            : in;
    if (task_rule_parse(rule, &r, &em) == SB_OK) {
        CHECK(r.n > 0 && r.n <= TASK_RULE_MAX_CONDITIONS);
        (void)task_rule_eval(&r, vars);
        (void)task_rule_eval(&r, in);
        task_rule_free(&r);
    } else {
        CHECK(em.text[0]);
    }
    task_damp d;
    sb_errmsg em2 = {{0}};
    if (task_damp_parse(in, &d, &em2) == SB_OK) {
        task_damp_state st = {0};
        for (int i = 0; i < 100; i++)
            (void)task_damp_step(&d, &st, (i * 7) % 3 != 0, 1000 * i);
        (void)task_damp_check(&d, &st, 1000000);
    } else {
        CHECK(em2.text[0]);
    }
    cJSON_Delete(vars);
    cJSON_Delete(in);
    return 0;
}
