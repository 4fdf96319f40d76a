/* webhook.c - webhook evaluation (not yet available). */
#include "services/task/task.h"

sb_err task_webhook_eval(const sb_config *cfg, const task_webhook *hook, const cJSON *vars,
                         bool *triggered, cJSON **extra, sb_errmsg *em)
{
    (void)cfg, (void)hook, (void)vars, (void)triggered;
    *extra = NULL;
    return sb_fail(em, SB_ERR_UNSUPPORTED, "webhook evaluation is not available");
}
