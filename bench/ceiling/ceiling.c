/*
 * ceiling.c - the smallest fan-out server the load generator can drive: what
 * the kernel allows on this machine, against which kamratd is measured.
 *
 * One thread, one level-triggered epoll loop, plain TCP on loopback.  It does
 * just enough of RFC 6455 for bench/loadgen (upgrade, masked client frames,
 * ping, close) and speaks the json adapter's room protocol:
 *
 *   -> {"type":"join","room":"r<N>","name":"..."}   <- {"type":"joined","room":"r<N>"}
 *   -> any other text message                       <- the same payload to every
 *                                                      member of the room, sender included
 *
 * Per chat message it builds one server frame (header + the unmasked payload)
 * and sends that same buffer to each member: no JSON, no TLS, no allocation
 * unless a member's socket is full (then the rest waits in its output buffer).
 * Membership is fixed: members are never removed from a room, a closed member
 * is skipped.  Not a server for anything but this benchmark.
 *
 * usage: ceiling PORT [ADDRESS]   (ADDRESS must be a loopback IPv4 address)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>

#define MAX_ROOMS 65536
#define IN_CAP (32 * 1024)
#define MAX_PAYLOAD (16 * 1024)

struct conn {
    int fd;
    int room; /* -1 until joined */
    int upgraded;
    int epout;
    uint8_t in[IN_CAP];
    size_t in_len;
    uint8_t *out; /* bytes the socket did not take yet */
    size_t out_len, out_cap;
};

struct room {
    struct conn **members;
    size_t count, cap;
};

static struct room rooms[MAX_ROOMS];
static int ep;
static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
    (void)sig;
    stop = 1;
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (!p) {
        perror("ceiling: realloc");
        exit(1);
    }
    return p;
}

static void set_epout(struct conn *c, int on)
{
    if (c->epout == on)
        return;
    struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
    c->epout = on;
}

static void conn_close(struct conn *c)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1; /* stays in its room (skipped) and is never freed: fixed membership */
    free(c->out);
    c->out = NULL;
    c->out_len = c->out_cap = 0;
}

/* Send p[0..n) after whatever is already waiting; keep what the socket refuses. */
static void conn_send(struct conn *c, const uint8_t *p, size_t n)
{
    if (c->fd < 0)
        return;
    size_t done = 0;
    if (c->out_len == 0) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && errno != EAGAIN && errno != EINTR) {
            conn_close(c);
            return;
        }
        done = w > 0 ? (size_t)w : 0;
        if (done == n)
            return;
    }
    if (c->out_len + n - done > c->out_cap) {
        c->out_cap = (c->out_len + n - done) * 2;
        c->out = xrealloc(c->out, c->out_cap);
    }
    memcpy(c->out + c->out_len, p + done, n - done);
    c->out_len += n - done;
    set_epout(c, 1);
}

static void on_writable(struct conn *c)
{
    ssize_t w = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0) {
        if (errno != EAGAIN && errno != EINTR)
            conn_close(c);
        return;
    }
    memmove(c->out, c->out + w, c->out_len - (size_t)w);
    c->out_len -= (size_t)w;
    if (c->out_len == 0)
        set_epout(c, 0);
}

/* Build a server (unmasked) frame into f; returns its length. */
static size_t make_frame(uint8_t *f, int opcode, const uint8_t *p, size_t n)
{
    size_t h = 0;
    f[h++] = (uint8_t)(0x80 | opcode);
    if (n < 126) {
        f[h++] = (uint8_t)n;
    } else {
        f[h++] = 126;
        f[h++] = (uint8_t)(n >> 8);
        f[h++] = (uint8_t)n;
    }
    memcpy(f + h, p, n);
    return h + n;
}

static const char *header(const char *req, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    for (const char *l = strstr(req, "\r\n"); l && l[2] != '\r'; l = strstr(l + 2, "\r\n")) {
        if (strncasecmp(l + 2, name, nl) == 0 && l[2 + nl] == ':') {
            const char *v = l + 3 + nl;
            while (*v == ' ')
                v++;
            *len = strcspn(v, "\r\n");
            return v;
        }
    }
    return NULL;
}

/* Answer the upgrade in c->in[0..end); returns -1 to drop the connection. */
static int upgrade(struct conn *c, size_t end)
{
    char req[4096], resp[512], key[128], accept[64];
    unsigned char sha[EVP_MAX_MD_SIZE];
    unsigned int shalen = 0;
    size_t kl = 0, pl = 0;
    if (end >= sizeof req)
        return -1;
    memcpy(req, c->in, end);
    req[end] = '\0';
    const char *k = header(req, "Sec-WebSocket-Key", &kl);
    const char *proto = header(req, "Sec-WebSocket-Protocol", &pl);
    if (!k || kl > 60)
        return -1;
    if (proto)
        pl = strcspn(proto, ", \r\n"); /* the first offered subprotocol */
    int n = snprintf(key, sizeof key, "%.*s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", (int)kl, k);
    EVP_Digest(key, (size_t)n, sha, &shalen, EVP_sha1(), NULL);
    EVP_EncodeBlock((unsigned char *)accept, sha, (int)shalen);
    n = snprintf(resp, sizeof resp,
                 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n%s%.*s%s\r\n",
                 accept, proto ? "Sec-WebSocket-Protocol: " : "", proto ? (int)pl : 0,
                 proto ? proto : "", proto ? "\r\n" : "");
    conn_send(c, (const uint8_t *)resp, (size_t)n);
    c->upgraded = 1;
    return 0;
}

static int join(struct conn *c, const uint8_t *p, size_t n)
{
    static const char tag[] = "\"room\":\"r";
    const uint8_t *r = memmem(p, n, tag, sizeof tag - 1);
    if (!r)
        return -1;
    char *end;
    long room = strtol((const char *)r + sizeof tag - 1, &end, 10);
    if (room < 0 || room >= MAX_ROOMS || *end != '"')
        return -1;
    struct room *rm = &rooms[room];
    if (rm->count == rm->cap) {
        rm->cap = rm->cap ? rm->cap * 2 : 16;
        rm->members = xrealloc(rm->members, rm->cap * sizeof(*rm->members));
    }
    rm->members[rm->count++] = c;
    c->room = (int)room;
    uint8_t f[64];
    char msg[48];
    int ml = snprintf(msg, sizeof msg, "{\"type\":\"joined\",\"room\":\"r%ld\"}", room);
    conn_send(c, f, make_frame(f, 1, (const uint8_t *)msg, (size_t)ml));
    return 0;
}

/* One complete client message: join, or fan out one pre-built frame. */
static int on_message(struct conn *c, const uint8_t *p, size_t n)
{
    if (c->room < 0)
        return join(c, p, n);
    static uint8_t frame[MAX_PAYLOAD + 4];
    size_t fl = make_frame(frame, 1, p, n);
    struct room *rm = &rooms[c->room];
    for (size_t i = 0; i < rm->count; i++)
        conn_send(rm->members[i], frame, fl);
    return 0;
}

/* Parse what c->in holds; returns -1 to drop the connection. */
static int process(struct conn *c)
{
    size_t off = 0;
    if (!c->upgraded) {
        uint8_t *e = memmem(c->in, c->in_len, "\r\n\r\n", 4);
        if (!e)
            return c->in_len == IN_CAP ? -1 : 0;
        off = (size_t)(e - c->in) + 4;
        if (upgrade(c, off) < 0)
            return -1;
    }
    while (c->fd >= 0 && c->in_len - off >= 2) {
        uint8_t *f = c->in + off;
        int fin = f[0] & 0x80, op = f[0] & 0x0f;
        size_t len = f[1] & 0x7f, hl = 2;
        if (!(f[1] & 0x80) || len == 127 || !fin)
            return -1; /* unmasked, huge or fragmented: not from our generator */
        if (len == 126) {
            if (c->in_len - off < 4)
                break;
            len = (size_t)f[2] << 8 | f[3];
            hl = 4;
        }
        if (len > MAX_PAYLOAD)
            return -1;
        if (c->in_len - off < hl + 4 + len)
            break;
        uint8_t *mask = f + hl, *p = f + hl + 4;
        for (size_t i = 0; i < len; i++)
            p[i] ^= mask[i & 3];
        off += hl + 4 + len;
        if (op == 0x8)
            return -1;
        if (op == 0x9) {
            uint8_t pong[MAX_PAYLOAD + 4];
            conn_send(c, pong, make_frame(pong, 0xA, p, len));
        } else if (op == 0x1 && on_message(c, p, len) < 0) {
            return -1;
        }
    }
    memmove(c->in, c->in + off, c->in_len - off);
    c->in_len -= off;
    return 0;
}

static void on_readable(struct conn *c)
{
    ssize_t r = recv(c->fd, c->in + c->in_len, IN_CAP - c->in_len, 0);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
        conn_close(c);
        return;
    }
    if (r < 0)
        return;
    c->in_len += (size_t)r;
    if (process(c) < 0 && c->fd >= 0)
        conn_close(c);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: ceiling PORT [ADDRESS]\n");
        return 64;
    }
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
    if (inet_pton(AF_INET, argc > 2 ? argv[2] : "127.0.0.1", &a.sin_addr) != 1 ||
        (ntohl(a.sin_addr.s_addr) >> 24) != 127) {
        fprintf(stderr, "ceiling: the address must be IPv4 loopback\n");
        return 64;
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_stop);
    signal(SIGINT, on_stop);

    int one = 1, lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 4096) < 0) {
        perror("ceiling: bind/listen");
        return 1;
    }
    ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
    fprintf(stderr, "ceiling: listening on %s:%s pid %d\n", argc > 2 ? argv[2] : "127.0.0.1",
            argv[1], (int)getpid());

    struct epoll_event ev[512];
    while (!stop) {
        int n = epoll_wait(ep, ev, 512, 1000);
        for (int i = 0; i < n; i++) {
            struct conn *c = ev[i].data.ptr;
            if (!c) {
                int fd;
                while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    c = calloc(1, sizeof *c);
                    if (!c)
                        return 1;
                    c->fd = fd;
                    c->room = -1;
                    struct epoll_event cev = {.events = EPOLLIN, .data.ptr = c};
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
                }
                continue;
            }
            if (c->fd >= 0 && (ev[i].events & EPOLLOUT))
                on_writable(c);
            if (c->fd >= 0 && (ev[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
                on_readable(c);
        }
    }
    return 0;
}
