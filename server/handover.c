#include "handover.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ev.h>

#include "conn.h"
#include "evloop.h"
#include "hmap.h"
#include "klog.h"
#include "room.h"
#include "sdnotify.h"
#include "server.h"
#include "util.h"

#define HANDOVER_ENV "KAMRAT_HANDOVER"
#define HANDOVER_FORMAT_ENV "KAMRAT_TEST_HANDOVER_FORMAT"
#define SOCKET_NAME "kamratd.handover"
#define CONNECT_WAIT_SECS 30 /* the new process has this long to connect */
#define IO_TIMEOUT_SECS 10   /* a blocking read or write on the channel */
#define STATE_MAX ((uint64_t)1 << 32)

static const char MAGIC[8] = "KMRTHOV";

/* The first message, with the listening sockets beside it. */
struct header {
    char magic[8];
    uint32_t format;
    uint32_t nfds;
    uint64_t key[2]; /* hmap's: the recent message id digests were made with it */
};

enum stage {
    WAITING,   /* for the new process to connect */
    ANSWERING, /* the header went: yes or no to come */
    SENT,      /* the state went, or was declined: waiting for done */
    DONE,      /* the new process accepts: this one goes */
};

struct handover {
    struct server *srv;
    /* the old process */
    enum stage stage;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    ev_io listen_io; /* the channel's socket; fd -1 once closed */
    ev_io peer_io;   /* the new process; fd -1 while none */
    pid_t child;
    lws_sorted_usec_list_t deadline;
    uint64_t begun_ms;
    /* the new process */
    int chan;
    bool declined;
};

static struct ev_loop *ev_of(struct handover *h)
{
    return evloop_native(h->srv->loop);
}

static void io_timeouts(int fd)
{
    struct timeval tv = {.tv_sec = IO_TIMEOUT_SECS};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Write or read all n bytes (blocking, with io_timeouts). 0 or -1. */
static int write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static int read_all(int fd, void *buf, size_t n)
{
    char *p = buf;
    while (n) {
        ssize_t k = recv(fd, p, n, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static void close_channel(struct handover *h)
{
    if (h->listen_io.fd >= 0) {
        ev_io_stop(ev_of(h), &h->listen_io);
        close(h->listen_io.fd);
        unlink(h->path);
        h->listen_io.fd = -1;
    }
}

static void close_peer(struct handover *h)
{
    if (h->peer_io.fd >= 0) {
        ev_io_stop(ev_of(h), &h->peer_io);
        close(h->peer_io.fd);
        h->peer_io.fd = -1;
    }
}

void handover_free(struct handover *h)
{
    if (!h)
        return;
    lws_sul_cancel(&h->deadline);
    if (h->srv->loop) {
        close_channel(h);
        close_peer(h);
    }
    if (h->chan >= 0)
        close(h->chan);
    free(h);
}

/* Give up before the new process took anything over: serve on. */
static void give_up(struct handover *h, const char *why)
{
    klog_error("handover_failed reason=\"%s\" consequence=\"this process serves on\"", why);
    h->srv->handover = NULL;
    if (h->child > 0 && h->stage < SENT)
        kill(h->child, SIGTERM); /* it may still be starting; it must not serve too */
    handover_free(h);
}

static void overdue(lws_sorted_usec_list_t *sul)
{
    struct handover *h = lws_container_of(sul, struct handover, deadline);
    if (h->stage < SENT)
        give_up(h, "the new process did not take over in time");
}

/* The new process's done (or its end): this one may go. */
static void peer_done(struct ev_loop *ev, ev_io *w, int revents)
{
    (void)ev;
    (void)revents;
    struct handover *h = w->data;
    char c = 0;
    ssize_t k = recv(w->fd, &c, 1, 0);
    if (k < 0 && errno == EINTR)
        return;
    h->stage = DONE;
    close_peer(h);
    klog_info("handover_done accepted=%s", k == 1 && c == 'D' ? "yes" : "unknown");
}

/* The answer to the header: yes (send the state) or no. Either way this
 * process stops here: it accepts nothing more and closes every client with
 * 1012, after the state left when there is one, so nothing it acknowledged
 * can be missing from the new process. */
static void answered(struct ev_loop *ev, ev_io *w, int revents)
{
    (void)ev;
    (void)revents;
    struct handover *h = w->data;
    struct server *srv = h->srv;
    char c = 0;
    ssize_t k = recv(w->fd, &c, 1, 0);
    if (k < 0 && errno == EINTR)
        return;
    if (k != 1 || (c != 'Y' && c != 'N')) {
        give_up(h, "the new process went before it answered");
        return;
    }
    ev_io_stop(ev_of(h), w);
    listener_pause(srv->listener);
    size_t len = 0;
    int rooms = (int)room_count(srv->rooms);
    if (c == 'Y') {
        char *text = room_handover_save(srv->rooms, &len);
        uint64_t n = len;
        /* Only why, never the state: it holds message text. */
        const char *why = "encode";
        if (text && (write_all(w->fd, &n, sizeof(n)) < 0 || write_all(w->fd, text, len) < 0))
            why = strerror(errno);
        else if (text)
            why = NULL;
        if (text) {
            wipe(text, len); /* message text, names, the topic */
            free(text);
        }
        if (why) {
            /* Too late to serve on: the new process has the sockets, and
             * starts without these rooms. */
            klog_error("handover_state_failed reason=\"%s\"", why);
            rooms = 0;
        }
    } else {
        klog_warn("handover_declined consequence=\"the new process starts afresh: resumes fail "
                  "with server_restarted\"");
        rooms = 0;
    }
    room_let_go_all(srv->rooms, PROTO_CLOSE_RESTART, "restart");
    conn_close_all(&srv->conns, PROTO_CLOSE_RESTART);
    h->stage = SENT;
    lws_sul_cancel(&h->deadline);
    klog_info("handover_sent rooms=%d bytes=%zu ms=%llu", rooms, len,
              (unsigned long long)(util_now_ms() - h->begun_ms));
    ev_io_init(&h->peer_io, peer_done, w->fd, EV_READ);
    h->peer_io.data = h;
    ev_io_start(ev_of(h), &h->peer_io);
    server_stop(srv, PROTO_CLOSE_RESTART);
}

static uint32_t announced_format(void)
{
    const char *t = getenv(HANDOVER_FORMAT_ENV);
    return t && t[0] ? (uint32_t)strtoul(t, NULL, 10) : HANDOVER_FORMAT;
}

/* Send the header and the listening sockets. 0 or -1. */
static int send_header(struct handover *h, int fd)
{
    int fds[LISTENER_MAX];
    size_t n = listener_fds(h->srv->listener, fds);
    struct header hd = {.format = announced_format(), .nfds = (uint32_t)n};
    memcpy(hd.magic, MAGIC, sizeof(hd.magic));
    hmap_key(hd.key);
    union {
        char buf[CMSG_SPACE(sizeof(int) * LISTENER_MAX)];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof(u));
    struct iovec iov = {.iov_base = &hd, .iov_len = sizeof(hd)};
    struct msghdr msg = {.msg_iov = &iov,
                         .msg_iovlen = 1,
                         .msg_control = u.buf,
                         .msg_controllen = CMSG_SPACE(sizeof(int) * n)};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int) * n);
    memcpy(CMSG_DATA(cm), fds, sizeof(int) * n);
    ssize_t k = sendmsg(fd, &msg, MSG_NOSIGNAL);
    wipe(&hd, sizeof(hd));
    return k == (ssize_t)sizeof(hd) ? 0 : -1;
}

static void peer_arrived(struct ev_loop *ev, ev_io *w, int revents)
{
    (void)ev;
    (void)revents;
    struct handover *h = w->data;
    int fd = accept4(w->fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return;
    struct ucred cred;
    socklen_t cl = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0 || cred.uid != geteuid()) {
        klog_warn("handover_refused reason=\"a process of another user\" uid=%ld pid=%ld",
                  cl == sizeof(cred) ? (long)cred.uid : -1L,
                  cl == sizeof(cred) ? (long)cred.pid : -1L);
        close(fd);
        return;
    }
    close_channel(h); /* one taker: nobody else connects from now on */
    io_timeouts(fd);
    if (send_header(h, fd) < 0) {
        close(fd);
        give_up(h, "cannot send to the new process");
        return;
    }
    h->stage = ANSWERING;
    ev_io_init(&h->peer_io, answered, fd, EV_READ);
    h->peer_io.data = h;
    ev_io_start(ev_of(h), &h->peer_io);
}

/* The channel's socket, mode 0600, in the runtime directory. fd or -1. */
static int open_channel(struct handover *h)
{
    const char *dir = getenv("RUNTIME_DIRECTORY");
    char first[sizeof(h->path)];
    if (dir && dir[0]) { /* systemd's: the first of a colon-separated list */
        snprintf(first, sizeof(first), "%.*s", (int)strcspn(dir, ":"), dir);
        dir = first;
    } else {
        dir = h->srv->cfg->data_dir;
    }
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if ((size_t)snprintf(h->path, sizeof(h->path), "%s/%s", dir, SOCKET_NAME) >= sizeof(h->path))
        return -1;
    memcpy(sa.sun_path, h->path, strlen(h->path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    unlink(h->path); /* one a crash left */
    mode_t old = umask(0077);
    int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    umask(old);
    if (rc < 0 || chmod(h->path, 0600) < 0 || listen(fd, 4) < 0) {
        close(fd);
        unlink(h->path);
        return -1;
    }
    return fd;
}

/* The binary on disk: after a package upgrade /proc/self/exe names the
 * replaced file, "… (deleted)"; the path is the new one's. */
static int exe_path(char *out, size_t len)
{
    ssize_t n = readlink("/proc/self/exe", out, len - 1);
    if (n <= 0)
        return -1;
    out[n] = '\0';
    static const char deleted[] = " (deleted)";
    size_t d = sizeof(deleted) - 1;
    if ((size_t)n > d && strcmp(out + n - d, deleted) == 0)
        out[n - d] = '\0';
    return 0;
}

/* environ without $KAMRAT_HANDOVER, and with var ("KAMRAT_HANDOVER=…",
 * borrowed) instead. The caller frees the array, not its strings. */
static char **child_env(char *var)
{
    extern char **environ;
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = xcalloc(n + 2, sizeof(*env));
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], HANDOVER_ENV "=", sizeof(HANDOVER_ENV)) != 0)
            env[k++] = environ[i];
    env[k] = var;
    return env;
}

/* Start the binary; the child keeps only stdin, stdout and stderr. */
static pid_t spawn(struct server *srv, const char *exe, char **env)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int s = 1; s < NSIG; s++)
        signal(s, SIG_DFL);
    close_range(3, ~0U, 0);
    execve(exe, srv->argv, env);
    _exit(127);
}

void handover_begin(struct server *srv)
{
    if (srv->handover || srv->draining || srv->cluster || !srv->listener) {
        klog_warn("handover_not_started reason=\"%s\"",
                  srv->cluster    ? "with [cluster], rooms move through Redis"
                  : srv->draining ? "shutting down"
                                  : "one is running");
        return;
    }
    char exe[4096];
    struct handover *h = xcalloc(1, sizeof(*h));
    h->srv = srv;
    h->chan = -1;
    h->peer_io.fd = -1;
    h->begun_ms = util_now_ms();
    int fd = open_channel(h);
    if (fd < 0 || exe_path(exe, sizeof(exe)) < 0) {
        klog_error("handover_failed reason=\"cannot open %s: %s\"", h->path, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(h->path);
        }
        h->listen_io.fd = -1;
        handover_free(h);
        return;
    }
    ev_io_init(&h->listen_io, peer_arrived, fd, EV_READ);
    h->listen_io.data = h;
    ev_io_start(ev_of(h), &h->listen_io);
    char var[sizeof(HANDOVER_ENV "=") + sizeof(h->path)];
    snprintf(var, sizeof(var), "%s=%s", HANDOVER_ENV, h->path);
    char **env = child_env(var);
    h->child = spawn(srv, exe, env);
    free(env);
    srv->handover = h;
    if (h->child < 0) {
        give_up(h, "cannot start the new process");
        return;
    }
    lws_sul_schedule(srv->ctx, 0, &h->deadline, overdue,
                     (lws_usec_t)CONNECT_WAIT_SECS * LWS_US_PER_SEC);
    klog_info("handover_start pid=%ld binary=%s", (long)h->child, exe);
}

void handover_child_exited(struct server *srv)
{
    struct handover *h = srv->handover;
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if (!h || pid != h->child || h->stage >= SENT)
            continue;
        char why[96];
        snprintf(why, sizeof(why), "the new process exited (status %d) before it took over",
                 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        h->child = 0;
        give_up(h, why);
        h = NULL;
    }
}

bool handover_done(const struct server *srv)
{
    return !srv->handover || srv->handover->stage == DONE;
}

/* ---- the new process ---- */

/* Receive the header and the sockets. 0 or -1. */
static int recv_header(int fd, struct header *hd, int fds[LISTENER_MAX], size_t *n)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * LISTENER_MAX)];
        struct cmsghdr align;
    } u;
    struct iovec iov = {.iov_base = hd, .iov_len = sizeof(*hd)};
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
    ssize_t k = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | MSG_WAITALL);
    *n = 0;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); k > 0 && cm; cm = CMSG_NXTHDR(&msg, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
            continue;
        size_t got = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        int *in = (int *)(void *)CMSG_DATA(cm);
        for (size_t i = 0; i < got; i++) {
            if (*n < LISTENER_MAX)
                fds[(*n)++] = in[i];
            else
                close(in[i]);
        }
    }
    if (k != (ssize_t)sizeof(*hd) || memcmp(hd->magic, MAGIC, sizeof(MAGIC)) != 0 || !*n ||
        (msg.msg_flags & MSG_CTRUNC)) {
        for (size_t i = 0; i < *n; i++)
            close(fds[i]);
        *n = 0;
        return -1;
    }
    return 0;
}

int handover_connect(struct server *srv, int fds[LISTENER_MAX], size_t *n)
{
    *n = 0;
    const char *path = getenv(HANDOVER_ENV);
    if (!path)
        return 0;
    struct handover *h = xcalloc(1, sizeof(*h));
    h->srv = srv;
    h->chan = -1;
    h->listen_io.fd = h->peer_io.fd = -1;
    h->begun_ms = util_now_ms();
    srv->handover = h;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    unsetenv(HANDOVER_ENV); /* not for a handover this process starts in turn */
    struct header hd;
    h->chan = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (h->chan < 0 ||
        (io_timeouts(h->chan), connect(h->chan, (struct sockaddr *)&sa, sizeof(sa))) < 0 ||
        recv_header(h->chan, &hd, fds, n) < 0) {
        klog_error("handover_failed reason=\"no state from the running kamratd: %s\" "
                   "consequence=\"it serves on\"",
                   errno ? strerror(errno) : "a malformed message");
        return -1;
    }
    if (hd.format != HANDOVER_FORMAT) {
        klog_error("handover_refused reason=\"state format %u, this kamratd reads %u\" "
                   "consequence=\"a fresh start: the rooms and their messages are gone, "
                   "sessions come back as after a crash\"",
                   hd.format, HANDOVER_FORMAT);
        h->declined = true;
    } else {
        hmap_set_key(hd.key);
    }
    wipe(&hd, sizeof(hd));
    return 0;
}

int handover_receive(struct server *srv)
{
    struct handover *h = srv->handover;
    if (!h)
        return 0;
    char answer = h->declined ? 'N' : 'Y';
    uint64_t len = 0;
    if (write_all(h->chan, &answer, 1) < 0 || h->declined)
        return h->declined ? 0 : -1;
    if (read_all(h->chan, &len, sizeof(len)) < 0 || len > STATE_MAX) {
        klog_error("handover_state_failed reason=\"the state did not arrive\"");
        return -1;
    }
    char *text = xmalloc(len + 1);
    int rc = read_all(h->chan, text, len);
    int rooms = rc == 0 ? room_handover_load(srv->rooms, text, len) : -1;
    wipe(text, len);
    free(text);
    if (rooms < 0) {
        klog_error("handover_state_failed reason=\"the state did not arrive whole\"");
        return -1;
    }
    klog_info("handover_received rooms=%d bytes=%llu ms=%llu", rooms, (unsigned long long)len,
              (unsigned long long)(util_now_ms() - h->begun_ms));
    return 0;
}

void handover_finish(struct server *srv)
{
    struct handover *h = srv->handover;
    if (h) {
        /* NotifyAccess=all lets a process that is not (yet) the main one
         * say so; systemd then follows this PID, not the old one's. */
        char state[64];
        snprintf(state, sizeof(state), "MAINPID=%ld\nREADY=1", (long)getpid());
        if (sdnotify(state) < 0)
            klog_warn("sd_notify_failed");
        if (write_all(h->chan, "D", 1) < 0)
            klog_warn("handover_done_unsent");
        srv->handover = NULL;
        handover_free(h);
        klog_info("handover_accepting pid=%ld", (long)getpid());
        return;
    }
    if (sdnotify("READY=1") < 0)
        klog_warn("sd_notify_failed");
}
