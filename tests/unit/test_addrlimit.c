/* addrlimit: connections that are not WebSockets and WebSockets are counted
 * apart per address; an upgrade moves a slot; a refused upgrade changes
 * nothing; releasing frees the slot it held. The wsi pointers are only keys
 * here, never dereferenced. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "addrlimit.h"

static struct sockaddr_in v4(const char *ip)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    assert_int_equal(inet_pton(AF_INET, ip, &sa.sin_addr), 1);
    return sa;
}

static struct lws *fake_wsi(uintptr_t n)
{
    return (struct lws *)n;
}

/* Accept a connection from ip and bind it to wsi n; returns accept's answer. */
static int open_conn(struct addrlimit *al, const char *ip, uintptr_t n)
{
    struct sockaddr_in sa = v4(ip);
    int rc = addrlimit_accept(al, (const struct sockaddr *)&sa, sizeof(sa));
    if (rc == 0)
        addrlimit_bind(al, fake_wsi(n));
    return rc;
}

static void websockets_leave_http_slots_free(void **state)
{
    (void)state;
    struct addrlimit *al = addrlimit_new(2, 3);
    /* Three WebSockets, each a connection first, then upgraded. */
    for (uintptr_t n = 1; n <= 3; n++) {
        assert_int_equal(open_conn(al, "192.0.2.1", n), 0);
        assert_int_equal(addrlimit_upgrade(al, fake_wsi(n)), 0);
    }
    /* The two HTTP slots are still free: a browser's keep-alives fit. */
    assert_int_equal(open_conn(al, "192.0.2.1", 10), 0);
    assert_int_equal(open_conn(al, "192.0.2.1", 11), 0);
    assert_int_equal(open_conn(al, "192.0.2.1", 12), -1);
    assert_int_equal(addrlimit_total(al), 5);
    /* Another address has slots of its own. */
    assert_int_equal(open_conn(al, "192.0.2.2", 20), 0);
    addrlimit_free(al);
}

static void refused_upgrade_changes_nothing(void **state)
{
    (void)state;
    struct addrlimit *al = addrlimit_new(2, 1);
    assert_int_equal(open_conn(al, "192.0.2.1", 1), 0);
    assert_int_equal(addrlimit_upgrade(al, fake_wsi(1)), 0);
    assert_int_equal(open_conn(al, "192.0.2.1", 2), 0);
    assert_int_equal(addrlimit_upgrade(al, fake_wsi(2)), -1);
    /* wsi 2 still holds its HTTP slot: one more fits, then none. */
    assert_int_equal(open_conn(al, "192.0.2.1", 3), 0);
    assert_int_equal(open_conn(al, "192.0.2.1", 4), -1);
    /* The WebSocket closes: the upgrade now goes through, and frees an HTTP slot. */
    addrlimit_release(al, fake_wsi(1));
    assert_int_equal(addrlimit_upgrade(al, fake_wsi(2)), 0);
    assert_int_equal(open_conn(al, "192.0.2.1", 5), 0);
    /* Upgrading twice counts once. */
    assert_int_equal(addrlimit_upgrade(al, fake_wsi(2)), 0);
    assert_int_equal(addrlimit_total(al), 3);
    addrlimit_free(al);
}

static void release_frees_the_right_slot(void **state)
{
    (void)state;
    struct addrlimit *al = addrlimit_new(1, 1);
    assert_int_equal(open_conn(al, "192.0.2.1", 1), 0);
    assert_int_equal(addrlimit_upgrade(al, fake_wsi(1)), 0);
    assert_int_equal(open_conn(al, "192.0.2.1", 2), 0);
    addrlimit_release(al, fake_wsi(2)); /* the HTTP one */
    assert_int_equal(open_conn(al, "192.0.2.1", 3), 0);
    assert_int_equal(open_conn(al, "192.0.2.1", 4), -1);
    addrlimit_release(al, fake_wsi(1)); /* the WebSocket */
    addrlimit_release(al, fake_wsi(1)); /* twice: a no-op */
    assert_int_equal(addrlimit_upgrade(al, fake_wsi(3)), 0);
    addrlimit_release(al, fake_wsi(3));
    assert_int_equal(addrlimit_total(al), 0);
    /* An accept whose wsi never came is dropped by the next accept. */
    struct sockaddr_in sa = v4("192.0.2.1");
    assert_int_equal(addrlimit_accept(al, (const struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(addrlimit_accept(al, (const struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(addrlimit_total(al), 1);
    addrlimit_free(al);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(websockets_leave_http_slots_free),
        cmocka_unit_test(refused_upgrade_changes_nothing),
        cmocka_unit_test(release_frees_the_right_slot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
