/*
 * wakepipe: a stand-in for lws_cancel_service() in the authq and storeq tests. Workers
 * "wake the loop" by writing a byte to a pipe; the test polls the pipe as
 * lws polls its own, then drains the queue on the test's thread.
 */
#ifndef KAMRAT_TEST_WAKEPIPE_H
#define KAMRAT_TEST_WAKEPIPE_H

#include <stdint.h>

#include "authq.h"

/* The wake function to give authq_new (its argument is unused). */
void wakepipe_wake(void *arg);

/* cmocka setup and teardown: make and close the pipe. */
int wakepipe_open(void **state);
int wakepipe_close(void **state);

/* Wait (10 s at most, else the test fails) for a wake-up and empty the
 * pipe. */
void wakepipe_wait(void);

/* Wait (10 s at most, else the test fails) for a wake-up, then drain q.
 * Returns what authq_drain returned. */
uint32_t wakepipe_wait_and_drain(struct authq *q);

#endif
