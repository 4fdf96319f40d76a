/* js.c - javascript evaluation (not yet available). */
#include "services/task/task.h"

sb_err task_js_eval(const sb_config *cfg, const char *script, const cJSON *vars, bool *triggered,
                    cJSON **extra, sb_errmsg *em)
{
    (void)cfg, (void)script, (void)vars, (void)triggered;
    *extra = NULL;
    return sb_fail(em, SB_ERR_UNSUPPORTED, "javascript evaluation is not available");
}
