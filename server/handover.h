/*
 * handover: a planned restart of a single node, in memory (protocol/README.md
 * §4 "After a restart", docs/admin.md "Upgrading").
 *
 * SIGUSR2 (systemctl reload) makes the running kamratd (the old process)
 * open a unix socket in the runtime directory ($RUNTIME_DIRECTORY, else the
 * data directory), mode 0600, and start the kamratd binary on disk (an
 * upgraded package's) with the same arguments and $KAMRAT_HANDOVER naming
 * the socket. The new process reads its configuration, connects, and gets
 * the listening sockets (SCM_RIGHTS), the format number and the hash key
 * (hmap.h). It answers yes, or no when the format is not its own (one log
 * line; it then starts afresh on the same sockets). On yes the old process
 * stops accepting, writes every room (room_handover_save) into the socket,
 * and closes every client with 1012; they resume on the new process, whose
 * kernel listen queue held them meanwhile. The new process says done once
 * it accepts (and has told systemd it is the main process now); the old one
 * exits. The state crosses only the socket: never a file, never another
 * program.
 *
 * The channel admits only a process of kamratd's own user (SO_PEERCRED);
 * another is refused and logged. If the new process exits before it takes
 * over (a bad binary, a bad configuration), the old one logs it and serves
 * on as if nothing had happened.
 *
 * Test hook: $KAMRAT_TEST_HANDOVER_FORMAT, read by the old process, is the
 * format number it announces, so a test can play an incompatible version.
 *
 * Thread: the loop's.
 */
#ifndef KAMRAT_HANDOVER_H
#define KAMRAT_HANDOVER_H

#include <stdbool.h>
#include <stddef.h>

#include "listener.h"

/* The format of what crosses the socket; a change that an older kamratd
 * could not read raises it. */
#define HANDOVER_FORMAT 1

struct server;
struct handover;

/* ---- the old process ---- */

/* SIGUSR2: start a handover (logged; nothing happens while one runs, while
 * draining, or with [cluster], whose rooms move through Redis). */
void handover_begin(struct server *srv);

/* SIGCHLD: reap the new process; if it went before taking over, give up
 * the handover and serve on. */
void handover_child_exited(struct server *srv);

/* Has the new process taken over, so this one may exit once its
 * connections have closed? */
bool handover_done(const struct server *srv);

/* ---- the new process ---- */

/*
 * Started by a handover ($KAMRAT_HANDOVER): connect, take the listening
 * sockets into fds[0..*n) and the hash key. Call first, before any hash
 * table is made. Returns 0 with *n = 0 when not started by a handover, 0
 * with the sockets (the state to come, or not when its format is another),
 * or -1 when the channel failed (logged; exit, and the old process serves
 * on).
 */
int handover_connect(struct server *srv, int fds[LISTENER_MAX], size_t *n);

/* With the rooms made: answer, and take the state into srv->rooms (or
 * decline it). Returns 0, or -1 when the state did not arrive whole (the
 * new process then serves with what arrived; logged). */
int handover_receive(struct server *srv);

/* Accepting now: tell systemd this is the main process, and the old one
 * that it may go. No-op when not started by a handover. */
void handover_finish(struct server *srv);

void handover_free(struct handover *h);

#endif
