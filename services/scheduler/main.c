/* switchboard-scheduler: the scheduler service on its own. */
#include "services/scheduler/scheduler.h"

int main(int argc, char **argv)
{
    return sb_service_main(argc, argv, &sb_service_scheduler);
}
