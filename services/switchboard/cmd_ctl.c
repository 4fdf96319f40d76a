/*
 * cmd_ctl.c - `switchboard ctl`: the REST API from the command line, for people and scripts.
 *
 *   switchboard ctl [--url URL] [--token TOKEN] [--json] COMMAND ...
 *
 * Human tables by default, the API's JSON with --json. The API's url comes from --url,
 * $SWITCHBOARD_URL, the saved login, or the config's api.address/port. docs/cli.md.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/json.h"
#include "services/switchboard/commands.h"
#include "services/switchboard/ctl.h"

static int usage(void)
{
    fprintf(stderr,
            "usage: switchboard [-c FILE] ctl [--url URL] [--token TOKEN] [--json] COMMAND\n"
            "  login USER [PASSWORD]        log in (password from $SWITCHBOARD_PASSWORD or stdin)\n"
            "  logout | whoami | status     end the session / who am I / service health\n"
            "  list KIND [KEY=VALUE ...] [--sort KEY[:desc]] [--limit N] [--offset N]\n"
            "  get QUICKID                  an entity (field:gw.node.source.field, task:id, ...)\n"
            "  set QUICKID VALUE | toggle QUICKID\n"
            "  enable|disable|reload QUICKID ...  gateways, tasks, schedules, handlers\n"
            "  action QUICKID ACTION        node actions: reboot, heartbeat_request, refresh, ...\n"
            "  put KIND FILE|-              create or update from JSON\n"
            "  delete KIND ID ...\n"
            "  backup run | backup list | backup download NAME [FILE] | restore FILE\n"
            "  events [--quickid Q] [--prefix P] [--kind K] [--event E] [--count N]\n");
    return 2;
}

static void default_url(ctl *c, const char *config_path)
{
    const char *env = getenv("SWITCHBOARD_URL");
    if (!*c->url && env && *env)
        snprintf(c->url, sizeof(c->url), "%s", env);
    if (!*c->token && getenv("SWITCHBOARD_TOKEN"))
        snprintf(c->token, sizeof(c->token), "%s", getenv("SWITCHBOARD_TOKEN"));
    ctl_session_load(c);
    if (!*c->url) {
        sb_config *cfg = NULL;
        if (sb_config_load(config_path, &cfg, NULL) == SB_OK) {
            const char *a = cfg->api.address;
            snprintf(c->url, sizeof(c->url), "http://%s:%lld",
                     !*a || strcmp(a, "0.0.0.0") == 0 ? "127.0.0.1" : a, (long long)cfg->api.port);
        }
        sb_config_free(cfg);
    }
    size_t n = strlen(c->url);
    if (n && c->url[n - 1] == '/')
        c->url[n - 1] = '\0';
}

/* Prints doc as JSON (--json) or with the human printer. */
static int show(const ctl *c, cJSON *doc, const char *list_kind)
{
    if (c->json) {
        char *t = cJSON_Print(doc);
        printf("%s\n", t ? t : "null");
        free(t);
    } else if (list_kind) {
        ctl_print_list(list_kind, doc);
    } else if (cJSON_IsObject(doc)) {
        ctl_print_entity(doc);
    } else {
        char *t = sb_json_print(doc);
        printf("%s\n", t ? t : "null");
        free(t);
    }
    cJSON_Delete(doc);
    return 0;
}

static char *escape(const char *s)
{
    return curl_easy_escape(NULL, s, 0);
}

static int cmd_login(ctl *c, int argc, char **argv)
{
    if (argc < 2 || argc > 3)
        return usage();
    char pw[512] = "";
    if (argc == 3)
        snprintf(pw, sizeof(pw), "%s", argv[2]);
    else if (getenv("SWITCHBOARD_PASSWORD"))
        snprintf(pw, sizeof(pw), "%s", getenv("SWITCHBOARD_PASSWORD"));
    else {
        if (isatty(0))
            fprintf(stderr, "password for %s: ", argv[1]);
        if (!fgets(pw, sizeof(pw), stdin))
            return 1;
        pw[strcspn(pw, "\r\n")] = '\0';
    }
    cJSON *body = cJSON_CreateObject(), *ans = NULL;
    sb_json_set_str(body, "username", argv[1]);
    sb_json_set_str(body, "password", pw);
    c->token[0] = '\0';
    int rc = ctl_json(c, "POST", "/api/user/login", body, &ans);
    cJSON_Delete(body);
    if (rc)
        return rc;
    snprintf(c->token, sizeof(c->token), "%s", sb_json_str(ans, "token", ""));
    cJSON_Delete(ans);
    if (!*c->token) {
        fprintf(stderr, "switchboard ctl: login: no token in the answer\n");
        return 1;
    }
    rc = ctl_session_save(c);
    if (!rc)
        printf("logged in to %s as %s\n", c->url, argv[1]);
    return rc;
}

static int cmd_list(ctl *c, int argc, char **argv)
{
    if (argc < 2)
        return usage();
    char path[4096];
    int n = snprintf(path, sizeof(path), "/api/%s?", argv[1]);
    for (int i = 2; i < argc && n < (int)sizeof(path); i++) {
        char *esc = NULL;
        if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc) {
            n += snprintf(path + n, sizeof(path) - n, "limit=%s&", argv[++i]);
        } else if (strcmp(argv[i], "--offset") == 0 && i + 1 < argc) {
            n += snprintf(path + n, sizeof(path) - n, "offset=%s&", argv[++i]);
        } else if (strcmp(argv[i], "--sort") == 0 && i + 1 < argc) {
            char key[256], sort[400];
            snprintf(key, sizeof(key), "%s", argv[++i]);
            char *colon = strchr(key, ':');
            bool desc = colon && strcmp(colon + 1, "desc") == 0;
            if (colon)
                *colon = '\0';
            snprintf(sort, sizeof(sort), "[{\"f\":\"%s\",\"o\":\"%s\"}]", key,
                     desc ? "desc" : "asc");
            esc = escape(sort);
            n += snprintf(path + n, sizeof(path) - n, "sortBy=%s&", esc);
        } else if (strchr(argv[i], '=') && argv[i][0] != '-') {
            const char *eq = strchr(argv[i], '=');
            char key[256];
            snprintf(key, sizeof(key), "%.*s", (int)(eq - argv[i]), argv[i]);
            char *k = escape(key);
            esc = escape(eq + 1);
            n += snprintf(path + n, sizeof(path) - n, "%s=%s&", k, esc);
            curl_free(k);
        } else {
            return usage();
        }
        curl_free(esc);
    }
    path[strlen(path) - 1] = '\0'; /* the last '&' or '?' */
    cJSON *ans = NULL;
    int rc = ctl_json(c, "GET", path, NULL, &ans);
    return rc ? rc : show(c, ans, argv[1]);
}

static int cmd_get(ctl *c, int argc, char **argv)
{
    if (argc != 2)
        return usage();
    char path[1024];
    char *esc = escape(argv[1]);
    snprintf(path, sizeof(path), "/api/quickid?id=%s", esc);
    curl_free(esc);
    cJSON *ans = NULL;
    int rc = ctl_json(c, "GET", path, NULL, &ans);
    if (rc)
        return rc;
    cJSON *inner = cJSON_DetachItemFromObjectCaseSensitive(
        ans, cJSON_GetObjectItemCaseSensitive(ans, "keyPath") ? "value" : "entity");
    if (inner && !c->json) {
        cJSON_Delete(ans);
        return show(c, inner, NULL);
    }
    cJSON_Delete(inner);
    return show(c, ans, NULL);
}

/* POST /api/action with one action per resource. */
static int actions(ctl *c, char **resources, int n, const char *payload)
{
    cJSON *body = cJSON_CreateArray(), *ans = NULL;
    for (int i = 0; i < n; i++) {
        cJSON *a = cJSON_CreateObject();
        sb_json_set_str(a, "resource", resources[i]);
        sb_json_set_str(a, "payload", payload);
        cJSON_AddItemToArray(body, a);
    }
    int rc = ctl_json(c, "POST", "/api/action", body, &ans);
    cJSON_Delete(body);
    if (!rc && !c->json)
        printf("done: %d\n", (int)sb_json_num(ans, "done", 0));
    else if (!rc)
        return show(c, ans, NULL);
    cJSON_Delete(ans);
    return rc;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 65536, n = 0;
    char *b = malloc(cap);
    size_t got;
    while (b && (got = fread(b + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *nb = realloc(b, cap *= 2);
            if (!nb) {
                free(b);
                b = NULL;
            } else {
                b = nb;
            }
        }
    }
    if (f != stdin)
        fclose(f);
    *len = n;
    return b;
}

static int cmd_put(ctl *c, int argc, char **argv)
{
    if (argc != 3)
        return usage();
    size_t len = 0;
    char *text = read_all(argv[2], &len), path[300];
    if (!text) {
        fprintf(stderr, "switchboard ctl: cannot read %s\n", argv[2]);
        return 1;
    }
    snprintf(path, sizeof(path), "/api/%s", argv[1]);
    ctl_resp r;
    ctl_request(c, "POST", path, text, len, NULL, &r);
    free(text);
    int rc = r.status >= 200 && r.status < 300 ? 0 : ctl_fail(path, &r);
    if (!rc)
        printf("%s\n", c->json ? r.body : "saved");
    free(r.body);
    return rc;
}

static int cmd_delete(ctl *c, int argc, char **argv)
{
    if (argc < 3)
        return usage();
    cJSON *ids = cJSON_CreateArray(), *ans = NULL;
    for (int i = 2; i < argc; i++)
        cJSON_AddItemToArray(ids, cJSON_CreateString(argv[i]));
    char path[300];
    snprintf(path, sizeof(path), "/api/%s", argv[1]);
    int rc = ctl_json(c, "DELETE", path, ids, &ans);
    cJSON_Delete(ids);
    return rc ? rc : show(c, ans, NULL);
}

static int cmd_backup(ctl *c, int argc, char **argv)
{
    cJSON *ans = NULL;
    int rc;
    if (argc == 2 && strcmp(argv[1], "run") == 0) {
        rc = ctl_json(c, "POST", "/api/backup/run", NULL, &ans);
        return rc ? rc : show(c, ans, NULL);
    }
    if (argc == 2 && strcmp(argv[1], "list") == 0) {
        rc = ctl_json(c, "GET", "/api/backup", NULL, &ans);
        return rc ? rc : show(c, ans, "backup");
    }
    if ((argc == 3 || argc == 4) && strcmp(argv[1], "download") == 0) {
        char path[600];
        char *esc = escape(argv[2]);
        snprintf(path, sizeof(path), "/api/backup/%s", esc);
        curl_free(esc);
        ctl_resp r;
        ctl_request(c, "GET", path, NULL, 0, NULL, &r);
        rc = r.status == 200 ? 0 : ctl_fail(path, &r);
        if (!rc) {
            const char *out = argc == 4 ? argv[3] : argv[2];
            FILE *f = fopen(out, "wb");
            if (!f || fwrite(r.body, 1, r.len, f) != r.len) {
                fprintf(stderr, "switchboard ctl: cannot write %s\n", out);
                rc = 1;
            } else {
                printf("wrote %s (%zu bytes)\n", out, r.len);
            }
            if (f)
                fclose(f);
        }
        free(r.body);
        return rc;
    }
    return usage();
}

static int cmd_restore(ctl *c, int argc, char **argv)
{
    if (argc != 2)
        return usage();
    size_t len = 0;
    char *data = read_all(argv[1], &len);
    if (!data) {
        fprintf(stderr, "switchboard ctl: cannot read %s\n", argv[1]);
        return 1;
    }
    ctl_resp r;
    ctl_request(c, "POST", "/api/restore", data, len, "application/gzip", &r);
    free(data);
    int rc = r.status >= 200 && r.status < 300 ? 0 : ctl_fail("restore", &r);
    if (!rc)
        printf("%s\n", c->json ? r.body : "restored");
    free(r.body);
    return rc;
}

static int cmd_events(ctl *c, int argc, char **argv)
{
    static const char *const lists[][2] = {{"--quickid", "quickIds"},
                                           {"--prefix", "prefixes"},
                                           {"--kind", "kinds"},
                                           {"--event", "events"}};
    cJSON *sub = cJSON_CreateObject();
    long count = 0;
    for (int i = 1; i < argc; i++) {
        bool known = false;
        for (size_t l = 0; l < 4 && i + 1 < argc; l++) {
            if (strcmp(argv[i], lists[l][0]) != 0)
                continue;
            cJSON *arr = cJSON_GetObjectItemCaseSensitive(sub, lists[l][1]);
            if (!arr)
                arr = cJSON_AddArrayToObject(sub, lists[l][1]);
            cJSON_AddItemToArray(arr, cJSON_CreateString(argv[++i]));
            known = true;
            break;
        }
        if (!known && strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
            count = strtol(argv[++i], NULL, 10);
            known = true;
        }
        if (!known) {
            cJSON_Delete(sub);
            return usage();
        }
    }
    int rc = ctl_tail(c, sub, count);
    cJSON_Delete(sub);
    return rc;
}

static int cmd_simple_get(ctl *c, const char *path)
{
    cJSON *ans = NULL;
    int rc = ctl_json(c, "GET", path, NULL, &ans);
    return rc ? rc : show(c, ans, NULL);
}

static int dispatch(ctl *c, int argc, char **argv)
{
    const char *cmd = argv[0];
    if (strcmp(cmd, "login") == 0)
        return cmd_login(c, argc, argv);
    if (strcmp(cmd, "logout") == 0) {
        ctl_resp r;
        ctl_request(c, "POST", "/api/user/logout", "{}", 2, NULL, &r);
        free(r.body);
        ctl_session_remove();
        printf("logged out\n");
        return 0;
    }
    if (strcmp(cmd, "whoami") == 0)
        return cmd_simple_get(c, "/api/user/profile");
    if (strcmp(cmd, "status") == 0)
        return cmd_simple_get(c, "/api/status");
    if (strcmp(cmd, "list") == 0)
        return cmd_list(c, argc, argv);
    if (strcmp(cmd, "get") == 0)
        return cmd_get(c, argc, argv);
    if (strcmp(cmd, "set") == 0 && argc == 3)
        return actions(c, &argv[1], 1, argv[2]);
    if (strcmp(cmd, "toggle") == 0 && argc == 2)
        return actions(c, &argv[1], 1, "toggle");
    if ((strcmp(cmd, "enable") == 0 || strcmp(cmd, "disable") == 0 || strcmp(cmd, "reload") == 0) &&
        argc >= 2)
        return actions(c, &argv[1], argc - 1, cmd);
    if (strcmp(cmd, "action") == 0 && argc == 3)
        return actions(c, &argv[1], 1, argv[2]);
    if (strcmp(cmd, "put") == 0)
        return cmd_put(c, argc, argv);
    if (strcmp(cmd, "delete") == 0)
        return cmd_delete(c, argc, argv);
    if (strcmp(cmd, "backup") == 0)
        return cmd_backup(c, argc, argv);
    if (strcmp(cmd, "restore") == 0)
        return cmd_restore(c, argc, argv);
    if (strcmp(cmd, "events") == 0)
        return cmd_events(c, argc, argv);
    return usage();
}

int sb_cmd_ctl(const char *config_path, int argc, char **argv)
{
    ctl c = {0};
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--url") == 0 && i + 1 < argc)
            snprintf(c.url, sizeof(c.url), "%s", argv[++i]);
        else if (strcmp(argv[i], "--token") == 0 && i + 1 < argc)
            snprintf(c.token, sizeof(c.token), "%s", argv[++i]);
        else if (strcmp(argv[i], "--json") == 0)
            c.json = true;
        else
            return usage();
    }
    if (i >= argc)
        return usage();
    default_url(&c, config_path);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = dispatch(&c, argc - i, argv + i);
    curl_global_cleanup();
    return rc;
}
