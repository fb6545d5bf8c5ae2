/* cluster_route and cluster_home: rendezvous hashing is deterministic, gives every room one
 * home whatever the order of the nodes, spreads rooms evenly, and moves only
 * the rooms of a node that leaves (or to a node that joins). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cluster.h"

#define ROOMS 10000

/* The route of room "room-<i>". */
static uint64_t room(int i)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "room-%d", i);
    return cluster_route(buf);
}

/* Which of nodes[] is the home of room i, as an index. */
static int home_index(int i, const char *const *nodes, size_t n)
{
    const char *h = cluster_home(room(i), nodes, n);
    for (size_t k = 0; k < n; k++)
        if (h == nodes[k])
            return (int)k;
    fail_msg("room %d: home %s is none of the nodes", i, h ? h : "(null)");
    return -1;
}

static void no_nodes_no_home(void **state)
{
    (void)state;
    assert_null(cluster_home(cluster_route("room-1"), NULL, 0));
    const char *one[] = {"solo"};
    assert_string_equal(cluster_home(cluster_route("room-1"), one, 1), "solo");
}

static void same_answer_in_any_order(void **state)
{
    (void)state;
    const char *abc[] = {"node-a", "node-b", "node-c"};
    const char *cba[] = {"node-c", "node-b", "node-a"};
    const char *bac[] = {"node-b", "node-a", "node-c"};
    for (int i = 0; i < ROOMS; i++) {
        const char *h = cluster_home(room(i), abc, 3);
        assert_non_null(h);
        assert_string_equal(h, cluster_home(room(i), abc, 3)); /* deterministic */
        assert_string_equal(h, cluster_home(room(i), cba, 3));
        assert_string_equal(h, cluster_home(room(i), bac, 3));
    }
    /* Pinned values, worked out by a separate implementation of FNV-1a plus
     * the MurmurHash3 finaliser: every build and release must agree, or a
     * room would have two homes during a rolling upgrade. */
    assert_true(cluster_route("room-0") == 0x12b53f7c206cbe78ull);
    assert_true(cluster_route("#42") == 0x35c167839eacf0fbull);
    assert_string_equal(cluster_home(room(0), abc, 3), "node-c");
    assert_string_equal(cluster_home(room(1), abc, 3), "node-b");
    assert_string_equal(cluster_home(room(2), abc, 3), "node-a");
    assert_string_equal(cluster_home(room(8), abc, 3), "node-a");
}

static void rooms_spread_evenly(void **state)
{
    (void)state;
    const char *nodes[] = {"node-a", "node-b", "node-c"};
    int count[3] = {0};
    for (int i = 0; i < ROOMS; i++)
        count[home_index(i, nodes, 3)]++;
    /* 3333 each on average; a binomial spread is about 47, so 10% off means
     * a broken hash, not bad luck. */
    for (int k = 0; k < 3; k++) {
        if (count[k] < 3000 || count[k] > 3667)
            fail_msg("%s is home to %d of %d rooms", nodes[k], count[k], ROOMS);
    }
}

/* How many of the rooms change home from the nodes before to the nodes
 * after; fails unless each of them moves away from or to node (the one that
 * left or joined). */
static int moves(const char *const *before, size_t nb, const char *const *after, size_t na,
                 const char *node)
{
    int moved = 0;
    for (int i = 0; i < ROOMS; i++) {
        const char *b = cluster_home(room(i), before, nb);
        const char *a = cluster_home(room(i), after, na);
        if (strcmp(a, b) == 0)
            continue;
        if (strcmp(b, node) != 0 && strcmp(a, node) != 0)
            fail_msg("room %d moved from %s to %s, not from or to %s", i, b, a, node);
        moved++;
    }
    return moved;
}

static void only_the_leavers_rooms_move(void **state)
{
    (void)state;
    const char *all[] = {"node-a", "node-b", "node-c"};
    const char *left[] = {"node-a", "node-c"}; /* node-b has gone */
    int moved = moves(all, 3, left, 2, "node-b");
    /* node-b's third of the rooms, and nothing else. */
    assert_true(moved > ROOMS / 4 && moved < ROOMS * 2 / 5);
}

static void a_joiner_takes_rooms_only_for_itself(void **state)
{
    (void)state;
    const char *three[] = {"node-a", "node-b", "node-c"};
    const char *four[] = {"node-a", "node-b", "node-c", "node-d"};
    int taken = moves(three, 3, four, 4, "node-d");
    /* About a quarter: the joiner takes its share from every node. */
    assert_true(taken > ROOMS / 5 && taken < ROOMS * 3 / 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_nodes_no_home),
        cmocka_unit_test(same_answer_in_any_order),
        cmocka_unit_test(rooms_spread_evenly),
        cmocka_unit_test(only_the_leavers_rooms_move),
        cmocka_unit_test(a_joiner_takes_rooms_only_for_itself),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
