/*
 * ws_client.h - a small RFC 6455 websocket client for the system tests, over a plain socket:
 * the upgrade handshake, masked text frames out, text/close/ping frames in (pings are answered).
 * A test can shrink its receive buffer to play a client that never reads.
 */
#ifndef SB_TEST_WS_CLIENT_H
#define SB_TEST_WS_CLIENT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct wsc wsc;

/*
 * Connects to 127.0.0.1:port and upgrades path; header is an extra request line ("Cookie: ..."
 * or "Authorization: Bearer ...") or NULL; rcvbuf > 0 sets SO_RCVBUF first. NULL when the
 * server did not answer 101 (*status gets the HTTP status, 0 for no answer).
 */
wsc *wsc_connect(int port, const char *path, const char *header, int rcvbuf, int *status);

/* Sends one text frame. */
bool wsc_send(wsc *c, const char *text);

typedef enum { WSC_TIMEOUT = 0, WSC_TEXT, WSC_CLOSE, WSC_ERROR } wsc_kind;

/*
 * Waits up to timeout_ms for a text or close frame. WSC_TEXT: *text (caller frees).
 * WSC_CLOSE: *code and reason (may be NULL) from the close frame. WSC_ERROR: the connection
 * ended without a close frame.
 */
wsc_kind wsc_recv(wsc *c, int timeout_ms, char **text, int *code, char *reason, size_t len);

/* The next text frame parsed as JSON (caller frees), or NULL on timeout/close/error. */
cJSON *wsc_recv_json(wsc *c, int timeout_ms);

/* Waits for a JSON message whose "type" is type, skipping others; NULL after timeout_ms. */
cJSON *wsc_wait_type(wsc *c, const char *type, int timeout_ms);

/* The socket, for a caller that polls many clients at once (bench/api). */
int wsc_fd(const wsc *c);

void wsc_close(wsc *c);

#endif
