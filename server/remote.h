/*
 * remote: the carrier of a connection (conn.h) whose client is on another
 * node, served here because its room lives here (bus.h): what the room
 * sends it goes to the client's node through bus_deliver, and closing it
 * has that node close the client.
 *
 * Thread: the lws thread.
 */
#ifndef KAMRAT_REMOTE_H
#define KAMRAT_REMOTE_H

struct conn;
struct server;

/* A new remote connection; the bus fills its link (conn_bus_link). It is
 * freed after conn_close, once the caller is done, or by remote_drop. */
struct conn *remote_new(struct server *srv);

/* Free c now, sending nothing (its node is gone); its member is detached
 * as after a dropped connection. */
void remote_drop(struct conn *c);

#endif
