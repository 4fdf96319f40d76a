/*
 * bus_sub.c - subscriptions (issued by the io thread, again on every new connection), topic
 * filter matching, and the dispatch of received messages to handlers.
 */
#include "core/bus_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local const sb_bus *dispatching; /* set while a handler of this bus runs */

/* ---- topic filters ------------------------------------------------------------------------- */

static const char *strip_share(const char *filter)
{
    if (strncmp(filter, "$share/", 7) != 0)
        return filter;
    const char *slash = strchr(filter + 7, '/');
    return slash ? slash + 1 : filter;
}

bool sb_topic_matches(const char *filter, const char *topic)
{
    filter = strip_share(filter);
    /* Topics starting with '$' are not matched by wildcards at the first level (MQTT 4.7.2). */
    if (topic[0] == '$' && (filter[0] == '+' || filter[0] == '#'))
        return false;
    while (*filter) {
        if (filter[0] == '#')
            return true;
        if (filter[0] == '+') {
            while (*topic && *topic != '/')
                topic++;
            filter++;
        } else {
            while (*filter && *filter != '/') {
                if (*filter++ != *topic++)
                    return false;
            }
            if (*topic && *topic != '/')
                return false;
        }
        if (*filter == '/') {
            if (*topic != '/') {
                /* "a/#" also matches "a" itself. */
                return *topic == '\0' && filter[1] == '#' && filter[2] == '\0';
            }
            filter++, topic++;
            continue;
        }
        return *topic == '\0' && *filter == '\0';
    }
    return *topic == '\0';
}

/* ---- subscriptions ------------------------------------------------------------------------- */

bool sb_bus__dispatching(const sb_bus *bus)
{
    return dispatching == bus;
}

bool sb_bus_in_handler(void)
{
    return dispatching != NULL;
}

/*
 * Every filter is its own SUBSCRIBE with a v5 subscription identifier: mosquitto sends one copy
 * of a message per matching subscription (allow_duplicate_messages), each tagged with the id of
 * its subscription, so dispatching by id gives each handler each message exactly once even
 * when filters overlap. On 3.1.1 (no ids) handlers are matched by filter instead.
 */
static void mqtt_subscribe(sb_bus *bus, const char *filter, int qos, int id)
{
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    if (atomic_load(&bus->mqtt_version) == MQTTVERSION_5) {
        MQTTProperty p = {.identifier = MQTTPROPERTY_CODE_SUBSCRIPTION_IDENTIFIER};
        p.value.integer4 = (unsigned int)id;
        MQTTProperties_add(&ro.properties, &p);
    }
    MQTTAsync_subscribe(bus->client, filter, qos, &ro);
    MQTTProperties_free(&ro.properties);
}

sb_err sb_bus_subscribe(sb_bus *bus, const char *filter, int qos, sb_bus_handler fn, void *ctx,
                        sb_errmsg *em)
{
    if (!filter || !*filter || !fn || qos < 0 || qos > 2)
        return sb_fail(em, SB_ERR_INVALID, "bus: bad subscription '%s'", filter ? filter : "");
    pthread_mutex_lock(&bus->mu);
    if (bus->n_subs == bus->cap_subs) {
        size_t cap = bus->cap_subs ? bus->cap_subs * 2 : 8;
        bus_sub *s = realloc(bus->subs, cap * sizeof(*s));
        if (!s) {
            pthread_mutex_unlock(&bus->mu);
            return sb_fail(em, SB_ERR_NOMEM, "bus: out of memory");
        }
        bus->subs = s, bus->cap_subs = cap;
    }
    bus_sub *s = &bus->subs[bus->n_subs];
    memset(s, 0, sizeof(*s));
    s->filter = strdup(filter);
    if (!s->filter) {
        pthread_mutex_unlock(&bus->mu);
        return sb_fail(em, SB_ERR_NOMEM, "bus: out of memory");
    }
    s->match = strip_share(s->filter);
    s->qos = qos, s->fn = fn, s->ctx = ctx;
    for (size_t i = 0; i < bus->n_subs && !s->id; i++) {
        if (strcmp(bus->subs[i].filter, filter) == 0) {
            s->id = bus->subs[i].id;
            s->sent = bus->subs[i].sent; /* the broker already has this filter */
        }
    }
    if (!s->id)
        s->id = ++bus->next_sub_id;
    bus->n_subs++;
    bus->subs_dirty = true;
    pthread_cond_broadcast(&bus->cv); /* the io thread subscribes */
    pthread_mutex_unlock(&bus->mu);
    return SB_OK;
}

sb_err sb_bus_unsubscribe(sb_bus *bus, const char *filter)
{
    bool found = false;
    pthread_mutex_lock(&bus->mu);
    for (size_t i = 0; i < bus->n_subs;) {
        if (strcmp(bus->subs[i].filter, filter) == 0) {
            free(bus->subs[i].filter);
            bus->subs[i] = bus->subs[--bus->n_subs];
            found = true;
        } else {
            i++;
        }
    }
    bus_unsub *u = found ? malloc(sizeof(*u) + strlen(filter) + 1) : NULL;
    if (u) {
        strcpy(u->filter, filter);
        u->next = bus->unsubs;
        bus->unsubs = u;
        bus->subs_dirty = true;
        pthread_cond_broadcast(&bus->cv);
    }
    pthread_mutex_unlock(&bus->mu);
    return found ? SB_OK : SB_ERR_NOTFOUND;
}

bool sb_bus__subscribed(sb_bus *bus, const char *filter)
{
    bool r = false;
    pthread_mutex_lock(&bus->mu);
    for (size_t i = 0; i < bus->n_subs && !r; i++)
        r = bus->subs[i].sent && strcmp(bus->subs[i].filter, filter) == 0;
    pthread_mutex_unlock(&bus->mu);
    return r;
}

void sb_bus__mark_unsubscribed(sb_bus *bus)
{
    bus->subs_dirty = true;
    for (size_t i = 0; i < bus->n_subs; i++)
        bus->subs[i].sent = false;
}

/* Issues the SUBSCRIBEs and UNSUBSCRIBEs not yet sent on this connection (io thread). */
void sb_bus__sync_subscriptions(sb_bus *bus)
{
    pthread_mutex_lock(&bus->mu);
    bus_unsub *unsubs = bus->unsubs;
    bus->unsubs = NULL;
    size_t n = 0;
    bus_sub *todo = NULL;
    for (size_t i = 0; i < bus->n_subs; i++) {
        if (bus->subs[i].sent)
            continue;
        bus_sub *grown = realloc(todo, (n + 1) * sizeof(*todo));
        if (!grown)
            break;
        todo = grown;
        todo[n] = bus->subs[i];
        todo[n].filter = strdup(bus->subs[i].filter);
        for (size_t j = i; j < bus->n_subs; j++) /* every handler of this filter */
            if (bus->subs[j].id == bus->subs[i].id)
                bus->subs[j].sent = true;
        if (todo[n].filter)
            n++;
    }
    pthread_mutex_unlock(&bus->mu);
    for (bus_unsub *u = unsubs; u;) {
        bus_unsub *next = u->next;
        MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
        MQTTAsync_unsubscribe(bus->client, u->filter, &ro);
        free(u);
        u = next;
    }
    for (size_t i = 0; i < n; i++) {
        mqtt_subscribe(bus, todo[i].filter, todo[i].qos, todo[i].id);
        free(todo[i].filter);
    }
    free(todo);
}

void sb_bus__free_subs(sb_bus *bus)
{
    for (size_t i = 0; i < bus->n_subs; i++)
        free(bus->subs[i].filter);
    free(bus->subs);
    bus->subs = NULL;
    bus->n_subs = bus->cap_subs = 0;
    for (bus_unsub *u = bus->unsubs; u;) {
        bus_unsub *next = u->next;
        free(u);
        u = next;
    }
    bus->unsubs = NULL;
}

/* ---- receiving ----------------------------------------------------------------------------- */

static bool take_reply(sb_bus *bus, const sb_bus_msg *m)
{
    if (!m->correlation || m->correlation_len == 0 || m->correlation_len >= 33 ||
        strcmp(m->topic, bus->reply_topic) != 0)
        return false;
    bool taken = false;
    pthread_mutex_lock(&bus->mu);
    for (bus_request *r = bus->requests; r; r = r->next) {
        if (!r->done && strlen(r->corr) == m->correlation_len &&
            memcmp(r->corr, m->correlation, m->correlation_len) == 0) {
            r->reply = malloc(m->len + 1);
            if (r->reply) {
                memcpy(r->reply, m->payload, m->len);
                r->reply[m->len] = '\0';
                r->reply_len = m->len;
            }
            r->done = true;
            taken = true;
            pthread_cond_broadcast(&bus->cv);
            break;
        }
    }
    pthread_mutex_unlock(&bus->mu);
    return taken;
}

static void fill_props(sb_bus_msg *m, MQTTAsync_message *pm, char *rt, size_t rt_len)
{
    MQTTProperty *p = MQTTProperties_getProperty(&pm->properties, MQTTPROPERTY_CODE_RESPONSE_TOPIC);
    if (p && p->value.data.len > 0 && (size_t)p->value.data.len < rt_len) {
        memcpy(rt, p->value.data.data, (size_t)p->value.data.len);
        rt[p->value.data.len] = '\0';
        m->response_topic = rt;
    }
    p = MQTTProperties_getProperty(&pm->properties, MQTTPROPERTY_CODE_CORRELATION_DATA);
    if (p && p->value.data.len > 0) {
        m->correlation = p->value.data.data;
        m->correlation_len = (size_t)p->value.data.len;
    }
}

/* The v5 subscription identifiers a message carries (at most max); 0 on 3.1.1. */
static size_t sub_ids(MQTTAsync_message *pm, int *ids, size_t max)
{
    size_t n = 0;
    for (int i = 0; i < pm->properties.count && n < max; i++) {
        MQTTProperty *p = &pm->properties.array[i];
        if (p->identifier == MQTTPROPERTY_CODE_SUBSCRIPTION_IDENTIFIER)
            ids[n++] = (int)p->value.integer4;
    }
    return n;
}

static bool sub_selected(const bus_sub *s, const sb_bus_msg *m, const int *ids, size_t n_ids)
{
    if (n_ids == 0)
        return sb_topic_matches(s->match, m->topic);
    for (size_t i = 0; i < n_ids; i++)
        if (ids[i] == s->id)
            return true;
    return false;
}

/* Calls the handlers the message is for, outside the lock (handlers may subscribe). */
static void dispatch(sb_bus *bus, const sb_bus_msg *m, const int *ids, size_t n_ids)
{
    struct {
        sb_bus_handler fn;
        void *ctx;
    } hit[16];
    size_t n = 0;
    pthread_mutex_lock(&bus->mu);
    for (size_t i = 0; i < bus->n_subs && n < SB_ARRAY_LEN(hit); i++) {
        if (sub_selected(&bus->subs[i], m, ids, n_ids)) {
            hit[n].fn = bus->subs[i].fn;
            hit[n].ctx = bus->subs[i].ctx;
            n++;
        }
    }
    pthread_mutex_unlock(&bus->mu);
    if (n == 0)
        atomic_fetch_add(&bus->unhandled, 1);
    dispatching = bus;
    for (size_t i = 0; i < n; i++)
        hit[i].fn(hit[i].ctx, m);
    dispatching = NULL;
}

int sb_bus__on_message(void *ctx, char *topic, int topic_len, MQTTAsync_message *pm)
{
    sb_bus *bus = ctx;
    atomic_fetch_add(&bus->received, 1);
    char rt[512];
    sb_bus_msg m = {
        .topic = topic,
        .payload = pm->payload,
        .len = pm->payloadlen > 0 ? (size_t)pm->payloadlen : 0,
        .qos = pm->qos,
        .retained = pm->retained,
        .duplicate = pm->dup,
    };
    (void)topic_len; /* paho NUL-terminates topics; embedded NULs are not valid MQTT topics */
    fill_props(&m, pm, rt, sizeof(rt));
    int ids[8];
    size_t n_ids = sub_ids(pm, ids, SB_ARRAY_LEN(ids));
    if (!take_reply(bus, &m))
        dispatch(bus, &m, ids, n_ids);
    MQTTAsync_freeMessage(&pm);
    MQTTAsync_free(topic);
    return 1;
}
