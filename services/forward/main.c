/* switchboard-forward: the forward-payload service on its own. */
#include "services/forward/forward.h"

int main(int argc, char **argv)
{
    return sb_service_main(argc, argv, &sb_service_forward);
}
