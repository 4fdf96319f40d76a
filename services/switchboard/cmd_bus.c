/*
 * cmd_bus.c - `switchboard bus acl [--dir DIR]`: the bus permissions of every service.
 *
 * Without --dir prints the mosquitto ACL for the configured topic prefix. With --dir writes a
 * deployment's broker files there: acl, passwd (hashed, mosquitto's $7$ format), one
 * <service>.env per service with its SWITCHBOARD_BUS_USERNAME/PASSWORD, and mosquitto-auth.conf
 * to include in mosquitto.conf. Passwords already in a DIR/<service>.env are kept, so running it
 * again (say after an upgrade adds a topic) leaves the services' credentials unchanged.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/busacl.h"
#include "core/config.h"
#include "services/switchboard/commands.h"

#define PASSWORD_KEY "SWITCHBOARD_BUS_PASSWORD="

static int usage(void)
{
    fprintf(stderr, "usage: switchboard [-c FILE] bus acl [--dir DIR]\n");
    return 2;
}

/* The password in an existing DIR/<service>.env, else a new random one. */
static sb_err password_of(const char *dir, const char *service, char *pw, size_t len)
{
    char path[1024], line[256];
    snprintf(path, sizeof(path), "%s/%s.env", dir, service);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof(line), f)) {
        if (strncmp(line, PASSWORD_KEY, strlen(PASSWORD_KEY)) != 0)
            continue;
        char *v = line + strlen(PASSWORD_KEY);
        v[strcspn(v, "\r\n")] = '\0';
        if (*v && strlen(v) < len) {
            memcpy(pw, v, strlen(v) + 1);
            fclose(f);
            return SB_OK;
        }
    }
    if (f)
        fclose(f);
    return sb_busacl_random_password(pw, len);
}

static FILE *create(const char *dir, const char *name, mode_t mode, sb_errmsg *em)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        sb_fail(em, SB_ERR_IO, "%s: %s", path, strerror(errno));
    else
        chmod(path, mode);
    return f;
}

static sb_err close_file(FILE *f, sb_err rc, const char *dir, const char *name, sb_errmsg *em)
{
    if (fclose(f) != 0 && rc == SB_OK)
        rc = SB_ERR_IO;
    if (rc == SB_ERR_IO)
        sb_fail(em, rc, "%s/%s: write failed", dir, name);
    return rc;
}

static sb_err write_service(const char *dir, const char *service, FILE *passwd, sb_errmsg *em)
{
    char pw[64], line[512], name[96];
    sb_err rc = password_of(dir, service, pw, sizeof(pw));
    if (rc == SB_OK)
        rc = sb_busacl_passwd_line(service, pw, line, sizeof(line));
    if (rc != SB_OK)
        return sb_fail(em, rc, "%s: cannot make a password", service);
    if (fputs(line, passwd) < 0)
        return sb_fail(em, SB_ERR_IO, "%s/passwd: write failed", dir);
    snprintf(name, sizeof(name), "%s.env", service);
    FILE *f = create(dir, name, 0600, em);
    if (!f)
        return SB_ERR_IO;
    rc = fprintf(f, "SWITCHBOARD_BUS_USERNAME=%s\n" PASSWORD_KEY "%s\n", service, pw) > 0
             ? SB_OK
             : SB_ERR_IO;
    return close_file(f, rc, dir, name, em);
}

static sb_err write_dir(const char *dir, const char *prefix, sb_errmsg *em)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return sb_fail(em, SB_ERR_IO, "%s: %s", dir, strerror(errno));
    FILE *f = create(dir, "acl", 0644, em);
    if (!f)
        return SB_ERR_IO;
    sb_err rc = close_file(f, sb_busacl_write_acl(f, prefix), dir, "acl", em);
    if (rc != SB_OK || !(f = create(dir, "passwd", 0600, em)))
        return rc ? rc : SB_ERR_IO;
    for (size_t i = 0; rc == SB_OK && sb_busacl_services[i]; i++)
        rc = write_service(dir, sb_busacl_services[i]->service, f, em);
    rc = close_file(f, rc, dir, "passwd", em);
    if (rc != SB_OK || !(f = create(dir, "mosquitto-auth.conf", 0644, em)))
        return rc ? rc : SB_ERR_IO;
    rc = fprintf(f,
                 "# Include in mosquitto.conf: each Switchboard service logs in as itself.\n"
                 "allow_anonymous false\npassword_file %s/passwd\nacl_file %s/acl\n",
                 dir, dir) > 0
             ? SB_OK
             : SB_ERR_IO;
    return close_file(f, rc, dir, "mosquitto-auth.conf", em);
}

int sb_cmd_bus(const char *config_path, int argc, char **argv)
{
    const char *dir = NULL;
    if (argc < 2 || strcmp(argv[1], "acl") != 0)
        return usage();
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            dir = argv[++i];
        else
            return usage();
    }
    sb_config *cfg = NULL;
    sb_errmsg em = {0};
    sb_err rc = sb_config_load(config_path, &cfg, &em);
    if (rc == SB_OK)
        rc = dir ? write_dir(dir, cfg->bus.topic_prefix, &em)
                 : sb_busacl_write_acl(stdout, cfg->bus.topic_prefix);
    if (rc == SB_OK && dir)
        printf("wrote %s/acl, %s/passwd, %s/mosquitto-auth.conf and one <service>.env per "
               "service\n",
               dir, dir, dir);
    if (rc != SB_OK)
        fprintf(stderr, "switchboard bus acl: %s\n", sb_errmsg_str(&em, rc));
    sb_config_free(cfg);
    return rc == SB_OK ? 0 : 1;
}
