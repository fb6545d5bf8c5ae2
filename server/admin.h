/*
 * admin: the console API (protocol/README.md §12), everything under
 * /api/admin/, for coordinators and, where an endpoint says so, leaders.
 * The endpoints live in admin_*.c (admin_int.h); this module routes, reads
 * the query and body, and runs the work. api.c does the HTTP (method, Origin, token, body, writing
 * the answer); this module reads what a request asks, checks every input with the store's own
 * rules, runs the store calls on the store worker and makes the answer there.
 *
 * Every job first checks, on the worker, that the coordinator's account
 * still stands (exists, enabled, no new password since the login): a login
 * that ended answers token_invalid even before the registry forgets it.
 * Every change is audited by the store with the actor
 * "coordinator:<username>".
 *
 * Thread: admin_route, admin_query, admin_body and admin_job_free on the lws
 * thread; admin_work on the store worker, touching nothing but its job and
 * the worker's store. Never answers a password hash, a token or an invite
 * code, and never message text (the store has none).
 */
#ifndef KAMRAT_ADMIN_H
#define KAMRAT_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ADMIN_BODY_MAX (128 * 1024) /* a group with a 20000-character agreement, escaped */

struct admin_job;
struct leader_login;
struct server;
struct store;

/* What a route wants of api.c. */
struct admin_route {
    const char *allow; /* the methods the path takes, for a 405 (points into allow_buf) */
    char allow_buf[48];
    bool known;    /* a path of the console */
    bool allowed;  /* ... with a method it takes */
    bool role_ok;  /* ... and the caller's role may use it */
    bool changes;  /* not a GET: the Origin must be ours */
    bool has_body; /* a JSON body follows */
};

/* What the path and method (an lws URI token: "GET", "POST", "PATCH",
 * "DELETE"; NULL for any other) ask. Returns a new job when the route is
 * known, the method allowed and the caller's role may use it (else NULL,
 * with *out telling which). The job is for `who` (copied). */
struct admin_job *admin_route(const char *path, const char *method, const struct leader_login *who,
                              struct admin_route *out);

/* Read one query argument ("cursor=12", as lws gives them, not yet
 * decoded) into job. Returns NULL, or the error code to answer with 400
 * (*field: which argument). */
const char *admin_query(struct admin_job *job, const char *arg, const char **field);

/* Read the JSON body of a request into job (borrows body for the
 * call). Returns NULL, or the error code to answer with 400 (*field: which
 * member, or NULL). */
const char *admin_body(struct admin_job *job, const char *body, size_t len, const char **field);

/* Take what the answer needs from the loop (health: connections, rooms,
 * cluster) and the clock, just before the job is submitted. */
void admin_prepare(struct admin_job *job, struct server *srv);

/* On the store worker: run job against s and make its answer. */
void admin_work(struct store *s, void *job);

/* After admin_work: the HTTP status and the JSON answer (owned by the job
 * until admin_take_answer hands it over; free() it). *ended is true when
 * the coordinator's login ended for good (the caller forgets its logins). */
char *admin_take_answer(struct admin_job *job, unsigned int *status, bool *ended);

/* The answer's Content-Type; *filename is the name to save it under (a
 * download: Content-Disposition attachment), or NULL for JSON. Borrowed
 * from the job. */
const char *admin_answer_type(const struct admin_job *job, const char **filename);

/* The account the job was for (leaders_revoke_leader when its login ended). */
int64_t admin_account(const struct admin_job *job);

/* admin_job_free(NULL) is a no-op. */
void admin_job_free(struct admin_job *job);

#endif
