/* gateway_testdev.h - the test-only "testdev" provider (gateway_testdev.c). */
#ifndef SB_GATEWAY_TESTDEV_H
#define SB_GATEWAY_TESTDEV_H

#include "core/config.h"
#include "gateways/provider.h"

/* The broker the provider's device links connect to; set before the service starts. */
extern const sb_config_bus *testdev_bus_cfg;

#endif
