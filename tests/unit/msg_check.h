/*
 * msg_check.h - assertions on mapped messages shared by the provider mapping tests
 * (zigbee2mqtt_map_test, sysmon_test).
 */
#ifndef SB_TEST_MSG_CHECK_H
#define SB_TEST_MSG_CHECK_H

#include "core/msg.h"

/*
 * Fails the running cmocka test naming what ("kitchen: no field state") when p is NULL, else
 * checks its value (NULL = any), metric type and unit (NULL = none).
 */
void sbt_payload_check(const sb_payload *p, const char *what, const char *value, sb_metric_type mt,
                       const char *unit);

#endif
