/*
 * api: the JSON HTTP API on the one TLS port (protocol/README.md, "Leader
 * login (HTTP)"): POST /api/login checks a leader's password and starts a
 * login in srv->leaders; POST /api/logout ends one.
 *
 * http.c hands every request for a path under /api/ to this module and
 * forwards the body, writable and close callbacks of such a request. Each
 * request keeps its state in a struct api_req that the connection's
 * struct http_req points to.
 *
 * Thread: the lws thread. Never runs a key derivation itself: the password
 * check goes to srv->authq, and the answer is written once the job comes
 * back through authq_drain. A connection that closes meanwhile only forgets
 * its request; the job's done function finishes the login bookkeeping
 * (throttling, audit) and frees it.
 *
 * Privacy: never logs or stores passwords, tokens or addresses; request
 * bodies and answers holding a token are wiped before they are freed.
 */
#ifndef KAMRAT_API_H
#define KAMRAT_API_H

#include <stdbool.h>
#include <stdint.h>

#include <libwebsockets.h>

#define API_BODY_MAX 4096 /* bytes of a request body; more is 413 */

struct api_req;
struct server;

/* Is path one the API answers (everything under /api/)? */
bool api_path(const char *path);

/*
 * LWS_CALLBACK_HTTP for a path under /api/: start a request in *slot,
 * check method, Origin and headers, and answer at once when they decide
 * it. Each function below returns what the lws callback should return.
 */
int api_on_http(struct lws *wsi, struct api_req **slot, const char *path);

/* LWS_CALLBACK_HTTP_BODY and LWS_CALLBACK_HTTP_BODY_COMPLETION for the
 * request in *slot (no-ops when *slot is NULL). Borrows in for the call. */
int api_on_body(struct lws *wsi, struct api_req **slot, const void *in, size_t len);
int api_on_body_done(struct lws *wsi, struct api_req **slot);

/* LWS_CALLBACK_HTTP_WRITEABLE: write the answer once there is one, free the
 * request, set *slot to NULL and complete the transaction. */
int api_on_writable(struct lws *wsi, struct api_req **slot);

/* The connection closed, or its transaction ended (LWS_CALLBACK_CLOSED_HTTP,
 * LWS_CALLBACK_HTTP_DROP_PROTOCOL): forget the request in *slot and set
 * *slot to NULL. A request whose password check is still running is freed
 * by the check's done function instead. Safe to call more than once. */
void api_on_closed(struct api_req **slot);

/* The clock of leader logins: wall-clock milliseconds plus [testing]
 * clock_offset. Pass it to leaders_lookup and leaders_sweep too, so that
 * expiry and the expires_at the client was told agree. */
uint64_t api_now_ms(const struct server *srv);

#endif
