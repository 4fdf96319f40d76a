/*
 * mys_mqtopic.h - the MySensors MQTT gateway's topics, internal to gateways/mysensors (the MQTT
 * transport and its fuzz target): a message published on
 * <prefix>-out/<node>/<child>/<cmd>/<ack>/<type> with the payload as its value becomes the line
 * a serial gateway would have written, "<node>;<child>;<cmd>;<ack>;<type>;<payload>", which the
 * line parser then checks against every protocol limit.
 */
#ifndef SB_MYS_MQTOPIC_H
#define SB_MYS_MQTOPIC_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

/*
 * Builds the line for topic (NUL-terminated) and payload (len bytes, any content) into line
 * (cap bytes; *n gets the length, the line is NUL-terminated). SB_ERR_INVALID when the topic
 * is not prefix + "-out/" + five decimal fields of 1 to 3 digits, or the payload holds a line
 * end; SB_ERR_TOO_LARGE when the line does not fit cap. *why (static text) says which.
 */
sb_err sb_mys_mqtt_line(const char *prefix, const char *topic, const void *payload, size_t len,
                        char *line, size_t cap, size_t *n, const char **why);

#endif
