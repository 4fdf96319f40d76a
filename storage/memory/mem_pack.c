/*
 * mem_pack.c - stored documents as one block: every cJSON node of a document, in depth-first
 * order, followed by its strings, in a single malloc. get() must hand out a deep copy, and
 * copying a tree whose nodes are scattered over the heap costs a cache miss per node once the
 * store outgrows the caches (random gets at 100k documents ran at a third of gets in id order).
 * Copying from one contiguous block reads a few neighbouring cache lines instead, and a stored
 * document costs one allocation instead of one per node and string.
 *
 * The block begins with the document's mem_doc (its position and id), so a get follows the id
 * table to one block and finds the id to compare and the nodes to copy in neighbouring lines.
 * A packed tree is read-only and is never given to cJSON_Delete; the block is freed whole.
 */
#include "storage/memory/memory.h"

#include <stdlib.h>
#include <string.h>

/* Nodes and string bytes of the tree below (and including) item. */
static void measure(const cJSON *item, size_t *nodes, size_t *bytes)
{
    for (; item; item = item->next) {
        (*nodes)++;
        if (item->string && !mem_key_intern(item->string))
            *bytes += strlen(item->string) + 1;
        if (item->valuestring)
            *bytes += strlen(item->valuestring) + 1;
        measure(item->child, nodes, bytes);
    }
}

typedef struct packer {
    cJSON *node; /* next free node */
    char *text;  /* next free string byte */
} packer;

static char *pack_str(packer *p, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *out = memcpy(p->text, s, n);
    p->text += n;
    return out;
}

/* Copies the siblings from item on; returns the first copy. */
static cJSON *pack_list(packer *p, const cJSON *item)
{
    cJSON *first = NULL, *prev = NULL;
    for (; item; item = item->next) {
        cJSON *c = p->node++;
        *c = (cJSON){.type = item->type & ~(cJSON_IsReference | cJSON_StringIsConst),
                     .valueint = item->valueint,
                     .valuedouble = item->valuedouble};
        const char *key = item->string ? mem_key_intern(item->string) : NULL;
        if (key) {
            c->string = (char *)key; /* shared, never freed: see mem_keys.c */
            c->type |= cJSON_StringIsConst;
        } else {
            c->string = pack_str(p, item->string);
        }
        c->valuestring = pack_str(p, item->valuestring);
        c->child = pack_list(p, item->child);
        c->prev = prev;
        if (prev)
            prev->next = c;
        else
            first = c;
        prev = c;
    }
    if (first)
        first->prev = prev; /* cJSON keeps the last sibling in the first one's prev */
    return first;
}

sb_err mem_doc_new(const cJSON *doc, mem_doc **out)
{
    *out = NULL;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(doc, "id");
    if (!cJSON_IsObject(doc) || !cJSON_IsString(id) || !*id->valuestring)
        return SB_ERR_INVALID;
    size_t nodes = 0, bytes = 0, id_len = strlen(id->valuestring) + 1;
    cJSON root = *doc;
    root.next = root.prev = NULL; /* pack doc alone, not its siblings */
    root.string = NULL;
    measure(&root, &nodes, &bytes);
    size_t align = _Alignof(cJSON), head = sizeof(mem_doc) + id_len;
    head = (head + align - 1) / align * align;
    size_t size = nodes * sizeof(cJSON) + bytes;
    mem_doc *d = malloc(head + size);
    if (!d)
        return SB_ERR_NOMEM;
    memcpy(d->id, id->valuestring, id_len);
    d->doc = (cJSON *)((char *)d + head);
    d->size = size;
    d->pos = 0;
    packer p = {.node = d->doc, .text = (char *)(d->doc + nodes)};
    pack_list(&p, &root);
    d->doc->prev = NULL;
    *out = d;
    return SB_OK;
}
