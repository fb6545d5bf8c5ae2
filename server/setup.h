/*
 * setup: the setup page's API (protocol/README.md §12 "Setup links"). The
 * holder of a setup link, which a coordinator or kamratctl made, looks its
 * code up (POST /api/setup/check) and chooses the account's password with it
 * (POST /api/setup): the password is hashed with Argon2id on an authq
 * worker under the same rule as kamratctl's (auth_password_ok), then the
 * store worker sets it and spends the link in one transaction.
 *
 * api.c does the HTTP (method, Origin, body); this module reads the body,
 * throttles per client address (the login's address window) and makes the
 * answer.
 *
 * Thread: the lws thread; the store and key-derivation work runs on the
 * workers. Never logs or stores the code or the password; the body's copies
 * are wiped.
 */
#ifndef KAMRAT_SETUP_H
#define KAMRAT_SETUP_H

#include <stdbool.h>
#include <stddef.h>

#include <sys/socket.h>

struct server;

/* The answer: HTTP status and a JSON body (borrowed for the call). */
typedef void (*setup_done_fn)(void *arg, unsigned int status, const char *json);

/*
 * Start a setup request: check (POST /api/setup/check) or set the password
 * (POST /api/setup), with the body (len bytes, borrowed for the call) from
 * the client at peer (plen 0: unknown). done(arg, ...) is called exactly
 * once, perhaps before this returns; arg is borrowed until then.
 */
void setup_start(struct server *srv, bool check, const char *body, size_t len,
                 const struct sockaddr *peer, socklen_t plen, setup_done_fn done, void *arg);

#endif
