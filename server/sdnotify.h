/*
 * sdnotify: tell systemd how the service is (sd_notify(3)'s protocol: one
 * datagram of "KEY=value" lines to $NOTIFY_SOCKET), without libsystemd: the
 * protocol is a stable interface of systemd, a few lines to speak.
 *
 * Thread: any; it keeps nothing.
 */
#ifndef KAMRAT_SDNOTIFY_H
#define KAMRAT_SDNOTIFY_H

/* Send state ("READY=1", "MAINPID=123\nREADY=1", "STOPPING=1"). Returns 0,
 * also when there is no $NOTIFY_SOCKET (not run by systemd's Type=notify),
 * or -1 when the datagram could not be sent. */
int sdnotify(const char *state);

#endif
