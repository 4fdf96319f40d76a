/*
 * busacl.h - who may publish and subscribe what on the bus: one table of every service's
 * topics (DESIGN.md section 2), turned into a mosquitto ACL file and password file.
 *
 * Each service connects as its own MQTT user named after the service ("gateway", "processor",
 * ...). The table is the single source of the permissions: `switchboard bus acl` prints it,
 * the deployment files are generated from it, and tests/system/bus_acl_test.c proves the broker
 * enforces it. Topics are relative to the bus prefix. docs/operations.md "Bus security".
 */
#ifndef SB_BUSACL_H
#define SB_BUSACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/err.h"

#define SB_BUSACL_MAX_RULES 12

typedef struct sb_busacl_service {
    const char *service;                    /* the MQTT user name */
    const char *read[SB_BUSACL_MAX_RULES];  /* filters it may subscribe to, NULL-terminated */
    const char *write[SB_BUSACL_MAX_RULES]; /* topics it may publish, NULL-terminated */
    const char *deny[SB_BUSACL_MAX_RULES];  /* exceptions to a broad write, NULL-terminated */
    bool write_outside_prefix; /* may publish any topic that does not start with the prefix */
} sb_busacl_service;

/* The services in ACL order, NULL-terminated. */
extern const sb_busacl_service *const sb_busacl_services[];

const sb_busacl_service *sb_busacl_find(const char *service);

/*
 * Whether the table lets service publish (write) or subscribe (read) the absolute topic under
 * prefix. Every service may also write its own status topic <p>/status/<service>/+ and read
 * its request-reply topic <p>/reply/<client id>, and any service may reply on <p>/reply/#.
 */
bool sb_busacl_allows(const char *prefix, const char *service, const char *topic, bool write);

/* Writes the mosquitto acl_file for prefix. SB_ERR_IO when the stream fails. */
sb_err sb_busacl_write_acl(FILE *f, const char *prefix);

/*
 * One mosquitto password-file line "user:$7$101$<salt>$<hash>" (PBKDF2-SHA512 with 101
 * iterations and a random 12-byte salt, the format mosquitto_passwd writes), with its newline.
 */
sb_err sb_busacl_passwd_line(const char *user, const char *password, char *buf, size_t len);

/* A random password of 24 URL-safe characters. */
sb_err sb_busacl_random_password(char *buf, size_t len);

#endif
