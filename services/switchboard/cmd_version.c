/* switchboard version */
#include "commands.h"

#include <MQTTAsync.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "core/service.h"

int sb_cmd_version(const char *config_path, int argc, char **argv)
{
    (void)config_path, (void)argv;
    if (argc > 1) {
        fprintf(stderr, "usage: switchboard version\n");
        return 2;
    }
    printf("switchboard %s\n", SB_VERSION);
    MQTTAsync_nameValue *info = MQTTAsync_getVersionInfo();
    for (; info && info->name; info++) {
        if (strcmp(info->name, "Version") == 0)
            printf("  paho.mqtt.c %s\n", info->value);
    }
    printf("  cJSON %s\n", cJSON_Version());
    printf("  libyaml %s\n", yaml_get_version_string());
    printf("services:");
    for (size_t i = 0; sb_service_defs[i]; i++)
        printf(" %s", sb_service_defs[i]->name);
    printf("\n");
    return 0;
}
