#include "feed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "ics.h"
#include "store.h"
#include "storeq.h"
#include "util.h"

#define FEED_MAX_EVENTS 64 /* about a year of a weekly group */

char *feed_calendar(struct store *s, const char *code, int64_t now, const char *uid_domain,
                    size_t *len)
{
    unsigned char hash[AUTH_DIGEST_LEN];
    struct store_invite inv;
    if (strlen(code) != AUTH_INVITE_LEN || auth_token_hash(code, hash) < 0 ||
        store_invite_find(s, hash, now, &inv) < 0)
        return NULL;
    struct store_group g;
    if (store_group_get_id(s, inv.group_id, &g) < 0)
        return NULL;
    struct store_session *list = NULL;
    size_t n = 0;
    char *ics = NULL;
    if (store_session_list(s, inv.group_id, now, &list, &n) == 0) {
        struct ics_event ev[FEED_MAX_EVENTS];
        size_t m = 0;
        for (size_t i = 0; i < n && m < FEED_MAX_EVENTS; i++) {
            ev[m++] = (struct ics_event){list[i].id, list[i].starts_at, list[i].ends_at,
                                         list[i].cancelled_at != 0};
        }
        ics = ics_build(g.name, g.name, "Join with your invite link.", uid_domain, ev, m, now, len);
    }
    free(list);
    store_group_clear(&g);
    return ics;
}

/* A calendar read on the store worker. */
struct feed_job {
    char code[AUTH_INVITE_LEN + 1];
    int64_t now;
    char *uid_domain;
    char *text; /* the result */
    size_t len;
    feed_done_fn *done;
    feed_late_fn *late;
    void *arg;
};

static void job_work(struct store *s, void *arg)
{
    struct feed_job *j = arg;
    j->text = feed_calendar(s, j->code, j->now, j->uid_domain, &j->len);
}

static void job_free(struct feed_job *j)
{
    free(j->uid_domain);
    wipe(j->code, sizeof(j->code));
    free(j);
}

static void job_done(void *arg, enum storeq_status st)
{
    struct feed_job *j = arg;
    j->done(j->arg, j->text, j->len, st != STOREQ_DONE);
    job_free(j);
}

static void job_late(void *arg)
{
    struct feed_job *j = arg;
    j->late(j->arg);
}

int feed_calendar_async(struct storeq *q, const char *code, int64_t now, const char *uid_domain,
                        uint64_t now_ms, feed_done_fn *done, feed_late_fn *late, void *arg)
{
    struct feed_job *j = xcalloc(1, sizeof(*j));
    *j = (struct feed_job){
        .now = now, .uid_domain = xstrdup(uid_domain), .done = done, .late = late, .arg = arg};
    snprintf(j->code, sizeof(j->code), "%s", code);
    if (storeq_submit(q, job_work, job_done, job_late, j, now_ms) < 0) {
        job_free(j);
        return -1;
    }
    return 0;
}
