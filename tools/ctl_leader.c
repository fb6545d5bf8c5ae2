/*
 * kamratctl leader ... and coordinator ...: accounts. Both kinds share these
 * commands, which take the kind from the command's first word: a leader
 * leads groups, a coordinator administers them from the console
 * (store.h, enum store_role). Passwords come from the terminal
 * (twice, echo off) or one line of stdin, never from argv; only their
 * Argon2id hashes reach the store, and every copy is wiped after use.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "auth.h"
#include "config.h"
#include "ctl.h"
#include "util.h"

static volatile sig_atomic_t interrupted;

/* The kind of account the running command is about. */
static enum store_role role_of(const struct ctl *c)
{
    return strncmp(c->cmd->path, "coordinator ", 12) == 0 ? STORE_ROLE_COORDINATOR
                                                          : STORE_ROLE_LEADER;
}

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* Strip a trailing "\n" or "\r\n"; false when line had none (too long). */
static bool chomp(char *line)
{
    size_t n = strlen(line);
    if (n == 0 || line[n - 1] != '\n')
        return false;
    line[--n] = '\0';
    if (n && line[n - 1] == '\r')
        line[n - 1] = '\0';
    return true;
}

/* Read one line from the terminal with echo off. Returns 0, or -1 when
 * there is no terminal, -2 when interrupted or the line is too long. */
static int tty_line(const char *prompt, char *buf, size_t buflen)
{
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct termios old, quiet;
    if (tcgetattr(fd, &old) < 0) {
        close(fd);
        return -1;
    }
    /* Signals only set a flag; read() returns EINTR and echo comes back. */
    struct sigaction sa = {.sa_handler = on_signal}, saved[3];
    const int sigs[3] = {SIGINT, SIGTERM, SIGHUP};
    for (int i = 0; i < 3; i++)
        sigaction(sigs[i], &sa, &saved[i]);
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    quiet.c_lflag |= ECHONL;
    int rc = -2;
    if (write(fd, prompt, strlen(prompt)) >= 0 && tcsetattr(fd, TCSAFLUSH, &quiet) == 0) {
        size_t n = 0;
        char ch;
        while (!interrupted && n + 1 < buflen) {
            ssize_t r = read(fd, &ch, 1);
            if (r != 1)
                break;
            buf[n++] = ch;
            if (ch == '\n')
                break;
        }
        buf[n] = '\0';
        rc = !interrupted && chomp(buf) ? 0 : -2;
        tcsetattr(fd, TCSAFLUSH, &old);
        if (interrupted && write(fd, "\n", 1) < 0)
            rc = -2; /* the message that follows starts on a new line anyway */
    }
    for (int i = 0; i < 3; i++)
        sigaction(sigs[i], &saved[i], NULL);
    close(fd);
    return rc;
}

/* The password typed twice on the terminal into buf. Returns 0 or an exit
 * code. */
static int password_from_tty(struct ctl *c, const char *username, char *buf, size_t buflen)
{
    char again[1024], prompt[96];
    snprintf(prompt, sizeof(prompt), "New password for %s: ", username);
    int r = tty_line(prompt, buf, buflen), rc = 0;
    if (r == 0)
        r = tty_line("Repeat the password: ", again, sizeof(again));
    if (r == -1)
        rc = ctl_complain(c, EXIT_USAGE,
                          "no terminal to ask for the password on: use --password-stdin");
    else if (r < 0)
        rc = ctl_complain(c, EXIT_FAIL, "password entry interrupted");
    else if (strcmp(buf, again) != 0)
        rc = ctl_complain(c, EXIT_FAIL, "the passwords differ; nothing changed");
    wipe(again, sizeof(again));
    return rc;
}

/* A new password for username into buf, from one line of stdin or the
 * terminal (twice), within the policy. Returns 0 or an exit code; buf is
 * wiped on failure. */
static int read_new_password(struct ctl *c, bool from_stdin, const char *username, char *buf,
                             size_t buflen)
{
    int rc = 0;
    if (from_stdin) {
        if (!fgets(buf, (int)buflen, stdin) || (!chomp(buf) && !feof(stdin)))
            rc = ctl_complain(c, EXIT_USAGE, "expected one line of at most %d characters on stdin",
                              AUTH_PASSWORD_MAX);
    } else {
        rc = password_from_tty(c, username, buf, buflen);
    }
    if (rc == 0 && !auth_password_ok(buf))
        rc = ctl_complain(c, EXIT_FAIL, "a password has %d to %d characters, this one %zu",
                          AUTH_PASSWORD_MIN, AUTH_PASSWORD_MAX, ctl_width(buf));
    if (rc)
        wipe(buf, buflen);
    return rc;
}

/* The options of leader add and passwd: only --password-stdin. */
static int password_options(struct ctl *c, int argc, char **argv, int *from_stdin)
{
    const struct option longopts[] = {
        {"password-stdin", no_argument, from_stdin, 1},
        {NULL, 0, NULL, 0},
    };
    return ctl_options(c, argc, argv, longopts, NULL, NULL, 1, 1);
}

/* Ask for a new password and hash it into phc. Returns 0 or an exit code. */
static int new_password_hash(struct ctl *c, bool from_stdin, const char *username,
                             char phc[AUTH_PHC_MAX])
{
    char pw[1024];
    int rc = read_new_password(c, from_stdin, username, pw, sizeof(pw));
    if (rc == 0 && auth_hash_password(pw, phc, AUTH_PHC_MAX) < 0)
        rc = ctl_complain(c, EXIT_FAIL, "cannot hash the password");
    wipe(pw, sizeof(pw));
    return rc;
}

/* Print a setup link made now for account id (username): the link on
 * stdout (in JSON with --json), what it is for on stderr. The link is
 * shown only this once; only its code's hash is stored. */
static int print_setup_link(struct ctl *c, const char *username, const char *code, json_t *doc)
{
    char link[512], when[CTL_TIME_LEN];
    int64_t expires = c->now + STORE_SETUP_TTL;
    snprintf(link, sizeof(link), "%s/setup#%s", c->cfg->origin, code);
    if (c->json) {
        json_object_set_new(doc, "setup_url", json_string(link));
        json_object_set_new(doc, "setup_expires_at", ctl_json_time(expires));
        ctl_json_print(doc);
    } else {
        json_decref(doc);
        printf("%s\n", link);
        fprintf(stderr,
                "setup link for %s, expires %s: they open it to choose their password. "
                "The link is shown only this once.\n",
                username, ctl_fmt_utc(expires, false, when));
    }
    wipe(link, sizeof(link));
    return 0;
}

/* leader add USERNAME --setup-link: the account waits for its holder to
 * choose a password at the link. */
static int add_by_link(struct ctl *c, const char *username)
{
    char code[AUTH_INVITE_LEN + 1];
    unsigned char hash[AUTH_DIGEST_LEN];
    const char *kind = store_role_name(role_of(c));
    if (auth_invite_code_new(code, hash) < 0)
        return ctl_complain(c, EXIT_FAIL, "cannot make a setup link (no randomness)");
    int64_t id;
    int rc = 0,
        e = store_account_add_pending(c->store, c->now, c->actor, role_of(c), username, hash, &id);
    if (e == STORE_E_EXISTS)
        rc = ctl_complain(c, EXIT_FAIL, "an account named \"%s\" already exists", username);
    else if (e < 0)
        rc = ctl_store_failed(c, e, kind);
    else
        rc = print_setup_link(
            c, username, code,
            json_pack("{sI ss ss}", "id", (json_int_t)id, "username", username, "role", kind));
    wipe(code, sizeof(code));
    return rc;
}

static int cmd_leader_add(struct ctl *c, int argc, char **argv)
{
    int from_stdin = 0, by_link = 0;
    const struct option longopts[] = {
        {"password-stdin", no_argument, &from_stdin, 1},
        {"setup-link", no_argument, &by_link, 1},
        {NULL, 0, NULL, 0},
    };
    int rc = ctl_options(c, argc, argv, longopts, NULL, NULL, 1, 1);
    if (rc)
        return rc;
    if (from_stdin && by_link)
        return ctl_complain(c, EXIT_USAGE, "--password-stdin or --setup-link, not both");
    const char *username = argv[optind];
    const char *kind = store_role_name(role_of(c));
    if (!store_username_valid(username))
        return ctl_complain(c, EXIT_USAGE, "a username has 3 to %d characters of a-z 0-9 . _ -",
                            STORE_USERNAME_MAX);
    /* Leaders and coordinators share one login page: one name, one account. */
    struct store_leader l;
    if (store_leader_get(c->store, username, &l) == 0) {
        wipe(&l, sizeof(l));
        return ctl_complain(c, EXIT_FAIL, "an account named \"%s\" already exists", username);
    }
    if (by_link)
        return add_by_link(c, username);
    char phc[AUTH_PHC_MAX];
    if ((rc = new_password_hash(c, from_stdin, username, phc)))
        return rc;
    int64_t id;
    int e = store_account_add(c->store, c->now, c->actor, role_of(c), username, phc, &id);
    wipe(phc, sizeof(phc));
    if (e == STORE_E_EXISTS)
        return ctl_complain(c, EXIT_FAIL, "an account named \"%s\" already exists", username);
    if (e < 0)
        return ctl_store_failed(c, e, kind);
    return ctl_done(
        c, json_pack("{sI ss ss}", "id", (json_int_t)id, "username", username, "role", kind),
        "%s %s added\n", kind, username);
}

static int cmd_leader_passwd(struct ctl *c, int argc, char **argv)
{
    int from_stdin = 0;
    int rc = password_options(c, argc, argv, &from_stdin);
    if (rc)
        return rc;
    struct store_leader l;
    if ((rc = ctl_find_account(c, role_of(c), argv[optind], &l)))
        return rc;
    char phc[AUTH_PHC_MAX];
    if ((rc = new_password_hash(c, from_stdin, l.username, phc)) == 0) {
        int e = store_leader_set_password(c->store, c->now, c->actor, l.id, phc);
        if (e < 0)
            rc = ctl_store_failed(c, e, store_role_name(l.role));
        else
            rc = ctl_done(c, json_pack("{ss sb}", "username", l.username, "password_changed", 1),
                          "password of %s changed\n", l.username);
    }
    wipe(phc, sizeof(phc));
    wipe(&l, sizeof(l));
    return rc;
}

/* leader setup-link USERNAME: a new link to reset the password. */
static int cmd_leader_setup_link(struct ctl *c, int argc, char **argv)
{
    int rc = ctl_plain_args(c, argc, argv, 1, 1);
    if (rc)
        return rc;
    struct store_leader l;
    if ((rc = ctl_find_account(c, role_of(c), argv[optind], &l)))
        return rc;
    char code[AUTH_INVITE_LEN + 1];
    unsigned char hash[AUTH_DIGEST_LEN];
    int e = 0;
    if (auth_invite_code_new(code, hash) < 0)
        rc = ctl_complain(c, EXIT_FAIL, "cannot make a setup link (no randomness)");
    else if ((e = store_leader_setup_link(c->store, c->now, c->actor, l.id, hash)) ==
             STORE_E_INVALID)
        rc = ctl_complain(c, EXIT_FAIL, "%s is disabled: enable the account first", l.username);
    else if (e < 0)
        rc = ctl_store_failed(c, e, store_role_name(l.role));
    else
        rc = print_setup_link(c, l.username, code, json_pack("{ss}", "username", l.username));
    wipe(code, sizeof(code));
    wipe(&l, sizeof(l));
    return rc;
}

static int leader_set_disabled(struct ctl *c, int argc, char **argv, bool disabled)
{
    int rc = ctl_plain_args(c, argc, argv, 1, 1);
    if (rc)
        return rc;
    struct store_leader l;
    if ((rc = ctl_find_account(c, role_of(c), argv[optind], &l)))
        return rc;
    int e = store_leader_set_disabled(c->store, c->now, c->actor, l.id, disabled);
    const char *state = disabled ? "disabled" : "enabled";
    if (e == STORE_E_INVALID)
        rc = ctl_complain(c, EXIT_FAIL, "%s is already %s", l.username, state);
    else if (e < 0)
        rc = ctl_store_failed(c, e, store_role_name(l.role));
    else
        rc = ctl_done(c, json_pack("{ss sb}", "username", l.username, "disabled", disabled),
                      "%s %s %s\n", store_role_name(l.role), l.username, state);
    wipe(&l, sizeof(l));
    return rc;
}

static int cmd_leader_disable(struct ctl *c, int argc, char **argv)
{
    return leader_set_disabled(c, argc, argv, true);
}

static int cmd_leader_remove(struct ctl *c, int argc, char **argv)
{
    int yes = 0;
    int rc = ctl_removal_args(c, argc, argv, &yes);
    if (rc)
        return rc;
    struct store_leader l;
    const char *kind = store_role_name(role_of(c));
    if ((rc = ctl_find_account(c, role_of(c), argv[optind], &l)))
        return rc;
    if (!(rc = ctl_confirm(c, yes, "Remove %s \"%s\" and their logins and group links?", kind,
                           l.username))) {
        int e = store_leader_remove(c->store, c->now, c->actor, l.id);
        rc = e < 0 ? ctl_store_failed(c, e, kind)
                   : ctl_done(c, json_pack("{ss sb}", "username", l.username, "removed", 1),
                              "%s %s removed\n", kind, l.username);
    }
    wipe(&l, sizeof(l));
    return rc;
}

static int cmd_leader_enable(struct ctl *c, int argc, char **argv)
{
    return leader_set_disabled(c, argc, argv, false);
}

/* The names of the groups leader_id leads: as a JSON array, and joined with
 * ", " into names (cut at its size). */
static int leader_groups(struct ctl *c, int64_t leader_id, json_t **arr, char *names, size_t len)
{
    struct store_group *gs;
    size_t ng, used = 0;
    int e = store_leader_groups(c->store, leader_id, &gs, &ng);
    if (e < 0)
        return ctl_store_failed(c, e, "leaders");
    *arr = json_array();
    snprintf(names, len, "%s", ng ? "" : "-");
    for (size_t k = 0; k < ng; k++) {
        json_array_append_new(*arr, json_string(gs[k].name));
        int w = snprintf(names + used, len - used, "%s%s", k ? ", " : "", gs[k].name);
        if (w > 0 && (size_t)w < len - used)
            used += (size_t)w;
    }
    store_group_list_free(gs, ng);
    return 0;
}

static int cmd_leader_list(struct ctl *c, int argc, char **argv)
{
    int rc = ctl_plain_args(c, argc, argv, 0, 0);
    if (rc)
        return rc;
    struct store_leader *v;
    size_t n;
    int e = store_leader_list(c->store, &v, &n);
    if (e < 0)
        return ctl_store_failed(c, e, "leaders");
    struct ctl_list l;
    enum store_role role = role_of(c);
    ctl_list_init(c, &l, 4, "USERNAME", "STATE", "CREATED", "GROUPS");
    /* The console's states: disabled, awaiting setup (no password yet, or
     * a new setup link cleared it), enabled. */
    for (size_t i = 0; i < n; i++) {
        char names[1024], created[CTL_TIME_LEN];
        json_t *groups = NULL;
        if (v[i].role != role)
            continue;
        if ((rc = leader_groups(c, v[i].id, &groups, names, sizeof(names))))
            break;
        const char *state = v[i].disabled         ? "disabled"
                            : v[i].awaiting_setup ? "awaiting_setup"
                                                  : "enabled";
        if (l.arr) {
            json_array_append_new(
                l.arr, json_pack("{ss sb ss so so so}", "username", v[i].username, "disabled",
                                 v[i].disabled, "state", state, "setup_expires_at",
                                 ctl_json_time(v[i].setup_expires_at), "created_at",
                                 ctl_json_time(v[i].created_at), "groups", groups));
        } else {
            json_decref(groups);
            ctl_list_row(&l, v[i].username, state, ctl_fmt_utc(v[i].created_at, false, created),
                         names);
        }
    }
    free(v);
    return ctl_list_finish(&l, rc);
}

#define ADD_OPTIONS                                                                                \
    "      --password-stdin              read the password from one line of stdin\n"               \
    "                                    (otherwise asked twice on the terminal)\n"                \
    "      --setup-link                  no password now: print a one-time link, good for\n"       \
    "                                    7 days, where the account's holder chooses it\n"

const struct ctl_command ctl_leader_commands[] = {
    {"leader add", "USERNAME [--password-stdin | --setup-link]",
     "add a leader account (username: 3-32 of a-z 0-9 . _ -)", ADD_OPTIONS, cmd_leader_add},
    {"leader setup-link", "USERNAME",
     "a new setup link for a leader to choose a new password; ends their logins", NULL,
     cmd_leader_setup_link},
    {"leader passwd", "USERNAME [--password-stdin]", "set a leader's password (10-128 characters)",
     "      --password-stdin              read the password from one line of stdin\n",
     cmd_leader_passwd},
    {"leader disable", "USERNAME", "stop a leader from logging in", NULL, cmd_leader_disable},
    {"leader enable", "USERNAME", "let a disabled leader log in again", NULL, cmd_leader_enable},
    {"leader remove", "USERNAME [--yes]",
     "remove a leader account with its logins and group links (the audit log keeps the name)",
     "      --yes                         do not ask for confirmation\n", cmd_leader_remove},
    {"leader list", "", "list the leaders and their groups", NULL, cmd_leader_list},
    {0},
};

/* The same commands for coordinators, who lead no group (their GROUPS
 * column stays "-"). */
const struct ctl_command ctl_coordinator_commands[] = {
    {"coordinator add", "USERNAME [--password-stdin | --setup-link]",
     "add a coordinator account, for the console at /admin (username as for leaders)", ADD_OPTIONS,
     cmd_leader_add},
    {"coordinator setup-link", "USERNAME",
     "a new setup link for a coordinator to choose a new password; ends their logins", NULL,
     cmd_leader_setup_link},
    {"coordinator passwd", "USERNAME [--password-stdin]",
     "set a coordinator's password (10-128 characters)",
     "      --password-stdin              read the password from one line of stdin\n",
     cmd_leader_passwd},
    {"coordinator disable", "USERNAME", "stop a coordinator from logging in", NULL,
     cmd_leader_disable},
    {"coordinator enable", "USERNAME", "let a disabled coordinator log in again", NULL,
     cmd_leader_enable},
    {"coordinator remove", "USERNAME [--yes]",
     "remove a coordinator account with its logins (the audit log keeps the name)",
     "      --yes                         do not ask for confirmation\n", cmd_leader_remove},
    {"coordinator list", "", "list the coordinators", NULL, cmd_leader_list},
    {0},
};
