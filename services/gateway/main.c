/* switchboard-gateway: the gateway service on its own. */
#include "services/gateway/gateway.h"

int main(int argc, char **argv)
{
    return sb_service_main(argc, argv, &sb_service_gateway);
}
