#include "wakepipe.h"

#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <unistd.h>

#include <cmocka.h>

static int fds[2];

void wakepipe_wake(void *arg)
{
    (void)arg;
    char c = 1;
    ssize_t n = write(fds[1], &c, 1);
    (void)n; /* a full pipe means a wake-up is pending anyway */
}

int wakepipe_open(void **state)
{
    (void)state;
    if (pipe(fds) < 0)
        return -1;
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    fcntl(fds[1], F_SETFL, O_NONBLOCK);
    return 0;
}

int wakepipe_close(void **state)
{
    (void)state;
    close(fds[0]);
    close(fds[1]);
    return 0;
}

void wakepipe_wait(void)
{
    struct pollfd p = {.fd = fds[0], .events = POLLIN};
    assert_int_equal(poll(&p, 1, 10000), 1);
    char buf[64];
    while (read(fds[0], buf, sizeof(buf)) > 0)
        ;
}

uint32_t wakepipe_wait_and_drain(struct authq *q)
{
    wakepipe_wait();
    return authq_drain(q);
}
