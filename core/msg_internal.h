/*
 * msg_internal.h - what msg.c, msg_encode.c and msg_decode.c share; not a public contract.
 */
#ifndef SB_MSG_INTERNAL_H
#define SB_MSG_INTERNAL_H

#include "core/msg.h"

/* A zeroed payload array for n payloads with the implicit power-of-two capacity. NULL for 0. */
sb_payload *sb_msg_payloads_alloc(size_t n);

/* Frees what a payload owns and NULLs its members. */
void sb_payload_clear(sb_payload *p);

/* Checks a label map (NULL is fine); where names it in the message ("payloads[0].labels"). */
sb_err sb_msg_check_labels(const cJSON *labels, const char *where, sb_errmsg *em);

/*
 * Repeated keys of a label map (at most SB_MSG_LABELS_MAX members): with drop, deletes all but
 * the last occurrence of each and returns NULL; otherwise returns the first repeated key.
 */
const char *sb_msg_labels_repeated(cJSON *labels, bool drop);

#endif
