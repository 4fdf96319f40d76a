/* switchboard-handler: the handler service on its own. */
#include "services/handler/handler.h"

int main(int argc, char **argv)
{
    return sb_service_main(argc, argv, &sb_service_handler);
}
