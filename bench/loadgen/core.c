/*
 * core.c - kamrat fan-out load generator: one thread, one epoll loop, a
 * minimal RFC 6455 client, an open-loop publish schedule, and the report.
 *
 * Workload: `rooms` rooms of `members` members, one WebSocket connection per
 * member.  In each step every member publishes `rate` messages per second
 * (the whole population is served round-robin, so sends are evenly spread).
 * Each message body carries its *scheduled* send time, so a generator that
 * falls behind shows up as latency instead of hiding it (no coordinated
 * omission).  Receivers compare that time with CLOCK_MONOTONIC on arrival.
 *
 * Transport: plain TCP, or TLS with --tls (OpenSSL, non-blocking: the TLS
 * handshake runs in the same epoll loop; SSL_read/SSL_write replace recv/send).
 * --origin sends an Origin header and makes the Host header match it, for
 * servers that check both (kamratd).
 *
 * Join: by default --parallel connection attempts are kept in flight.  With
 * --join-window S the clients instead start their connections on a fixed
 * schedule spread evenly over S seconds (a join storm); each client's
 * handshake time is measured from its scheduled start to the moment it is
 * in its room (TCP connect, TLS, WebSocket upgrade, protocol join), so a
 * generator that falls behind shows up in the figure.
 *
 * Joiners: with --joiners N, N more clients connect during the first fixed
 * step, evenly over --joiner-window seconds from the start of its window,
 * while the rooms chat.  Each sends its join request (the adapter's on_open)
 * and waits for the answer: admitted (lg_joined), refused with an error code
 * (lg_refused), dropped (the connection failed first) or hung (no answer
 * within --joiner-timeout of its scheduled start).  That window lasts until
 * the last joiner has its answer or is hung, so its latency figures are the
 * chat's while joiners were in flight.  Joiners never publish and are not
 * retried.
 *
 * Output: one JSON object per line on stdout (kind = join | idle | step |
 * capacity | error); progress goes to stderr.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "hist.h"
#include "lg.h"

extern const struct lg_adapter *const lg_adapters[];

#define NS 1000000000ull
#define MAX_FRAME (1u << 20)
#define OUT_CAP (8u << 20)
#define MAX_PIDS 8
#define MAX_AOPT 16
#define MAX_LIST 8 /* --port and --rate lists */

enum cstate { C_NEW, C_CONNECTING, C_TLS, C_UPGRADING, C_JOINING, C_READY, C_DEAD };

/* What became of a joiner's join request (--joiners). */
enum jstate { J_WAITING, J_ADMITTED, J_REFUSED, J_DROPPED, J_HUNG, J_NSTATES };

#define MAX_CODES 8 /* distinct refusal codes reported; more go to "other" */
#define CODE_MAX 40

struct buf {
    uint8_t *p;
    size_t len, off, cap;
};

struct lg_conn {
    int fd, id, room, member, tries, epout, frag_op;
    int jidx; /* 0.. for a joiner, -1 for a member of the rooms */
    enum cstate st;
    enum jstate jst;
    uint8_t mask[4];
    struct buf in, out, frag;
    void *astate;
    SSL *ssl;
    /* join phases, ns since start: first attempt (or its scheduled time with
     * --join-window), then this attempt's connect(), TCP up, TLS up, upgraded */
    uint64_t t_first, t_connect, t_tcp, t_tls, t_ws;
};

static struct {
    const struct lg_adapter *ad;
    const char *host, *path, *subproto, *label;
    const char *origin, *host_hdr, *sni, *ca;
    int tls;
    double join_window;
    int ports[MAX_LIST], nports, rooms, members, body_size, parallel, max_steps, idle;
    const char *port_arg, *window_cmd;
    double rates[MAX_LIST];
    int nrates;
    double warmup, window, drain, settle, join_timeout, max_seconds, recover, short_overload;
    double search_start, search_warmup, search_window, p99_ms, resolution, min_complete;
    double search_min_deliv;
    int search, self_echo, extra_idle, repeat_disturbed;
    int joiners;
    double joiner_window, joiner_timeout;
    double disturbed_pct, steal_pct, others_pct;
    int repeat_failed;
    double search_seconds;
    pid_t pids[MAX_PIDS];
    int npids;
    const char *aopt_k[MAX_AOPT], *aopt_v[MAX_AOPT];
    int naopt;
    struct sockaddr_storage addr;
    socklen_t addrlen;
} cfg;

static struct {
    int ep, n, nact, per_pub; /* n clients; the first nact publish and receive */
    struct lg_conn *conns;
    int next_connect, inflight, ready, join_failed, lost;
    int *retry;
    int nretry;
    uint64_t t0, now, last_recv;
    uint64_t total_sent, total_recv, unknown, gen_drops;
    /* publisher */
    int pub_active;
    uint64_t pub_start, pub_end, pub_k, lag_max;
    double pub_interval;
    uint32_t seq;
    /* current step */
    int steps;
    uint64_t win_start, win_end;
    uint64_t recv_in_win, self_in_win, recv_of_win, sent_in_win;
    struct hist h;
    int fail_logs;
    /* join */
    uint64_t join_start, last_joined, storm_lag_max;
    int retries;
    struct hist hs, hs_tcp, hs_tls, hs_ws, hs_join;
    SSL_CTX *tls;
    /* joiners: jstart is when the first is due (0: not yet) */
    struct lg_conn *jconns;
    int jnext, jcount[J_NSTATES], jclosed, ncodes, code_n[MAX_CODES + 1];
    char codes[MAX_CODES][CODE_MAX + 1];
    uint64_t jstart, jlag_max;
    struct hist hj_hello, hj_answer; /* hello -> admitted; scheduled start -> any answer */
} g;

/* ---------------------------------------------------------------- utils */

static uint64_t mono_abs(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ns(void)
{
    return mono_abs() - g.t0;
}

static void die(const char *fmt, ...)
{
    va_list ap;
    char msg[512];
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "loadgen: %s\n", msg);
    printf("{\"kind\":\"error\",\"label\":\"%s\",\"adapter\":\"%s\",\"error\":\"%s\"}\n",
           cfg.label ? cfg.label : "", cfg.ad ? cfg.ad->name : "", msg);
    fflush(stdout);
    exit(2);
}

static void on_alarm(int sig)
{
    (void)sig;
    static const char m[] = "{\"kind\":\"error\",\"error\":\"max-seconds reached, stopped\"}\n";
    ssize_t w = write(1, m, sizeof m - 1);
    (void)w;
    _exit(3);
}

size_t lg_utoa(char *dst, unsigned v)
{
    char tmp[12];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        dst[i] = tmp[n - 1 - i];
    return n;
}

const char *lg_memmem(const void *hay, size_t hlen, const char *needle)
{
    return memmem(hay, hlen, needle, strlen(needle));
}

static void buf_reserve(struct buf *b, size_t extra)
{
    if (b->len + extra <= b->cap)
        return;
    if (b->off) { /* compact first */
        memmove(b->p, b->p + b->off, b->len - b->off);
        b->len -= b->off;
        b->off = 0;
        if (b->len + extra <= b->cap)
            return;
    }
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->len + extra)
        cap *= 2;
    b->p = realloc(b->p, cap);
    if (!b->p)
        die("out of memory");
    b->cap = cap;
}

static void buf_append(struct buf *b, const void *p, size_t n)
{
    buf_reserve(b, n);
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void buf_free(struct buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

static const char hexd[] = "0123456789abcdef";

static void put_hex(char *d, uint64_t v, int digits)
{
    for (int i = digits - 1; i >= 0; i--, v >>= 4)
        d[i] = hexd[v & 15];
}

static int get_hex(const char *s, int digits, uint64_t *out)
{
    uint64_t v = 0;
    for (int i = 0; i < digits; i++) {
        char ch = s[i];
        unsigned d;
        if (ch >= '0' && ch <= '9')
            d = (unsigned)(ch - '0');
        else if (ch >= 'a' && ch <= 'f')
            d = (unsigned)(ch - 'a' + 10);
        else
            return -1;
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}

/* Body: "LG1 " ts(16 hex, ns since start) ' ' sender(8 hex) ' ' seq(8 hex) ' ' then 'p' padding. */
#define BODY_HDR 38
static size_t make_body(char *b, uint64_t ts, uint32_t sender, uint32_t seq)
{
    memcpy(b, "LG1 ", 4);
    put_hex(b + 4, ts, 16);
    b[20] = ' ';
    put_hex(b + 21, sender, 8);
    b[29] = ' ';
    put_hex(b + 30, seq, 8);
    for (int i = BODY_HDR; i < cfg.body_size; i++)
        b[i] = i == BODY_HDR ? ' ' : 'p';
    return (size_t)cfg.body_size;
}

/* ------------------------------------------------------- server probes */

/* CPU seconds of one process, all threads: the sum of each thread's run time
 * in nanoseconds (schedstat field 1), since utime + stime in /proc/PID/stat
 * come in clock ticks (10 ms), which is several percent of a 5 s window at a
 * few percent of a core.  Falls back to the ticks without schedstat; 0 when
 * the process is gone. */
static double pid_cpu_s(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (d) {
        unsigned long long ns = 0;
        int tasks = 0;
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            char sp[300];
            snprintf(sp, sizeof sp, "/proc/%d/task/%s/schedstat", (int)pid, e->d_name);
            FILE *f = fopen(sp, "r");
            unsigned long long run;
            if (f && fscanf(f, "%llu", &run) == 1) {
                ns += run;
                tasks++;
            }
            if (f)
                fclose(f);
        }
        closedir(d);
        if (tasks)
            return (double)ns / 1e9;
    }
    char line[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    line[n] = 0;
    char *p = strrchr(line, ')');
    unsigned long ut = 0, st = 0;
    /* after ')' come field 3 (state) .. ; utime is field 14, stime 15 */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* The CPU seconds of every --server-pid (each[i], when each is not NULL) and their sum. */
static double srv_cpu_each(double *each)
{
    double total = 0;
    for (int i = 0; i < cfg.npids; i++) {
        double s = pid_cpu_s(cfg.pids[i]);
        if (each)
            each[i] = s;
        total += s;
    }
    return total;
}

static double srv_cpu_s(void)
{
    return srv_cpu_each(NULL);
}

static long srv_rss_kb(void)
{
    long total = 0;
    for (int i = 0; i < cfg.npids; i++) {
        char path[64], line[256];
        snprintf(path, sizeof path, "/proc/%d/status", (int)cfg.pids[i]);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        while (fgets(line, sizeof line, f))
            if (!strncmp(line, "VmRSS:", 6))
                total += atol(line + 6);
        fclose(f);
    }
    return total;
}

/* The generator's CPU seconds, user plus system; its user part into *user
 * when user is not NULL (the adapter and the core; the rest is the kernel). */
static double gen_cpu_s(double *user)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double u = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
    if (user)
        *user = u;
    return u + (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* Seconds a task spent runnable but waiting for its CPU (schedstat field 2).
 * With the server and the generator pinned to their own cores, this is time
 * other processes took from them: a disturbed step, not a slow server. */
static double runq_wait_s(const char *path)
{
    unsigned long long run = 0, wait = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    if (fscanf(f, "%llu %llu", &run, &wait) != 2)
        wait = 0;
    fclose(f);
    return (double)wait / 1e9;
}

static double srv_wait_s(void)
{
    double total = 0;
    for (int i = 0; i < cfg.npids; i++) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/schedstat", (int)cfg.pids[i]);
        total += runq_wait_s(path);
    }
    return total;
}

/* The machine's CPU time in seconds from /proc/stat's per-CPU lines, summed
 * over the online CPUs: `busy` is the wall-clock time of every CPU less its
 * idle, iowait and steal, and `steal` the time the hypervisor ran something
 * else while a vCPU wanted to run.  busy is not user + nice + system: those
 * come from the tick (250 Hz here), which under NO_HZ only lands on a CPU that
 * is awake, so a load of short wake-ups is counted by whole ticks, and a 5 s
 * window of a 2 % load read from 0.6 to 4.8 s of busy ticks against 1.9-2.2 s
 * of real busy time; idle is kept in nanoseconds from the idle entries and
 * exits.  busy includes irq and softirq time, as the server's and the
 * generator's run times (schedstat, getrusage) do on a kernel that does not
 * account irq time apart. */
struct machine {
    double busy, steal;
};

static struct machine machine_now(void)
{
    struct machine m = {0, 0};
    double hz = (double)sysconf(_SC_CLK_TCK);
    unsigned long long idle, iowait, steal, sum_idle = 0, sum_steal = 0;
    int cpus = 0;
    char line[512];
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return m;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "cpu", 3)) {
            if (cpus)
                break; /* past the CPUs: the rest (intr ...) is long */
            continue;
        }
        if (line[3] < '0' || line[3] > '9')
            continue; /* the summary line */
        if (sscanf(line, "cpu%*u %*u %*u %*u %llu %llu %*u %*u %llu", &idle, &iowait, &steal) ==
            3) {
            sum_idle += idle + iowait;
            sum_steal += steal;
            cpus++;
        }
    }
    fclose(f);
    m.steal = (double)sum_steal / hz;
    m.busy = (double)mono_abs() / NS * cpus - (double)sum_idle / hz - m.steal;
    return m;
}

/* What took CPU away from a window, in % of one core over the window. */
struct disturbance {
    double steal_pct, others_pct, srv_wait_pct, gen_wait_pct;
};

/* The readings at the start of a window. */
struct window_probe {
    struct machine m;
    double srv_wait, gen_wait;
};

static struct window_probe probe_start(void)
{
    return (struct window_probe){machine_now(), srv_wait_s(), runq_wait_s("/proc/self/schedstat")};
}

/* srv and gen: the CPU seconds the server(s) and the generator used in the
 * window; the rest of the machine's busy time is other processes'. */
static struct disturbance probe_end(const struct window_probe *p, double win, double srv,
                                    double gen)
{
    struct machine m = machine_now();
    double others = m.busy - p->m.busy - srv - gen;
    return (struct disturbance){
        .steal_pct = 100.0 * (m.steal - p->m.steal) / win,
        .others_pct = others > 0 ? 100.0 * others / win : 0,
        .srv_wait_pct = 100.0 * (srv_wait_s() - p->srv_wait) / win,
        .gen_wait_pct = 100.0 * (runq_wait_s("/proc/self/schedstat") - p->gen_wait) / win,
    };
}

/* Which of the thresholds a window crossed, as a JSON array of names into
 * out; returns whether any was crossed. */
static int disturbed_by(const struct disturbance *d, char *out, size_t cap)
{
    const struct {
        const char *name;
        double v, limit;
    } t[] = {{"steal", d->steal_pct, cfg.steal_pct},
             {"others", d->others_pct, cfg.others_pct},
             {"srv_runq", d->srv_wait_pct, cfg.disturbed_pct},
             {"gen_runq", d->gen_wait_pct, cfg.disturbed_pct}};
    size_t n = (size_t)snprintf(out, cap, "[");
    int any = 0;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        if (t[i].limit > 0 && t[i].v > t[i].limit && n < cap) {
            n += (size_t)snprintf(out + n, cap - n, "%s\"%s\"", any ? "," : "", t[i].name);
            any = 1;
        }
    }
    if (n < cap)
        snprintf(out + n, cap - n, "]");
    return any;
}

/* ------------------------------------------------ adapter-facing API */

int lg_room(const struct lg_conn *c)
{
    return c->room;
}
int lg_member(const struct lg_conn *c)
{
    return c->member;
}
int lg_id(const struct lg_conn *c)
{
    return c->id;
}
void *lg_state(struct lg_conn *c)
{
    return c->astate;
}

const char *lg_opt(const char *key, const char *def)
{
    for (int i = 0; i < cfg.naopt; i++)
        if (!strcmp(cfg.aopt_k[i], key))
            return cfg.aopt_v[i];
    return def;
}

static void set_epout(struct lg_conn *c, int on)
{
    if (c->epout == on)
        return;
    struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = c};
    epoll_ctl(g.ep, EPOLL_CTL_MOD, c->fd, &ev);
    c->epout = on;
}

/* ------------------------------------------------------------- TLS I/O */

static const char *tls_error(void)
{
    static char msg[160];
    unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (!e)
        return "TLS connection failed";
    ERR_error_string_n(e, msg, sizeof msg);
    return msg;
}

/* The reason of the last TLS failure reported as errno EPROTO. */
static char tls_failure[200];

/* Map an SSL_* result to the errno conventions of send/recv: > 0 is a byte
 * count, 0 is the peer's close (with or without close_notify), -1 with errno
 * EAGAIN means "try again when the socket is ready" (SSL_want_write() says
 * for which direction), -1 with EPROTO a TLS failure (see io_strerror). */
static ssize_t tls_result(struct lg_conn *c, int r)
{
    if (r > 0)
        return r;
    switch (SSL_get_error(c->ssl, r)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    case SSL_ERROR_SYSCALL:
        return errno == 0 ? 0 : -1;
    default:
        snprintf(tls_failure, sizeof tls_failure, "TLS: %s", tls_error());
        errno = EPROTO;
        return -1;
    }
}

static const char *io_strerror(const struct lg_conn *c, int err)
{
    return c->ssl && err == EPROTO ? tls_failure : strerror(err);
}

static ssize_t io_send(struct lg_conn *c, const void *p, size_t n)
{
    if (!c->ssl)
        return send(c->fd, p, n, MSG_NOSIGNAL);
    ERR_clear_error();
    errno = 0;
    return tls_result(c, SSL_write(c->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n));
}

static ssize_t io_recv(struct lg_conn *c, void *p, size_t n)
{
    if (!c->ssl)
        return recv(c->fd, p, n, 0);
    ERR_clear_error();
    errno = 0;
    return tls_result(c, SSL_read(c->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n));
}

static int flush_out(struct lg_conn *c)
{
    while (c->out.off < c->out.len) {
        ssize_t w = io_send(c, c->out.p + c->out.off, c->out.len - c->out.off);
        if (w <= 0) {
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0 && errno == EAGAIN) {
                /* TLS may want to read before it can write (it never does
                 * with TLS 1.3 in practice); the readable path retries. */
                if (!c->ssl || SSL_want_write(c->ssl))
                    set_epout(c, 1);
                return 0;
            }
            lg_fail(c, w == 0 ? "connection closed while writing" : io_strerror(c, errno));
            return -1;
        }
        c->out.off += (size_t)w;
    }
    c->out.off = c->out.len = 0;
    set_epout(c, 0);
    return 0;
}

int lg_send(struct lg_conn *c, int opcode, const void *data, size_t len)
{
    if (c->st != C_JOINING && c->st != C_READY)
        return -1;
    if (c->out.len - c->out.off > OUT_CAP) {
        g.gen_drops++;
        return -1;
    }
    uint8_t h[14];
    size_t hl = 0;
    h[hl++] = (uint8_t)(0x80 | (opcode & 0x0f));
    if (len < 126) {
        h[hl++] = (uint8_t)(0x80 | len);
    } else if (len < 65536) {
        h[hl++] = 0x80 | 126;
        h[hl++] = (uint8_t)(len >> 8);
        h[hl++] = (uint8_t)len;
    } else {
        h[hl++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            h[hl++] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    memcpy(h + hl, c->mask, 4);
    hl += 4;
    buf_reserve(&c->out, hl + len);
    uint8_t *d = c->out.p + c->out.len;
    memcpy(d, h, hl);
    d += hl;
    const uint8_t *s = data;
    for (size_t i = 0; i < len; i++)
        d[i] = s[i] ^ c->mask[i & 3];
    c->out.len += hl + len;
    if (c->epout)
        return 0; /* the socket is full: EPOLLOUT will flush */
    return flush_out(c);
}

/* Count a joiner's outcome once; the first one counts. */
static void joiner_settle(struct lg_conn *c, enum jstate st)
{
    if (c->jst != J_WAITING)
        return;
    c->jst = st;
    g.jcount[st]++;
    g.inflight--;
    uint64_t now = now_ns();
    if (st == J_ADMITTED || st == J_REFUSED)
        hist_add(&g.hj_answer, (now - c->t_first) / 1000);
    if (st == J_ADMITTED)
        hist_add(&g.hj_hello, (now - c->t_ws) / 1000);
}

static int joiners_settled(void)
{
    return g.jnext == cfg.joiners &&
           g.jcount[J_ADMITTED] + g.jcount[J_REFUSED] + g.jcount[J_DROPPED] == cfg.joiners;
}

void lg_joined(struct lg_conn *c)
{
    if (c->st != C_JOINING)
        return;
    if (c->jidx >= 0) { /* a joiner stays, idle, until the end of the run */
        c->st = C_READY;
        joiner_settle(c, J_ADMITTED);
        return;
    }
    c->st = C_READY;
    g.ready++;
    g.inflight--;
    uint64_t now = now_ns();
    g.last_joined = now;
    hist_add(&g.hs, (now - c->t_first) / 1000);
    hist_add(&g.hs_tcp, (c->t_tcp - c->t_connect) / 1000);
    if (c->ssl)
        hist_add(&g.hs_tls, (c->t_tls - c->t_tcp) / 1000);
    hist_add(&g.hs_ws, (c->t_ws - (c->ssl ? c->t_tls : c->t_tcp)) / 1000);
    hist_add(&g.hs_join, (now - c->t_ws) / 1000);
}

void lg_delivered(struct lg_conn *c, const char *body, size_t len)
{
    uint64_t ts, sender;
    if (len < BODY_HDR || memcmp(body, "LG1 ", 4) || get_hex(body + 4, 16, &ts) ||
        get_hex(body + 21, 8, &sender)) {
        g.unknown++;
        return;
    }
    g.total_recv++;
    g.last_recv = g.now;
    if (g.now >= g.win_start && g.now < g.win_end) {
        g.recv_in_win++;
        if (sender == (uint64_t)c->id)
            g.self_in_win++;
    }
    if (ts >= g.win_start && ts < g.win_end) {
        g.recv_of_win++;
        hist_add(&g.h, g.now > ts ? (g.now - ts) / 1000 : 0);
    }
}

/* Close c at once (a reset, no close handshake) and free what it holds. */
static void conn_close(struct lg_conn *c)
{
    epoll_ctl(g.ep, EPOLL_CTL_DEL, c->fd, NULL);
    if (c->ssl) {
        SSL_free(c->ssl); /* no close_notify: the connection is reset below */
        c->ssl = NULL;
    }
    struct linger lin = {1, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lin, sizeof lin);
    close(c->fd);
    c->fd = -1;
    c->st = C_DEAD;
    c->epout = 0;
    buf_free(&c->in);
    buf_free(&c->out);
    buf_free(&c->frag);
    if (cfg.ad->on_close)
        cfg.ad->on_close(c);
}

void lg_fail(struct lg_conn *c, const char *why)
{
    if (c->st == C_DEAD || c->st == C_NEW)
        return;
    if (g.fail_logs++ < 10)
        fprintf(stderr, "loadgen: conn %d (%s %d member %d): %s\n", c->id,
                c->jidx >= 0 ? "joiner" : "room", c->jidx >= 0 ? c->jidx : c->room, c->member, why);
    if (c->jidx >= 0) {
        if (c->jst == J_ADMITTED)
            g.jclosed++;
        joiner_settle(c, J_DROPPED);
    } else if (c->st == C_READY) {
        g.lost++;
        g.ready--;
    } else {
        g.inflight--;
        if (++c->tries < 3) {
            g.retry[g.nretry++] = c->id;
            g.retries++;
        } else
            g.join_failed++;
    }
    conn_close(c);
}

void lg_refused(struct lg_conn *c, const char *code, size_t len)
{
    if (c->jidx < 0 || c->jst != J_WAITING) {
        char why[80];
        snprintf(why, sizeof why, "refused: %.*s", (int)(len < CODE_MAX ? len : CODE_MAX), code);
        lg_fail(c, why);
        return;
    }
    if (len > CODE_MAX)
        len = CODE_MAX;
    int i = 0;
    while (i < g.ncodes && (strlen(g.codes[i]) != len || memcmp(g.codes[i], code, len)))
        i++;
    if (i == g.ncodes && g.ncodes < MAX_CODES) {
        memcpy(g.codes[i], code, len);
        g.codes[i][len] = 0;
        g.ncodes++;
    }
    g.code_n[i]++; /* code_n[MAX_CODES]: the codes past the table */
    joiner_settle(c, J_REFUSED);
    conn_close(c);
}

int lg_joiner(const struct lg_conn *c)
{
    return c->jidx;
}

/* -------------------------------------------------- WebSocket client */

/* Member m of every room connects to the (m mod nports)-th --port: with the
 * nodes of one cluster as the ports, every room has members on every node. */
static int conn_port(const struct lg_conn *c)
{
    return cfg.ports[c->member % cfg.nports];
}

static void set_port(struct sockaddr_storage *a, int port)
{
    if (a->ss_family == AF_INET)
        ((struct sockaddr_in *)a)->sin_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in6 *)a)->sin6_port = htons((uint16_t)port);
}

static void start_connect(struct lg_conn *c)
{
    c->st = C_CONNECTING;
    c->epout = 1;
    c->t_connect = now_ns();
    if (c->tries == 0 && cfg.join_window <= 0 && c->jidx < 0)
        c->t_first = c->t_connect; /* with --join-window, and joiners: the scheduled start */
    memset(c->astate, 0, cfg.ad->state_size);
    uint32_t m = (uint32_t)rand();
    memcpy(c->mask, &m, 4);
    g.inflight++;
    struct sockaddr_storage addr = cfg.addr;
    set_port(&addr, conn_port(c));
    c->fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        die("socket: %s (raise ulimit -n)", strerror(errno));
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
    epoll_ctl(g.ep, EPOLL_CTL_ADD, c->fd, &ev);
    if (connect(c->fd, (struct sockaddr *)&addr, cfg.addrlen) < 0 && errno != EINPROGRESS)
        lg_fail(c, strerror(errno));
}

static void tls_handshake(struct lg_conn *c);
static void send_upgrade(struct lg_conn *c);

static void connect_done(struct lg_conn *c)
{
    int err = 0;
    socklen_t el = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
    if (err) {
        lg_fail(c, strerror(err));
        return;
    }
    c->t_tcp = now_ns();
    if (cfg.tls) {
        c->ssl = SSL_new(g.tls);
        if (!c->ssl || !SSL_set_fd(c->ssl, c->fd))
            die("SSL_new: %s", tls_error());
        SSL_set_tlsext_host_name(c->ssl, cfg.sni);
        if (cfg.ca)
            SSL_set1_host(c->ssl, cfg.sni);
        SSL_set_connect_state(c->ssl);
        c->st = C_TLS;
        tls_handshake(c);
        return;
    }
    send_upgrade(c);
}

/* Drive the TLS handshake; once it is done, send the upgrade request. */
static void tls_handshake(struct lg_conn *c)
{
    ERR_clear_error();
    int r = SSL_do_handshake(c->ssl);
    if (r == 1) {
        c->t_tls = now_ns();
        send_upgrade(c);
        return;
    }
    switch (SSL_get_error(c->ssl, r)) {
    case SSL_ERROR_WANT_READ:
        set_epout(c, 0);
        break;
    case SSL_ERROR_WANT_WRITE:
        set_epout(c, 1);
        break;
    default: {
        char why[200];
        snprintf(why, sizeof why, "TLS handshake: %s", tls_error());
        lg_fail(c, why);
    }
    }
}

static void send_upgrade(struct lg_conn *c)
{
    char req[1024], host[300], origin[300] = "";
    if (cfg.host_hdr)
        snprintf(host, sizeof host, "%s", cfg.host_hdr);
    else
        snprintf(host, sizeof host, "%s:%d", cfg.host, conn_port(c));
    if (cfg.origin)
        snprintf(origin, sizeof origin, "Origin: %s\r\n", cfg.origin);
    int n =
        snprintf(req, sizeof req,
                 "GET %s HTTP/1.1\r\nHost: %s\r\n%sUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Key: a2FtcmF0LWxvYWRnZW4hIQ==\r\nSec-WebSocket-Version: 13\r\n"
                 "%s%s%s\r\n",
                 cfg.path, host, origin, cfg.subproto ? "Sec-WebSocket-Protocol: " : "",
                 cfg.subproto ? cfg.subproto : "", cfg.subproto ? "\r\n" : "");
    c->st = C_UPGRADING;
    buf_append(&c->out, req, (size_t)n);
    c->epout = 1; /* force the MOD in flush_out */
    flush_out(c);
}

static void deliver(struct lg_conn *c, int op, const uint8_t *p, size_t len)
{
    if (cfg.ad->on_message(c, op, p, len) != 0)
        lg_fail(c, "adapter rejected a message");
}

/* Consume what we can of p[0..n); return bytes consumed. */
static size_t process(struct lg_conn *c, uint8_t *p, size_t n)
{
    size_t off = 0;
    if (c->st == C_UPGRADING) {
        const char *e = lg_memmem(p, n, "\r\n\r\n");
        if (!e) {
            if (n > 16384)
                lg_fail(c, "oversize upgrade response");
            return 0;
        }
        if (n < 12 || memcmp(p, "HTTP/1.1 101", 12)) {
            char line[128];
            size_t l = strcspn((const char *)p, "\r\n");
            snprintf(line, sizeof line, "upgrade refused: %.*s", (int)(l < 100 ? l : 100), p);
            lg_fail(c, line);
            return n;
        }
        off = (size_t)(e - (const char *)p) + 4;
        c->st = C_JOINING;
        c->t_ws = now_ns();
        if (cfg.ad->on_open(c) != 0) {
            lg_fail(c, "adapter on_open failed");
            return n;
        }
    }
    while (c->st == C_JOINING || c->st == C_READY) {
        size_t avail = n - off;
        if (avail < 2)
            break;
        uint8_t *f = p + off;
        int fin = f[0] & 0x80, op = f[0] & 0x0f, masked = f[1] & 0x80;
        uint64_t len = f[1] & 0x7f;
        size_t hl = 2;
        if (len == 126) {
            if (avail < 4)
                break;
            len = (uint64_t)f[2] << 8 | f[3];
            hl = 4;
        } else if (len == 127) {
            if (avail < 10)
                break;
            len = 0;
            for (int i = 0; i < 8; i++)
                len = len << 8 | f[2 + i];
            hl = 10;
        }
        if (len > MAX_FRAME) {
            lg_fail(c, "frame too large");
            return n;
        }
        if (masked)
            hl += 4;
        if (avail < hl + len)
            break;
        uint8_t *pl = f + hl;
        if (masked)
            for (size_t i = 0; i < len; i++)
                pl[i] ^= f[hl - 4 + (i & 3)];
        off += hl + (size_t)len;
        switch (op) {
        case 0x8: {
            char why[160] = "server sent close";
            if (len >= 2)
                snprintf(why, sizeof why, "server sent close %u %.*s", pl[0] << 8 | pl[1],
                         (int)(len - 2 < 100 ? len - 2 : 100), (const char *)pl + 2);
            lg_fail(c, why);
            return n;
        }
        case 0x9:
            lg_send(c, 0xA, pl, (size_t)len);
            break;
        case 0xA:
            break;
        case 0x0:
            buf_append(&c->frag, pl, (size_t)len);
            if (fin) {
                deliver(c, c->frag_op, c->frag.p, c->frag.len);
                c->frag.len = 0;
            }
            break;
        case 0x1:
        case 0x2:
            if (fin) {
                deliver(c, op, pl, (size_t)len);
            } else {
                c->frag_op = op;
                c->frag.len = 0;
                buf_append(&c->frag, pl, (size_t)len);
            }
            break;
        default:
            lg_fail(c, "unknown opcode");
            return n;
        }
    }
    return off;
}

static uint8_t rbig[1 << 18];

/* One read and the processing of what it brought.  Returns 1 when bytes
 * were processed, 0 when the socket had nothing, -1 when c died. */
static int read_once(struct lg_conn *c)
{
    uint8_t *base;
    size_t have;
    ssize_t r;
    if (c->in.len == 0) {
        r = io_recv(c, rbig, sizeof rbig);
        base = rbig;
        have = 0;
    } else {
        buf_reserve(&c->in, 1 << 16);
        r = io_recv(c, c->in.p + c->in.len, c->in.cap - c->in.len);
        base = c->in.p;
        have = c->in.len;
    }
    if (r == 0) {
        lg_fail(c, "server closed the connection");
        return -1;
    }
    if (r < 0) {
        if (errno != EAGAIN && errno != EINTR) {
            lg_fail(c, io_strerror(c, errno));
            return -1;
        }
        return 0;
    }
    g.now = now_ns();
    size_t total = have + (size_t)r;
    size_t used = process(c, base, total);
    if (c->st == C_DEAD)
        return -1;
    if (base == rbig) {
        if (used < total)
            buf_append(&c->in, rbig + used, total - used);
    } else if (used) {
        memmove(c->in.p, c->in.p + used, total - used);
        c->in.len = total - used;
    } else {
        c->in.len = total;
    }
    return 1;
}

static void on_readable(struct lg_conn *c)
{
    if (!c->ssl) {
        read_once(c); /* level-triggered: epoll reports what is left */
        return;
    }
    /* OpenSSL may hold decrypted bytes that epoll cannot see: read until
     * it needs the socket again, then retry a write that waited for a read. */
    while (read_once(c) > 0)
        ;
    if (c->st != C_DEAD && c->out.off < c->out.len && !c->epout)
        flush_out(c);
}

/* -------------------------------------------------------- event loop */

/* With --join-window: when client i is due to start connecting. */
static uint64_t storm_due(int i)
{
    return g.join_start + (uint64_t)(cfg.join_window * (double)NS * i / g.n);
}

/* When joiner i is due to start connecting (g.jstart set). */
static uint64_t joiner_due(int i)
{
    return g.jstart + (uint64_t)(cfg.joiner_window * (double)NS * i / cfg.joiners);
}

static void start_connects(void)
{
    while (g.jstart && g.jnext < cfg.joiners && joiner_due(g.jnext) <= g.now) {
        struct lg_conn *c = &g.jconns[g.jnext];
        c->t_first = joiner_due(g.jnext++);
        if (g.now - c->t_first > g.jlag_max)
            g.jlag_max = g.now - c->t_first;
        start_connect(c);
    }
    if (cfg.join_window > 0) {
        while (g.nretry)
            start_connect(&g.conns[g.retry[--g.nretry]]);
        while (g.next_connect < g.n && storm_due(g.next_connect) <= g.now) {
            struct lg_conn *c = &g.conns[g.next_connect];
            c->t_first = storm_due(g.next_connect++);
            if (g.now - c->t_first > g.storm_lag_max)
                g.storm_lag_max = g.now - c->t_first;
            start_connect(c);
        }
        return;
    }
    while (g.inflight < cfg.parallel && (g.nretry || g.next_connect < g.n)) {
        int id = g.nretry ? g.retry[--g.nretry] : g.next_connect++;
        start_connect(&g.conns[id]);
    }
}

static void run_publisher(void)
{
    int burst = 0;
    while (g.pub_active) {
        uint64_t due = g.pub_start + (uint64_t)((double)g.pub_k * g.pub_interval);
        if (due >= g.pub_end) {
            g.pub_active = 0;
            break;
        }
        if (due > g.now || burst++ >= 512)
            break;
        struct lg_conn *c = &g.conns[g.pub_k % (uint64_t)g.nact];
        g.pub_k++;
        if (c->st != C_READY)
            continue;
        char body[4096];
        size_t bl = make_body(body, due, (uint32_t)c->id, g.seq++);
        if (g.now - due > g.lag_max && due >= g.win_start)
            g.lag_max = g.now - due;
        if (cfg.ad->publish(c, body, bl) == 0) {
            g.total_sent++;
            if (due >= g.win_start && due < g.win_end)
                g.sent_in_win++;
        }
    }
}

static void loop_once(uint64_t wait)
{
    struct epoll_event ev[512];
    struct timespec ts = {.tv_sec = (time_t)(wait / NS), .tv_nsec = (long)(wait % NS)};
    int n = epoll_pwait2(g.ep, ev, 512, &ts, NULL);
    if (n < 0 && errno != EINTR)
        die("epoll: %s", strerror(errno));
    g.now = now_ns();
    for (int i = 0; i < n; i++) {
        struct lg_conn *c = ev[i].data.ptr;
        if (c->st == C_DEAD)
            continue;
        if (c->st == C_CONNECTING) {
            connect_done(c);
            continue;
        }
        if (c->st == C_TLS) {
            tls_handshake(c);
            continue;
        }
        if (ev[i].events & EPOLLOUT)
            flush_out(c);
        if (c->st != C_DEAD && (ev[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
            on_readable(c);
    }
    g.now = now_ns();
    run_publisher();
    start_connects();
}

static void loop_until(uint64_t deadline, int (*done)(void))
{
    for (;;) {
        g.now = now_ns();
        if (g.now >= deadline || (done && done()))
            return;
        uint64_t wait = deadline - g.now;
        if (cfg.join_window > 0 && g.next_connect < g.n) {
            uint64_t due = storm_due(g.next_connect);
            uint64_t w = due > g.now ? due - g.now : 0;
            if (w < wait)
                wait = w;
        }
        if (g.jstart && g.jnext < cfg.joiners) {
            uint64_t due = joiner_due(g.jnext);
            uint64_t w = due > g.now ? due - g.now : 0;
            if (w < wait)
                wait = w;
        }
        if (g.pub_active) {
            uint64_t due = g.pub_start + (uint64_t)((double)g.pub_k * g.pub_interval);
            uint64_t w = due > g.now ? due - g.now : 0;
            if (w < wait)
                wait = w;
        }
        if (wait > 50000000)
            wait = 50000000;
        loop_once(wait);
    }
}

static int all_settled(void)
{
    return g.ready + g.join_failed + g.lost >= g.n && !g.nretry;
}

static int64_t outstanding(void)
{
    return (int64_t)(g.total_sent * (uint64_t)g.per_pub) - (int64_t)g.total_recv;
}

static int64_t out_base; /* deliveries missing before this step began (lost earlier) */

/* Everything sent has arrived, or nothing arrived for 1 s (what is missing is
 * lost, not late).  A step that ends with neither still has a server backlog. */
static int drained(void)
{
    if (g.pub_active)
        return 0;
    if (outstanding() - out_base <= 0)
        return 1;
    return g.now > g.last_recv + NS && g.now > g.win_end + NS;
}

/* --------------------------------------------------------------- steps */

struct step {
    double rate, p99_ms;
    int pass, drained, disturbed;
};

static void json_common(const char *kind)
{
    printf("{\"kind\":\"%s\",\"label\":\"%s\",\"adapter\":\"%s\",\"rooms\":%d,\"members\":%d,"
           "\"clients\":%d",
           kind, cfg.label, cfg.ad->name, cfg.rooms, cfg.members, g.n);
    if (g.n > g.nact)
        printf(",\"extra_idle\":%d", g.n - g.nact);
}

/* --window-cmd: run it (sh -c, in the background, never waited for) at an
 * edge of a step's window, with LG_STEP (1, 2, ... in the order of the step
 * lines on stdout), LG_KIND and LG_EDGE (start or end) in its environment:
 * for figures only the servers know, such as the bytes between the nodes of
 * a cluster.  The command runs on the generator's core, not the servers'. */
static void window_cmd(const char *kind, const char *edge)
{
    if (!cfg.window_cmd)
        return;
    char step[16];
    snprintf(step, sizeof step, "%d", g.steps);
    setenv("LG_STEP", step, 1);
    setenv("LG_KIND", kind, 1);
    setenv("LG_EDGE", edge, 1);
    char *argv[] = {"sh", "-c", (char *)cfg.window_cmd, NULL};
    pid_t pid;
    int err = posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ);
    if (err)
        fprintf(stderr, "loadgen: --window-cmd: %s\n", strerror(err));
}

/* The joiners' record: what became of them, how long their answers took. */
static void json_joiners(void)
{
    json_common("joiners");
    printf(",\"joiners\":%d,\"joiner_window_s\":%.2f,\"joiner_timeout_s\":%.1f,\"admitted\":%d,"
           "\"refused\":%d,\"dropped\":%d,\"hung\":%d,\"not_started\":%d,"
           "\"closed_after_admitted\":%d,\"codes\":{",
           cfg.joiners, cfg.joiner_window, cfg.joiner_timeout, g.jcount[J_ADMITTED],
           g.jcount[J_REFUSED], g.jcount[J_DROPPED], g.jcount[J_HUNG], cfg.joiners - g.jnext,
           g.jclosed);
    for (int i = 0; i < g.ncodes; i++)
        printf("%s\"%s\":%d", i ? "," : "", g.codes[i], g.code_n[i]);
    if (g.code_n[MAX_CODES])
        printf("%s\"other\":%d", g.ncodes ? "," : "", g.code_n[MAX_CODES]);
    printf("},\"hello_admitted_p50_ms\":%.3f,\"hello_admitted_p99_ms\":%.3f,"
           "\"hello_admitted_max_ms\":%.3f,\"answer_p50_ms\":%.3f,\"answer_p99_ms\":%.3f,"
           "\"answer_max_ms\":%.3f,\"start_lag_max_ms\":%.3f}\n",
           hist_pct(&g.hj_hello, 0.50) / 1000.0, hist_pct(&g.hj_hello, 0.99) / 1000.0,
           g.hj_hello.max_us / 1000.0, hist_pct(&g.hj_answer, 0.50) / 1000.0,
           hist_pct(&g.hj_answer, 0.99) / 1000.0, g.hj_answer.max_us / 1000.0, g.jlag_max / 1e6);
}

/* The "[a,b,...]" of n seconds, into out (cap bytes). */
static const char *json_secs(char *out, size_t cap, const double *v, int n)
{
    size_t len = (size_t)snprintf(out, cap, "[");
    for (int i = 0; i < n && len < cap; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s%.2f", i ? "," : "", v[i]);
    if (len < cap)
        snprintf(out + len, cap - len, "]");
    return out;
}

/* One step at `rate` msgs/s per member: warm-up, the measured window, the
 * drain; its JSON line on stdout.  attempt: 1, or 2.. for a repeat of the
 * same rate (the search's). */
static struct step run_step(const char *kind, double rate, double warm, double win, int attempt)
{
    g.h.n = 0;
    hist_reset(&g.h);
    g.recv_in_win = g.self_in_win = g.recv_of_win = g.sent_in_win = 0;
    g.lag_max = 0;
    out_base = outstanding() > 0 ? outstanding() : 0;
    g.now = now_ns();
    g.pub_start = g.now + NS / 100;
    g.pub_interval = (double)NS / (rate * g.nact);
    g.pub_k = 0;
    g.win_start = g.pub_start + (uint64_t)(warm * NS);
    g.win_end = g.win_start + (uint64_t)(win * NS);
    /* The joiners come in the first fixed step; its window ends when the
     * last of them has its answer (at the latest when the last is hung). */
    int storm = cfg.joiners > 0 && !g.jstart && !strcmp(kind, "fixed");
    uint64_t win_min = g.win_end;
    if (storm) {
        uint64_t last = g.win_start + (uint64_t)((cfg.joiner_window + cfg.joiner_timeout) * NS);
        if (last > g.win_end)
            g.win_end = last;
    }
    g.pub_end = g.win_end;
    g.pub_active = 1;
    uint64_t drops0 = g.gen_drops;
    int lost0 = g.lost;
    fprintf(stderr, "loadgen: %s step: %.3f msg/s per member (%.0f publishes/s), %.0fs+%.0fs\n",
            kind, rate, rate * g.nact, warm, win);

    g.steps++;
    loop_until(g.win_start, NULL);
    double each[MAX_PIDS], each0[MAX_PIDS];
    double cu0, cu1;
    double s0 = srv_cpu_each(each0), c0 = gen_cpu_s(&cu0);
    struct window_probe probe = probe_start();
    window_cmd(kind, "start");
    if (storm) {
        g.jstart = g.win_start;
        loop_until(win_min, NULL);
        loop_until(g.win_end, joiners_settled);
        if (g.now < g.win_end) /* the publisher stops at the new end */
            g.win_end = g.pub_end = g.now;
        win = (double)(g.win_end - g.win_start) / NS;
        for (int i = 0; i < cfg.joiners; i++) {
            struct lg_conn *c = &g.jconns[i];
            if (i < g.jnext && c->jst == J_WAITING) {
                joiner_settle(c, J_HUNG);
                if (c->st != C_DEAD)
                    conn_close(c);
            }
        }
    } else {
        loop_until(g.win_end, NULL);
    }
    double s1 = srv_cpu_each(each), c1 = gen_cpu_s(&cu1);
    struct disturbance dist = probe_end(&probe, win, s1 - s0, c1 - c0);
    window_cmd(kind, "end");
    for (int i = 0; i < cfg.npids; i++)
        each[i] -= each0[i];
    char why[64];
    int disturbed = disturbed_by(&dist, why, sizeof why);
    long rss = srv_rss_kb();
    loop_until(g.win_end + (uint64_t)(cfg.drain * NS), drained);
    int is_drained = drained();

    double expected = (double)g.sent_in_win * g.per_pub;
    double complete = expected > 0 ? 100.0 * (double)g.recv_of_win / expected : 0;
    double p99 = hist_pct(&g.h, 0.99) / 1000.0;
    double srv = s1 - s0;
    struct step r = {.rate = rate, .p99_ms = p99, .drained = is_drained, .disturbed = disturbed};
    r.pass = p99 < cfg.p99_ms && complete >= cfg.min_complete && g.lost == lost0 &&
             g.gen_drops == drops0 && g.recv_of_win > 0;

    char each_json[16 * MAX_PIDS + 4];
    json_common(kind);
    printf(
        ",\"rate_per_member\":%.4g,\"offered_pub_s\":%.1f,\"offered_deliv_s\":%.1f,"
        "\"window_s\":%.1f,\"warmup_s\":%.1f,\"delivered_s\":%.1f,\"delivered_to_others_s\":%.1f,"
        "\"self_echo\":%s,\"complete_pct\":%.3f,\"latency_samples\":%llu,"
        "\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f,"
        "\"mean_ms\":%.3f,\"srv_cpu_s\":%.2f,\"srv_cpu_s_each\":%s,\"srv_cpu_pct\":%.1f,"
        "\"srv_cpu_s_per_M\":%.2f,"
        "\"srv_rss_kb\":%ld,\"gen_cpu_pct\":%.1f,\"gen_lag_max_ms\":%.3f,\"gen_drops\":%llu,"
        "\"lost_conns\":%d,\"lost_msgs\":%.0f,\"unknown_msgs\":%llu,\"srv_runq_wait_pct\":%.1f,"
        "\"gen_runq_wait_pct\":%.1f,\"steal_pct\":%.1f,\"others_cpu_pct\":%.1f,"
        "\"gen_user_pct\":%.1f,\"gen_cpu_s_per_M\":%.2f,\"attempt\":%d,\"disturbed_by\":%s,"
        "\"disturbed\":%s,\"drained\":%s,\"gen_bound\":%s,\"pass\":%s}\n",
        rate, rate * g.nact, rate * g.nact * g.per_pub, win, warm, (double)g.recv_in_win / win,
        (double)(g.recv_in_win - g.self_in_win) / win, g.self_in_win ? "true" : "false", complete,
        (unsigned long long)g.h.n, hist_pct(&g.h, 0.50) / 1000.0, hist_pct(&g.h, 0.90) / 1000.0,
        p99, hist_pct(&g.h, 0.999) / 1000.0, g.h.max_us / 1000.0,
        g.h.n ? (double)g.h.sum_us / (double)g.h.n / 1000.0 : 0.0, srv,
        json_secs(each_json, sizeof each_json, each, cfg.npids), 100.0 * srv / win,
        g.recv_in_win ? srv * 1e6 / (double)g.recv_in_win : 0.0, rss, 100.0 * (c1 - c0) / win,
        g.lag_max / 1e6, (unsigned long long)(g.gen_drops - drops0), g.lost - lost0,
        expected > (double)g.recv_of_win ? expected - (double)g.recv_of_win : 0.0,
        (unsigned long long)g.unknown, dist.srv_wait_pct, dist.gen_wait_pct, dist.steal_pct,
        dist.others_pct, 100.0 * (cu1 - cu0) / win,
        g.recv_in_win ? (c1 - c0) * 1e6 / (double)g.recv_in_win : 0.0, attempt, why,
        r.disturbed ? "true" : "false", is_drained ? "true" : "false",
        100.0 * (c1 - c0) / win > 90.0 ? "true" : "false", r.pass ? "true" : "false");
    if (storm)
        json_joiners();
    fflush(stdout);
    return r;
}

static uint64_t search_deadline; /* 0: no --search-seconds */

static int search_time_up(void)
{
    return search_deadline && now_ns() >= search_deadline;
}

/* One rate of the search, measured until its verdict stands.  A failed step
 * is measured again up to --repeat-failed times (one failure may be a burst
 * of something else: hypervisor steal, a neighbour's build), a disturbed one
 * (passed or failed) up to --repeat-disturbed times; the last measurement is
 * the verdict.  A step whose backlog did not drain is not repeated: the
 * server is past its limit, and a repeat would start on a backlog. */
static struct step search_step(double rate, int *measured)
{
    int attempt = 1, failed = 0, disturbed = 0;
    struct step s = run_step("search", rate, cfg.search_warmup, cfg.search_window, attempt);
    (*measured)++;
    while (s.drained && !search_time_up()) {
        if (s.disturbed && disturbed < cfg.repeat_disturbed)
            disturbed++;
        else if (!s.pass && !s.disturbed && failed < cfg.repeat_failed)
            failed++;
        else
            break;
        fprintf(stderr, "loadgen: search step %s; measuring it again\n",
                s.disturbed ? "disturbed" : "failed");
        s = run_step("search", rate, cfg.search_warmup, cfg.search_window, ++attempt);
        (*measured)++;
    }
    return s;
}

/* The highest rate with p99 < limit.  It keeps a bracket: lo, the highest
 * rate that passed, and hi, the lowest that failed (0: none yet).  While no
 * step has failed it doubles, while none has passed it halves, and then it
 * measures the geometric middle of the bracket, up after a pass and down
 * after a failure, until hi / lo <= --resolution.  It also stops after
 * --max-steps rates, after --search-seconds, or when a step's backlog did
 * not drain.  Returns hi (0 when nothing failed). */
static double search_capacity(double start)
{
    double lo = 0, hi = 0, next = start;
    int rates = 0, measured = 0;
    const char *stop = "resolution";
    search_deadline = cfg.search_seconds > 0 ? now_ns() + (uint64_t)(cfg.search_seconds * NS) : 0;
    for (;;) {
        struct step s = search_step(next, &measured);
        rates++;
        if (s.pass)
            lo = s.rate;
        else
            hi = s.rate;
        if (!s.drained) {
            fprintf(stderr, "loadgen: backlog did not drain; stopping the search\n");
            stop = "backlog";
            break;
        }
        if (lo > 0 && hi > 0 && hi / lo <= cfg.resolution)
            break;
        if (rates >= cfg.max_steps) {
            stop = "max_steps";
            break;
        }
        if (search_time_up()) {
            stop = "search_seconds";
            break;
        }
        next = lo == 0 ? hi / 2 : hi == 0 ? lo * 2 : sqrt(lo * hi);
        if (next * g.nact * g.per_pub < cfg.search_min_deliv) {
            stop = "min_deliv"; /* not worth resolving capacities this low */
            break;
        }
    }
    json_common("capacity");
    printf(",\"p99_limit_ms\":%.1f,\"pass_rate_per_member\":%.4g,\"fail_rate_per_member\":%.4g,"
           "\"cap_pub_s\":%.1f,\"cap_deliv_s\":%.1f,\"fail_deliv_s\":%.1f,\"steps\":%d,"
           "\"measured\":%d,\"stopped_by\":\"%s\"}\n",
           cfg.p99_ms, lo, hi, lo * g.nact, lo * g.nact * g.per_pub, hi * g.nact * g.per_pub, rates,
           measured, stop);
    fflush(stdout);
    return hi;
}

/* ---------------------------------------------------------------- main */

/* "a,b,c" -> out[0..n), positive numbers only; returns n.  what names the
 * option in the error. */
static int parse_list(const char *arg, const char *what, double *out)
{
    int n = 0;
    const char *p = arg;
    for (;;) {
        char *end;
        double v = strtod(p, &end);
        if (end == p || !(v > 0) || n == MAX_LIST || (*end && *end != ','))
            die("%s: \"%s\" is not a list of at most %d positive numbers", what, arg, MAX_LIST);
        out[n++] = v;
        if (!*end)
            return n;
        p = end + 1;
    }
}

/* "https://localhost:8443" -> "localhost:8443": what a browser puts in Host. */
static const char *origin_authority(const char *origin)
{
    const char *p = strstr(origin, "://");
    if (!p || !p[3] || strchr(p + 3, '/'))
        die("--origin must look like scheme://host[:port] (no path)");
    return p + 3;
}

static void tls_setup(void)
{
    g.tls = SSL_CTX_new(TLS_client_method());
    if (!g.tls)
        die("SSL_CTX_new: %s", tls_error());
    SSL_CTX_set_min_proto_version(g.tls, TLS1_2_VERSION);
    /* Partial writes and a moving buffer: the output buffer of a connection
     * may grow (realloc) between a blocked SSL_write and its retry.  Release
     * idle buffers so 10,000 idle clients do not hold 10,000 x 34 KiB. */
    SSL_CTX_set_mode(g.tls, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                SSL_MODE_RELEASE_BUFFERS);
    /* Every client is a new visitor: a full handshake, no session reuse. */
    SSL_CTX_set_session_cache_mode(g.tls, SSL_SESS_CACHE_OFF);
    /* A server that hangs up without close_notify has closed, not failed. */
    SSL_CTX_set_options(g.tls, SSL_OP_NO_TICKET | SSL_OP_IGNORE_UNEXPECTED_EOF);
    static const unsigned char alpn[] = "\x08http/1.1";
    SSL_CTX_set_alpn_protos(g.tls, alpn, sizeof alpn - 1);
    if (cfg.ca) {
        if (SSL_CTX_load_verify_locations(g.tls, cfg.ca, NULL) != 1)
            die("--ca %s: %s", cfg.ca, tls_error());
        SSL_CTX_set_verify(g.tls, SSL_VERIFY_PEER, NULL);
    } else {
        SSL_CTX_set_verify(g.tls, SSL_VERIFY_NONE, NULL);
    }
}

static void usage(void)
{
    fprintf(
        stderr,
        "usage: loadgen --adapter NAME --port P [options]\n"
        "  --adapter kamrat|mqtt|xmpp|json  protocol adapter (see lg.h)\n"
        "  --host 127.0.0.1 --path /x --subprotocol S\n"
        "  --port P[,P...]           member m of every room connects to the (m mod n)-th port\n"
        "                            (the nodes of one cluster: every room spans them all)\n"
        "  --origin URL              send Origin: URL, and a Host header with URL's host[:port]\n"
        "  --tls                     TLS (wss://); trusts any certificate unless --ca is given\n"
        "  --ca FILE                 verify the server certificate against FILE (and --sni)\n"
        "  --sni NAME                TLS server name (default localhost)\n"
        "  --extra-idle N            N more clients, joined to rooms of 10 that stay silent\n"
        "                            (what idle connections cost the busy ones)\n"
        "  --joiners N               N more clients that join during the first fixed step,\n"
        "                            evenly over --joiner-window S (default: --window) from\n"
        "                            its start; its window lasts until each has an answer or\n"
        "                            waited --joiner-timeout S (30): then it is hung\n"
        "  --join-window S           start the connections evenly over S seconds (join storm)\n"
        "                            instead of --parallel at a time\n"
        "  --rooms R --members M     population (one connection per member)\n"
        "  --rate X[,X...]           fixed steps: msgs/s per member, one step per rate, in order\n"
        "  --warmup S --window S     fixed step timing (default 2 + 20)\n"
        "  --search                  first search the highest rate with p99 < --p99-ms\n"
        "  --search-start X --search-warmup S --search-window S --p99-ms 50\n"
        "  --resolution 1.25 --max-steps 10 (rates; repeats not counted) --min-complete 99.9\n"
        "  --search-min-deliv N      do not search below N offered deliveries/s (500)\n"
        "  --disturbed-pct P         a step is disturbed when the server or the generator\n"
        "                            waited for its CPU more than P %% of the window (5)\n"
        "  --steal-pct P             ... or the hypervisor stole more than P %% of a core (2)\n"
        "  --others-pct P            ... or other processes used more than P %% of a core (10);\n"
        "                            0 turns a test off (all from /proc/stat and schedstat)\n"
        "  --repeat-failed N         measure a failed search step again up to N times (1)\n"
        "  --repeat-disturbed N      measure a disturbed search step again up to N times (1)\n"
        "  --search-seconds S        start no search step after S seconds of search (0: no cap)\n"
        "  --recover S               before the fixed step, wait up to S for backlog (30)\n"
        "  --short-overload S        fixed step window when the search shows it is >= 2x\n"
        "                            over capacity (default 0 = never shorten)\n"
        "  --idle S                  only connect+join, hold S seconds, report RSS/client\n"
        "  --server-pid PID          (repeatable) process(es) to read CPU and RSS from\n"
        "  --window-cmd CMD          run sh -c CMD in the background at the start and the end\n"
        "                            of every step's window (env LG_STEP, LG_KIND, LG_EDGE)\n"
        "  --parallel N              connection attempts in flight (default 64)\n"
        "  --join-timeout S --drain S --settle S --max-seconds S\n"
        "  --body-size N             chat body bytes (default 100)\n"
        "  --label TEXT --aopt key=value (adapter options)\n");
    exit(1);
}

int main(int argc, char **argv)
{
    cfg.host = "127.0.0.1";
    cfg.label = "";
    cfg.rooms = 10;
    cfg.members = 10;
    cfg.body_size = 100;
    cfg.parallel = 64;
    cfg.max_steps = 10;
    cfg.warmup = 2;
    cfg.window = 20;
    cfg.drain = 10;
    cfg.settle = 1;
    cfg.join_timeout = 120;
    cfg.max_seconds = 600;
    cfg.search_warmup = 1;
    cfg.search_window = 4;
    cfg.p99_ms = 50;
    cfg.resolution = 1.25;
    cfg.min_complete = 99.9;
    cfg.self_echo = -1;
    cfg.search_min_deliv = 500;
    cfg.recover = 30;
    cfg.disturbed_pct = 5;
    cfg.repeat_disturbed = 1;
    cfg.repeat_failed = 1;
    cfg.steal_pct = 2;
    cfg.others_pct = 10;
    cfg.joiner_timeout = 30;

    enum {
        OPT_ADAPTER = 256,
        OPT_HOST,
        OPT_PORT,
        OPT_PATH,
        OPT_SUB,
        OPT_ROOMS,
        OPT_MEMBERS,
        OPT_RATE,
        OPT_WARMUP,
        OPT_WINDOW,
        OPT_SEARCH,
        OPT_SSTART,
        OPT_SWARM,
        OPT_SWIN,
        OPT_P99,
        OPT_RES,
        OPT_MAXSTEPS,
        OPT_MINC,
        OPT_IDLE,
        OPT_PID,
        OPT_PAR,
        OPT_JOINTO,
        OPT_DRAIN,
        OPT_SETTLE,
        OPT_MAXSEC,
        OPT_BODY,
        OPT_LABEL,
        OPT_AOPT,
        OPT_ECHO,
        OPT_SMIN,
        OPT_RECOVER,
        OPT_SHORT,
        OPT_ORIGIN,
        OPT_TLS,
        OPT_CA,
        OPT_SNI,
        OPT_JWIN,
        OPT_XIDLE,
        OPT_DPCT,
        OPT_DREP,
        OPT_WCMD,
        OPT_JOINERS,
        OPT_JWINDOW,
        OPT_JTIMEOUT,
        OPT_STEAL,
        OPT_OTHERS,
        OPT_FREP,
        OPT_SSECS
    };
    static const struct option opts[] = {{"adapter", 1, 0, OPT_ADAPTER},
                                         {"host", 1, 0, OPT_HOST},
                                         {"port", 1, 0, OPT_PORT},
                                         {"path", 1, 0, OPT_PATH},
                                         {"subprotocol", 1, 0, OPT_SUB},
                                         {"rooms", 1, 0, OPT_ROOMS},
                                         {"members", 1, 0, OPT_MEMBERS},
                                         {"rate", 1, 0, OPT_RATE},
                                         {"warmup", 1, 0, OPT_WARMUP},
                                         {"window", 1, 0, OPT_WINDOW},
                                         {"search", 0, 0, OPT_SEARCH},
                                         {"search-start", 1, 0, OPT_SSTART},
                                         {"search-warmup", 1, 0, OPT_SWARM},
                                         {"search-window", 1, 0, OPT_SWIN},
                                         {"p99-ms", 1, 0, OPT_P99},
                                         {"resolution", 1, 0, OPT_RES},
                                         {"max-steps", 1, 0, OPT_MAXSTEPS},
                                         {"min-complete", 1, 0, OPT_MINC},
                                         {"idle", 1, 0, OPT_IDLE},
                                         {"server-pid", 1, 0, OPT_PID},
                                         {"parallel", 1, 0, OPT_PAR},
                                         {"join-timeout", 1, 0, OPT_JOINTO},
                                         {"drain", 1, 0, OPT_DRAIN},
                                         {"settle", 1, 0, OPT_SETTLE},
                                         {"max-seconds", 1, 0, OPT_MAXSEC},
                                         {"body-size", 1, 0, OPT_BODY},
                                         {"label", 1, 0, OPT_LABEL},
                                         {"aopt", 1, 0, OPT_AOPT},
                                         {"self-echo", 1, 0, OPT_ECHO},
                                         {"search-min-deliv", 1, 0, OPT_SMIN},
                                         {"recover", 1, 0, OPT_RECOVER},
                                         {"short-overload", 1, 0, OPT_SHORT},
                                         {"origin", 1, 0, OPT_ORIGIN},
                                         {"tls", 0, 0, OPT_TLS},
                                         {"ca", 1, 0, OPT_CA},
                                         {"sni", 1, 0, OPT_SNI},
                                         {"join-window", 1, 0, OPT_JWIN},
                                         {"extra-idle", 1, 0, OPT_XIDLE},
                                         {"disturbed-pct", 1, 0, OPT_DPCT},
                                         {"repeat-disturbed", 1, 0, OPT_DREP},
                                         {"window-cmd", 1, 0, OPT_WCMD},
                                         {"joiners", 1, 0, OPT_JOINERS},
                                         {"joiner-window", 1, 0, OPT_JWINDOW},
                                         {"joiner-timeout", 1, 0, OPT_JTIMEOUT},
                                         {"steal-pct", 1, 0, OPT_STEAL},
                                         {"others-pct", 1, 0, OPT_OTHERS},
                                         {"repeat-failed", 1, 0, OPT_FREP},
                                         {"search-seconds", 1, 0, OPT_SSECS},
                                         {0, 0, 0, 0}};
    int o;
    double idle_hold = 0;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case OPT_ADAPTER:
            for (int i = 0; lg_adapters[i]; i++)
                if (!strcmp(lg_adapters[i]->name, optarg))
                    cfg.ad = lg_adapters[i];
            if (!cfg.ad)
                die("unknown adapter %s", optarg);
            break;
        case OPT_HOST:
            cfg.host = optarg;
            break;
        case OPT_PORT: {
            double v[MAX_LIST];
            cfg.port_arg = optarg;
            cfg.nports = parse_list(optarg, "--port", v);
            for (int i = 0; i < cfg.nports; i++) {
                if (v[i] != (int)v[i] || v[i] > 65535)
                    die("--port: %g is not a port", v[i]);
                cfg.ports[i] = (int)v[i];
            }
            break;
        }
        case OPT_PATH:
            cfg.path = optarg;
            break;
        case OPT_SUB:
            cfg.subproto = optarg;
            break;
        case OPT_ROOMS:
            cfg.rooms = atoi(optarg);
            break;
        case OPT_MEMBERS:
            cfg.members = atoi(optarg);
            break;
        case OPT_RATE:
            cfg.nrates = parse_list(optarg, "--rate", cfg.rates);
            break;
        case OPT_WARMUP:
            cfg.warmup = atof(optarg);
            break;
        case OPT_WINDOW:
            cfg.window = atof(optarg);
            break;
        case OPT_SEARCH:
            cfg.search = 1;
            break;
        case OPT_SSTART:
            cfg.search_start = atof(optarg);
            break;
        case OPT_SWARM:
            cfg.search_warmup = atof(optarg);
            break;
        case OPT_SWIN:
            cfg.search_window = atof(optarg);
            break;
        case OPT_P99:
            cfg.p99_ms = atof(optarg);
            break;
        case OPT_RES:
            cfg.resolution = atof(optarg);
            break;
        case OPT_MAXSTEPS:
            cfg.max_steps = atoi(optarg);
            break;
        case OPT_MINC:
            cfg.min_complete = atof(optarg);
            break;
        case OPT_IDLE:
            cfg.idle = 1;
            idle_hold = atof(optarg);
            break;
        case OPT_PID:
            if (cfg.npids < MAX_PIDS)
                cfg.pids[cfg.npids++] = (pid_t)atoi(optarg);
            break;
        case OPT_PAR:
            cfg.parallel = atoi(optarg);
            break;
        case OPT_JOINTO:
            cfg.join_timeout = atof(optarg);
            break;
        case OPT_DRAIN:
            cfg.drain = atof(optarg);
            break;
        case OPT_SETTLE:
            cfg.settle = atof(optarg);
            break;
        case OPT_MAXSEC:
            cfg.max_seconds = atof(optarg);
            break;
        case OPT_BODY:
            cfg.body_size = atoi(optarg);
            break;
        case OPT_LABEL:
            cfg.label = optarg;
            break;
        case OPT_ECHO:
            cfg.self_echo = atoi(optarg);
            break;
        case OPT_SMIN:
            cfg.search_min_deliv = atof(optarg);
            break;
        case OPT_RECOVER:
            cfg.recover = atof(optarg);
            break;
        case OPT_SHORT:
            cfg.short_overload = atof(optarg);
            break;
        case OPT_ORIGIN:
            cfg.origin = optarg;
            break;
        case OPT_TLS:
            cfg.tls = 1;
            break;
        case OPT_CA:
            cfg.ca = optarg;
            cfg.tls = 1;
            break;
        case OPT_SNI:
            cfg.sni = optarg;
            break;
        case OPT_JWIN:
            cfg.join_window = atof(optarg);
            break;
        case OPT_XIDLE:
            cfg.extra_idle = atoi(optarg);
            break;
        case OPT_DPCT:
            cfg.disturbed_pct = atof(optarg);
            break;
        case OPT_DREP:
            cfg.repeat_disturbed = atoi(optarg);
            break;
        case OPT_WCMD:
            cfg.window_cmd = optarg;
            break;
        case OPT_JOINERS:
            cfg.joiners = atoi(optarg);
            break;
        case OPT_JWINDOW:
            cfg.joiner_window = atof(optarg);
            break;
        case OPT_JTIMEOUT:
            cfg.joiner_timeout = atof(optarg);
            break;
        case OPT_STEAL:
            cfg.steal_pct = atof(optarg);
            break;
        case OPT_OTHERS:
            cfg.others_pct = atof(optarg);
            break;
        case OPT_FREP:
            cfg.repeat_failed = atoi(optarg);
            break;
        case OPT_SSECS:
            cfg.search_seconds = atof(optarg);
            break;
        case OPT_AOPT: {
            char *eq = strchr(optarg, '=');
            if (!eq || cfg.naopt >= MAX_AOPT)
                usage();
            *eq = 0;
            cfg.aopt_k[cfg.naopt] = optarg;
            cfg.aopt_v[cfg.naopt++] = eq + 1;
            break;
        }
        default:
            usage();
        }
    }
    if (!cfg.ad || !cfg.nports || cfg.rooms < 1 || cfg.members < 1)
        usage();
    if (cfg.joiners < 0 || cfg.joiner_window < 0 || cfg.joiner_timeout <= 0)
        die("--joiners, --joiner-window and --joiner-timeout must not be negative");
    if (cfg.joiners > 0 && cfg.joiner_window <= 0)
        cfg.joiner_window = cfg.window;
    if (cfg.body_size < BODY_HDR + 2 || cfg.body_size > 4000)
        die("--body-size must be in %d..4000", BODY_HDR + 2);
    if (!cfg.path)
        cfg.path = cfg.ad->path;
    if (!cfg.subproto)
        cfg.subproto = cfg.ad->subprotocol;
    if (cfg.self_echo < 0)
        cfg.self_echo = cfg.ad->self_echo;
    if (!cfg.sni)
        cfg.sni = "localhost";
    if (cfg.origin)
        cfg.host_hdr = origin_authority(cfg.origin);
    if (cfg.tls)
        tls_setup();

    struct sockaddr_in *a4 = (struct sockaddr_in *)&cfg.addr;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&cfg.addr;
    if (inet_pton(AF_INET, cfg.host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        cfg.addrlen = sizeof *a4;
        if ((ntohl(a4->sin_addr.s_addr) >> 24) != 127)
            die("refusing non-loopback target %s", cfg.host);
    } else if (inet_pton(AF_INET6, cfg.host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        cfg.addrlen = sizeof *a6;
        if (!IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr))
            die("refusing non-loopback target %s", cfg.host);
    } else {
        die("--host must be a numeric loopback address");
    }

    signal(SIGPIPE, SIG_IGN);
    signal(SIGCHLD, SIG_IGN); /* --window-cmd's children are never waited for */
    signal(SIGALRM, on_alarm);
    alarm((unsigned)cfg.max_seconds);
    prctl(PR_SET_TIMERSLACK, 1UL);
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);

    g.t0 = mono_abs() - NS; /* times start at 1 s so 0 never looks valid */
    g.nact = cfg.rooms * cfg.members;
    g.n = g.nact + cfg.extra_idle;
    g.per_pub = cfg.members - 1 + (cfg.self_echo ? 1 : 0);
    if ((rlim_t)(g.n + cfg.joiners) + 64 > rl.rlim_cur)
        die("%d clients need ulimit -n >= %d (have %llu)", g.n + cfg.joiners,
            g.n + cfg.joiners + 64, (unsigned long long)rl.rlim_cur);
    g.conns = calloc((size_t)g.n, sizeof *g.conns);
    g.retry = calloc((size_t)g.n, sizeof *g.retry);
    g.jconns = calloc((size_t)cfg.joiners + 1, sizeof *g.jconns);
    g.ep = epoll_create1(EPOLL_CLOEXEC);
    if (!g.conns || !g.retry || !g.jconns || g.ep < 0)
        die("setup failed");
    srand((unsigned)getpid());
    for (int i = 0; i < g.n; i++) {
        struct lg_conn *c = &g.conns[i];
        c->id = i;
        c->room = i / cfg.members;
        c->member = i % cfg.members;
        if (i >= g.nact) { /* silent rooms of 10 after the active ones */
            c->room = cfg.rooms + (i - g.nact) / 10;
            c->member = (i - g.nact) % 10;
        }
        c->fd = -1;
        c->jidx = -1;
        c->astate = calloc(1, cfg.ad->state_size ? cfg.ad->state_size : 1);
    }
    for (int i = 0; i < cfg.joiners; i++) { /* after every member: ids g.n.. */
        struct lg_conn *c = &g.jconns[i];
        c->id = g.n + i;
        c->room = -1;
        c->member = i; /* spreads them over the --port list */
        c->jidx = i;
        c->fd = -1;
        c->astate = calloc(1, cfg.ad->state_size ? cfg.ad->state_size : 1);
    }

    long rss0 = srv_rss_kb();
    double cpu_j0 = srv_cpu_s(), gcpu_j0 = gen_cpu_s(NULL);
    double sw_j0 = srv_wait_s(), gw_j0 = runq_wait_s("/proc/self/schedstat");
    uint64_t tj0 = now_ns();
    g.now = g.join_start = tj0;
    fprintf(stderr, "loadgen: %s: connecting %d clients (%d rooms x %d members) to %s:%s%s\n",
            cfg.ad->name, g.n, cfg.rooms, cfg.members, cfg.host, cfg.port_arg, cfg.path);
    start_connects();
    loop_until(tj0 + (uint64_t)(cfg.join_timeout * NS), all_settled);
    double join_s = (double)(now_ns() - tj0) / NS;
    double cpu_j1 = srv_cpu_s(), gcpu_j1 = gen_cpu_s(NULL);
    json_common("join");
    printf(",\"tls\":%s,\"join_window_s\":%.2f,\"parallel\":%d,\"ready\":%d,\"failed\":%d,"
           "\"lost\":%d,\"retries\":%d,\"join_s\":%.2f,\"all_joined_s\":%.3f,"
           "\"hs_p50_ms\":%.3f,\"hs_p90_ms\":%.3f,\"hs_p99_ms\":%.3f,\"hs_max_ms\":%.3f,"
           "\"hs_tcp_p99_ms\":%.3f,\"hs_tls_p50_ms\":%.3f,\"hs_tls_p99_ms\":%.3f,"
           "\"hs_upgrade_p99_ms\":%.3f,\"hs_join_p99_ms\":%.3f,\"storm_lag_max_ms\":%.3f,"
           "\"join_srv_cpu_s\":%.2f,\"join_gen_cpu_s\":%.2f,\"join_srv_runq_wait_s\":%.2f,"
           "\"join_gen_runq_wait_s\":%.2f,\"srv_rss_start_kb\":%ld,"
           "\"srv_rss_joined_kb\":%ld}\n",
           cfg.tls ? "true" : "false", cfg.join_window, cfg.join_window > 0 ? 0 : cfg.parallel,
           g.ready, g.join_failed, g.lost, g.retries, join_s,
           g.ready ? (double)(g.last_joined - tj0) / NS : 0.0, hist_pct(&g.hs, 0.50) / 1000.0,
           hist_pct(&g.hs, 0.90) / 1000.0, hist_pct(&g.hs, 0.99) / 1000.0, g.hs.max_us / 1000.0,
           hist_pct(&g.hs_tcp, 0.99) / 1000.0, hist_pct(&g.hs_tls, 0.50) / 1000.0,
           hist_pct(&g.hs_tls, 0.99) / 1000.0, hist_pct(&g.hs_ws, 0.99) / 1000.0,
           hist_pct(&g.hs_join, 0.99) / 1000.0, g.storm_lag_max / 1e6, cpu_j1 - cpu_j0,
           gcpu_j1 - gcpu_j0, srv_wait_s() - sw_j0, runq_wait_s("/proc/self/schedstat") - gw_j0,
           rss0, srv_rss_kb());
    fflush(stdout);
    if (g.ready < g.n)
        die("only %d of %d clients joined within %.0f s", g.ready, g.n, cfg.join_timeout);

    loop_until(now_ns() + (uint64_t)(cfg.settle * NS), NULL);

    if (cfg.idle) {
        loop_until(now_ns() + (uint64_t)(idle_hold * NS), NULL);
        long rss1 = srv_rss_kb();
        json_common("idle");
        printf(",\"srv_rss_start_kb\":%ld,\"srv_rss_kb\":%ld,\"kb_per_client\":%.2f,"
               "\"join_s\":%.2f,\"lost\":%d}\n",
               rss0, rss1, (double)(rss1 - rss0) / g.n, join_s, g.lost);
        fflush(stdout);
    } else {
        /* The search runs first: its overloaded steps are short, so their
         * backlog drains quickly.  The long fixed step comes last, where an
         * overloaded peer's backlog no longer matters. */
        double fail_rate = 0;
        if (cfg.search) {
            double start = cfg.search_start > 0 ? cfg.search_start : cfg.nrates ? cfg.rates[0] : 1;
            fail_rate = search_capacity(start);
        }
        for (int i = 0; i < cfg.nrates; i++) {
            double rate = cfg.rates[i];
            loop_until(now_ns() + (uint64_t)(cfg.recover * NS), drained);
            double win = cfg.window;
            const char *kind = "fixed";
            if (cfg.short_overload > 0 && fail_rate > 0 && rate >= 2 * fail_rate &&
                win > cfg.short_overload) {
                win = cfg.short_overload; /* known overloaded: a short window shows the ceiling */
                kind = "fixed-overloaded";
            }
            run_step(kind, rate, cfg.warmup, win, 1);
        }
    }
    for (int i = 0; i < g.n; i++) {
        struct lg_conn *c = &g.conns[i];
        if (c->st != C_DEAD && c->st != C_NEW) {
            g.fail_logs = 1000; /* quiet */
            lg_fail(c, "done");
        }
    }
    for (int i = 0; i < cfg.joiners; i++)
        if (g.jconns[i].st != C_DEAD && g.jconns[i].st != C_NEW)
            conn_close(&g.jconns[i]);
    return 0;
}
