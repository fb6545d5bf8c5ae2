/* store: attendance figures, counts only (store.h). */
#include "store.h"

#include "store_int.h"

int store_attendance_put(struct store *s, int64_t session_id, const struct store_attendance *a)
{
    if (a->admitted < 0 || a->peak < 0 || a->leaders < 0)
        return STORE_E_INVALID;
    struct db_stmt *st = store__stmt(s, ST_ATTENDANCE_PUT);
    db_bind_int64(st, 1, session_id);
    store__bind_id(st, 2, a->ended_at);
    db_bind_int64(st, 3, a->admitted);
    db_bind_int64(st, 4, a->peak);
    db_bind_int64(st, 5, a->leaders);
    return store__exec(st);
}

/* The session's columns first (STORE_SESSION_COLS), then its counts. */
static void read_row(struct db_stmt *st, void *row)
{
    struct store_attendance_row *r = row;
    *r = (struct store_attendance_row){
        .recorded = db_col_int64(st, 9) != 0,
        .a =
            {
                .ended_at = db_col_int64(st, 10),
                .admitted = (int)db_col_int64(st, 11),
                .peak = (int)db_col_int64(st, 12),
                .leaders = (int)db_col_int64(st, 13),
            },
    };
    store__read_session(st, &r->session);
}

int store_attendance_list(struct store *s, int64_t group_id, int64_t from, int64_t until,
                          struct store_attendance_row **out, size_t *n)
{
    struct db_stmt *st = store__stmt(s, ST_ATTENDANCE_LIST);
    store__bind_id(st, 1, group_id);
    db_bind_int64(st, 2, from);
    db_bind_int64(st, 3, until);
    int e;
    *out = store__rows(st, sizeof(**out), read_row, NULL, n, &e);
    return e;
}
