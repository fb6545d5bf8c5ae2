/*
 * admin_int: what the console's endpoint modules share with admin.c, the
 * console API's frame (protocol/README.md §12). admin.c matches a request
 * to an endpoint, checks the token's role, the query and the body's shape
 * against what the endpoint declares, and checks on the store worker that
 * the caller's account still stands; the endpoint's work function then runs
 * on the store worker and settles the answer with admin_reply*.
 *
 * An endpoint module (admin_groups.c, ...) declares a table of endpoints,
 * ended by an entry whose path is NULL, and admin.c lists the table once.
 */
#ifndef KAMRAT_ADMIN_INT_H
#define KAMRAT_ADMIN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cluster.h"
#include "store.h"

#define HTTP_STATUS_CREATED 201 /* lws 4.1 has no name for it */
#define ADMIN_PATH_IDS 2        /* "groups/#/leaders/#" */
#define ADMIN_ARGS_MAX 8
#define ADMIN_ARG_TEXT_MAX 64

/* Who may call an endpoint. */
enum admin_role {
    ADMIN_COORDINATOR = 1 << 0,
    ADMIN_LEADER = 1 << 1, /* for the groups they lead: the endpoint checks (admin_may_group) */
};

/* What a query argument holds. Every list takes "cursor" and "limit"
 * (ADMIN_ARG_LIMIT's max is the page's largest size). */
enum admin_arg_type {
    ADMIN_ARG_ID,     /* a positive decimal, no leading zero */
    ADMIN_ARG_TEXT,   /* up to max bytes, as given (not decoded) */
    ADMIN_ARG_CURSOR, /* a list's cursor: a decimal from a next_cursor */
    ADMIN_ARG_LIMIT,  /* 1..max */
};

struct admin_arg_spec {
    const char *key;
    enum admin_arg_type type;
    int64_t max; /* ADMIN_ARG_LIMIT: the largest page; ADMIN_ARG_TEXT: bytes */
};

/* What a body member must be; its limits are the work function's to check
 * (with the store's rules), on the worker. */
enum admin_member_type { ADMIN_STRING, ADMIN_INTEGER, ADMIN_BOOLEAN };

struct admin_member_spec {
    const char *key;
    enum admin_member_type type;
    bool required; /* by a POST; a PATCH leaves out what it does not change */
};

struct admin_job;

struct admin_endpoint {
    const char *method;                      /* "GET", "POST", "PATCH", "DELETE" */
    const char *path;                        /* after /api/admin/; "#" is one path id: "groups/#" */
    unsigned roles;                          /* enum admin_role bits */
    const struct admin_arg_spec *args;       /* ended by a NULL key; NULL: none */
    const struct admin_member_spec *members; /* ended by a NULL key; NULL: no body */
    void (*work)(struct store *s, struct admin_job *j);
};

/* A query argument as read. */
struct admin_arg {
    const char *key; /* the spec's; NULL: a free slot */
    int64_t n;       /* ID, CURSOR, LIMIT */
    char text[ADMIN_ARG_TEXT_MAX + 1];
};

struct admin_job {
    const struct admin_endpoint *ep;
    /* The caller. */
    int64_t account_id;
    int64_t login_gen;
    bool coordinator;
    char username[STORE_USERNAME_MAX + 1];
    char actor[STORE_ACTOR_MAX + 1]; /* "coordinator:<username>" or "leader:<username>" */
    int64_t now;                     /* store time (config_now), seconds */
    char *origin;                    /* owned: the configured origin, for links */
    int64_t early_start;             /* [limits] early_start, seconds */
    /* The request. */
    int64_t id[ADMIN_PATH_IDS]; /* the path's ids, in order */
    struct admin_arg args[ADMIN_ARGS_MAX];
    int64_t cursor; /* 0: the first page */
    int limit;
    json_t *body; /* the checked body object, or NULL */
    /* From the loop, for the health box. */
    uint32_t connections;
    size_t rooms;
    size_t logins;
    bool clustered;
    struct cluster_status cluster;
    /* The answer. */
    unsigned int status;
    bool ended;
    char *answer;
    const char *mime;  /* NULL: JSON; else a download (admin_reply_download) */
    char filename[64]; /* ... saved under this name */
};

/* The endpoint tables. */
extern const struct admin_endpoint admin_groups_endpoints[];
extern const struct admin_endpoint admin_invites_endpoints[];
extern const struct admin_endpoint admin_sessions_endpoints[];
extern const struct admin_endpoint admin_leaders_endpoints[];
extern const struct admin_endpoint admin_attendance_endpoints[];

/* ---- for work functions, on the store worker ---- */

/* Settle the answer: status and doc (taken; NULL for none). */
void admin_reply(struct admin_job *j, unsigned int status, json_t *doc);

/* Settle a 200 answer that is a file to save, not JSON: text (taken) of
 * type mime (a static string), named filename (ASCII letters, digits, '-',
 * '_' and '.'; it goes into Content-Disposition as it is). */
void admin_reply_download(struct admin_job *j, char *text, const char *mime, const char *filename);

/* {"error":code} or {"error":code,"field":field}. */
void admin_reply_error(struct admin_job *j, unsigned int status, const char *code,
                       const char *field);

/* A store error: not_found 404, exists 409 (field "name"), invalid 400,
 * archived 409 (the group takes nothing new), else busy 503 (the client
 * retries). */
void admin_reply_store(struct admin_job *j, int rc);

/* A page of a list: the members array under key, and next_cursor "to" when
 * more follow (NULL: the last page). */
void admin_reply_page(struct admin_job *j, const char *key, json_t *list, const char *next);

/* The query argument key as read, or NULL (not given, or empty). */
const struct admin_arg *admin_arg(const struct admin_job *j, const char *key);

/* A body member (NULL when not given). */
json_t *admin_member(const struct admin_job *j, const char *key);

/* Copy the string member key into dst[len]; false when it does not fit.
 * Leaves dst alone when the member is not given. */
bool admin_member_fixed(const struct admin_job *j, const char *key, char *dst, size_t len);

/* Replace *dst (owned) with a copy of the string member key, when given. */
void admin_member_take(const struct admin_job *j, const char *key, char **dst);

/* May the caller act on group group_id? A coordinator may; a leader when
 * they lead it. Answers 403 forbidden (or the store's error) and returns
 * false when not. */
bool admin_may_group(struct store *s, struct admin_job *j, int64_t group_id);

#endif
