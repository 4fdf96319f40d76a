/*
 * mys_ids.c - MySensors node ids of one gateway (mysensors.h).
 *
 * The ids a gateway knows are kept in the store, kind "_gateway_mysensors", document
 * "<gatewayId>.ids" = {"id","gatewayId","used":[1,2,...]}: every id seen on the link and every
 * id handed out, so an id is never given twice, also across restarts and before the processor
 * has created the node. A node that asks gets the lowest id in 1..254 that is neither in that
 * list nor a node document of the gateway (nodes created by hand or by another gateway service).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "gateways/mysensors/mysensors.h"
#include "storage/store.h"

#define IDS_KIND "_gateway_mysensors"

static void ids_doc_id(const mys_prov *p, char *buf, size_t len)
{
    snprintf(buf, len, "%s.ids", p->host->gateway_id);
}

/* With idmu held. */
static void load(mys_prov *p)
{
    if (p->ids_loaded || !p->host->store)
        return;
    char id[256];
    ids_doc_id(p, id, sizeof(id));
    cJSON *doc = NULL;
    if (sb_store_get(p->host->store, IDS_KIND, id, &doc, NULL) == SB_OK) {
        const cJSON *v;
        cJSON_ArrayForEach(v, cJSON_GetObjectItem(doc, "used"))
        {
            if (cJSON_IsNumber(v) && v->valuedouble >= 1 && v->valuedouble <= 254)
                p->known[(int)v->valuedouble] = true;
        }
        cJSON_Delete(doc);
    }
    p->ids_loaded = true;
}

/* With idmu held. */
static sb_err save(mys_prov *p, sb_errmsg *em)
{
    if (!p->host->store)
        return SB_OK;
    char id[256];
    ids_doc_id(p, id, sizeof(id));
    cJSON *doc = cJSON_CreateObject();
    cJSON *used = cJSON_AddArrayToObject(doc, "used");
    if (!doc || !used || !sb_json_set_str(doc, "id", id) ||
        !sb_json_set_str(doc, "gatewayId", p->host->gateway_id)) {
        cJSON_Delete(doc);
        return sb_fail(em, SB_ERR_NOMEM, "out of memory");
    }
    for (int i = 1; i <= 254; i++)
        if (p->known[i])
            cJSON_AddItemToArray(used, cJSON_CreateNumber(i));
    sb_err rc = sb_store_put(p->host->store, IDS_KIND, doc, em);
    cJSON_Delete(doc);
    return rc;
}

void mys_ids_seen(mys_prov *p, unsigned id)
{
    if (id < 1 || id > 254)
        return;
    pthread_mutex_lock(&p->idmu);
    load(p);
    if (!p->known[id]) {
        p->known[id] = true;
        sb_errmsg em = {{0}};
        sb_err rc = save(p, &em);
        if (rc != SB_OK)
            sb_warn(p->host->log, "cannot store node id %u: %s", id, sb_errmsg_str(&em, rc));
    }
    pthread_mutex_unlock(&p->idmu);
}

/* Marks the node ids of the gateway's node documents as taken. */
static void node_docs(mys_prov *p, uint8_t *used, size_t *n)
{
    if (!p->host->store)
        return;
    sb_query q = {0};
    cJSON *gw = cJSON_CreateString(p->host->gateway_id);
    cJSON *res = NULL;
    if (gw && sb_query_add(&q, "gatewayId", SB_OP_EQ, gw, NULL) == SB_OK &&
        sb_store_find(p->host->store, "node", &q, &res, NULL) == SB_OK) {
        const cJSON *d;
        cJSON_ArrayForEach(d, cJSON_GetObjectItem(res, "data"))
        {
            char *end = NULL;
            const char *nid = sb_json_str(d, "nodeId", "");
            long v = strtol(nid, &end, 10);
            if (*nid && !*end && v >= 1 && v <= 254 && *n < 256)
                used[(*n)++] = (uint8_t)v;
        }
    }
    cJSON_Delete(res);
    cJSON_Delete(gw);
    sb_query_free(&q);
}

sb_err mys_ids_assign(mys_prov *p, uint8_t *id, sb_errmsg *em)
{
    uint8_t used[512];
    size_t n = 0;
    node_docs(p, used, &n);
    pthread_mutex_lock(&p->idmu);
    load(p);
    for (int i = 1; i <= 254 && n < sizeof(used); i++)
        if (p->known[i])
            used[n++] = (uint8_t)i;
    sb_err rc = sb_mys_next_free_id(used, n, id);
    if (rc == SB_OK) {
        p->known[*id] = true;
        rc = save(p, em);
        if (rc != SB_OK)
            p->known[*id] = false; /* not durable: do not hand it out */
    } else {
        sb_fail(em, rc, "every node id 1..254 is taken on gateway %s", p->host->gateway_id);
    }
    pthread_mutex_unlock(&p->idmu);
    return rc;
}
