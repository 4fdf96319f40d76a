/* switchboard-task: the task service as its own process. */
#include "core/service.h"

extern const sb_service_def sb_service_task;

int main(int argc, char **argv)
{
    return sb_service_main(argc, argv, &sb_service_task);
}
