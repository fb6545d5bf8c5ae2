/*
 * joininfo: GET /j/<code>/info.json, what the join page shows before it
 * asks for a pseudonym: the group's name and language, and its next session
 * (protocol/README.md §10). Only what the invite's holder learns anyway in
 * the lobby and from the calendar feed; never the description, the
 * agreement, the invite's kind or expiry, or anything of its members.
 * Unknown, expired, revoked and used invites get one answer (404
 * invite_invalid), as a hello's invite_invalid does.
 *
 * Invite codes are guessed here as in a hello, so each client address gets
 * THROTTLE_ADDR_ATTEMPTS lookups in any THROTTLE_ADDR_WINDOW_MS (throttle.h),
 * then 429. The code is hashed at once and never logged or kept.
 *
 * http.c hands the request over as it does /api/ to api.c. The store read
 * runs on the store worker (storeq.h); the answer is written once it comes
 * back. A connection that closes meanwhile only forgets its request; the
 * job's done function frees it.
 *
 * Thread: the lws thread; the job's work on the store worker.
 */
#ifndef KAMRAT_JOININFO_H
#define KAMRAT_JOININFO_H

#include <libwebsockets.h>

struct joininfo_req;

/* LWS_CALLBACK_HTTP for /j/<code>/info.json, code its AUTH_INVITE_LEN
 * characters (borrowed for the call): start the lookup in *slot, or answer
 * at once (429, 503). Returns what the lws callback should return. */
int joininfo_on_http(struct lws *wsi, struct joininfo_req **slot, const char *code, int head_only);

/* LWS_CALLBACK_HTTP_WRITEABLE: write the answer once there is one, free the
 * request, set *slot to NULL and complete the transaction. */
int joininfo_on_writable(struct lws *wsi, struct joininfo_req **slot);

/* The connection closed or its transaction ended: forget the request in
 * *slot and set *slot to NULL. Safe to call more than once. */
void joininfo_on_closed(struct joininfo_req **slot);

#endif
