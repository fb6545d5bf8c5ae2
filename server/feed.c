#include "feed.h"

#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "ics.h"
#include "store.h"
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
