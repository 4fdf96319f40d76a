/* uuid.h - random (version 4) UUIDs as text. */
#ifndef SB_UUID_H
#define SB_UUID_H

#define SB_UUID_LEN 37 /* 36 characters + NUL */

/* Writes a new random UUID ("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx") into out. */
void sb_uuid(char out[SB_UUID_LEN]);

#endif
