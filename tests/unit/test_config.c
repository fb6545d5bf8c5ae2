/* config: defaults, errors with file:line, ranges, duplicates, origins,
 * the [safety] files, [cluster], [store], [branding]. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "branding.h"
#include "config.h"

static char path[] = "/tmp/kamrat-test-config-XXXXXX";

static struct config *load(const char *text, char *err, size_t errlen)
{
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    struct config *c = config_load(path, err, errlen);
    unlink(path);
    strcpy(path + strlen(path) - 6, "XXXXXX");
    return c;
}

#define MINIMAL "[server]\norigin = https://chat.example.org\n[tls]\ncert = /c.pem\nkey = /k.pem\n"

static void minimal_file_gets_defaults(void **state)
{
    (void)state;
    char err[256];
    struct config *c = load(MINIMAL, err, sizeof(err));
    assert_non_null(c);
    assert_int_equal(c->port, 8443);
    assert_null(c->address);
    assert_string_equal(c->origin_host, "chat.example.org");
    assert_int_equal(c->limits.max_message_bytes, 16384);
    assert_int_equal(c->limits.history_size, 512);
    assert_int_equal(c->limits.max_conns_per_address, 256);
    assert_int_equal(c->limits.max_websockets_per_address, 100);
    assert_int_equal(c->limits.http_idle_timeout, 5);
    assert_int_equal(c->line_key, 5);
    assert_null(c->crisis_file);
    assert_null(c->risk_words_file);
    config_free(c);
}

static void expect_error(const char *text, int line, const char *words)
{
    char err[256], want[64];
    struct config *c = load(text, err, sizeof(err));
    assert_null(c);
    snprintf(want, sizeof(want), ":%d: ", line);
    if (!strstr(err, want) || !strstr(err, words))
        fail_msg("error '%s' lacks '%s' or '%s'", err, want, words);
}

static void errors_name_the_line(void **state)
{
    (void)state;
    expect_error(MINIMAL "[limits]\nmax_fragments = 0\n", 7, "out of range");
    expect_error(MINIMAL "[limits]\nmax_fragments = 65\n", 7, "out of range");
    expect_error(MINIMAL "[limits]\nmax_fragments = 8x\n", 7, "out of range");
    expect_error(MINIMAL "[limits]\nmax_fragments = -1\n", 7, "out of range");
    expect_error(MINIMAL "[server]\nport = 99999\n", 7, "out of range");
    expect_error(MINIMAL "[server]\nbogus = 1\n", 7, "unknown key [server] bogus");
    expect_error(MINIMAL "[limit]\nmax_fragments = 8\n", 7, "unknown key");
    expect_error(MINIMAL "[server]\nport = 1\nport = 2\n", 8, "duplicate key");
    expect_error(MINIMAL "[server]\nlog_level = loud\n", 7, "log_level");
    expect_error(MINIMAL "[limits]\nping_interval = 60\nping_timeout = 30\n", 8, "ping_timeout");
    expect_error(MINIMAL "[limits]\nmax_websockets_per_address = 0\n", 7, "out of range");
    expect_error(MINIMAL "[limits]\nmax_websockets_per_address = 100001\n", 7, "out of range");
    expect_error(MINIMAL "[limits]\nhttp_idle_timeout = 0\n", 7, "out of range");
    expect_error(MINIMAL "[limits]\nhttp_idle_timeout = 121\n", 7, "out of range");
    expect_error("[server]\norigin = http://chat.example.org\n[tls]\ncert = a\nkey = b\n", 2,
                 "origin");
    expect_error("[server]\norigin = https://a/b\n[tls]\ncert = a\nkey = b\n", 2, "origin");
    expect_error("[server]\norigin = https://x\n", 0, "missing required key [tls] cert");
    expect_error("[server]\nthis is not ini\n", 2, "syntax");
}

static void origin_port_shapes_host(void **state)
{
    (void)state;
    char err[256];
    struct config *c = load("[server]\norigin = https://localhost:8443\n[tls]\ncert = a\nkey = b\n",
                            err, sizeof(err));
    assert_non_null(c);
    assert_string_equal(c->origin_host, "localhost:8443");
    config_free(c);
    c = load("[server]\norigin = https://x.org:443\naddress = *\n[tls]\ncert = a\nkey = b\n", err,
             sizeof(err));
    assert_non_null(c);
    assert_string_equal(c->origin_host, "x.org");
    assert_null(c->address);
    config_free(c);
}

static void check_files_reports_missing_cert(void **state)
{
    (void)state;
    char err[256];
    struct config *c = load("[server]\norigin = https://x.org\nweb_root = /\ndata_dir = /tmp\n"
                            "[tls]\ncert = /nonexistent.pem\nkey = /nonexistent.key\n",
                            err, sizeof(err));
    assert_non_null(c);
    assert_int_equal(config_check_files(c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, ":6: [tls] cert /nonexistent.pem"));
    config_free(c);
}

static void plain_websocket_only_on_loopback(void **state)
{
    (void)state;
    char err[256];
    struct config *c = load("[server]\naddress = 127.0.0.1\norigin = http://127.0.0.1:9001\n"
                            "[tls]\nenabled = no\n",
                            err, sizeof(err));
    assert_non_null(c);
    assert_false(c->tls);
    assert_null(c->tls_cert);
    assert_string_equal(c->origin_host, "127.0.0.1:9001");
    config_free(c);
    expect_error("[server]\norigin = http://x.org\n[tls]\nenabled = no\n", 4, "loopback");
    expect_error("[server]\naddress = 127.0.0.1\norigin = https://x.org\n[tls]\nenabled = no\n", 3,
                 "use http://host");
    expect_error("[server]\norigin = http://x.org\n[tls]\ncert = a\nkey = b\n", 2,
                 "use https://host");
    expect_error(MINIMAL "[tls]\nenabled = maybe\n", 7, "yes or no");
}

static void clock_offset_for_tests(void **state)
{
    (void)state;
    char err[256];
    struct config *c = load(MINIMAL "[testing]\nclock_offset = -86400\n", err, sizeof(err));
    assert_non_null(c);
    assert_true(c->clock_offset == -86400);
    int64_t now = (int64_t)time(NULL);
    assert_true(config_now(c) <= now - 86400 + 1 && config_now(c) >= now - 86400 - 1);
    config_free(c);
    expect_error(MINIMAL "[testing]\nclock_offset = 1e3\n", 7, "seconds");
}

static void write_text(const char *file, const char *text)
{
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* [safety] names two files; config_check_files reads them as kamratd will
 * and points at the line of the one that is wrong. */
static void safety_files_are_checked(void **state)
{
    (void)state;
    char dir[] = "/tmp/kamrat-test-config-safety-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char crisis[96], words[96], text[512], err[512];
    snprintf(crisis, sizeof(crisis), "%s/crisis.json", dir);
    snprintf(words, sizeof(words), "%s/words.json", dir);
    write_text(crisis, "{\"fi\": [{\"name\": \"Hätänumero\", \"phone\": \"112\"}]}");
    write_text(words, "{\"fi\": [\"kuolla\"]}");
    /* Plain loopback, so no certificate stands in the way of the check. */
    const char *head = "[server]\naddress = 127.0.0.1\norigin = http://127.0.0.1:9001\n"
                       "web_root = /\ndata_dir = /tmp\n[tls]\nenabled = no\n";
    snprintf(text, sizeof(text), "%s[safety]\ncrisis_file = %s\nrisk_words_file = %s\n", head,
             crisis, words);
    struct config *c = load(text, err, sizeof(err));
    assert_non_null(c);
    assert_string_equal(c->crisis_file, crisis);
    assert_string_equal(c->risk_words_file, words);
    assert_int_equal(config_check_files(c, err, sizeof(err)), 0);

    write_text(words, "{\"fi\": [\"k\"]}");
    assert_int_equal(config_check_files(c, err, sizeof(err)), -1);
    char want[192];
    snprintf(want, sizeof(want), ":10: [safety] risk_words_file %s: fi[0]: a word must have",
             words);
    if (!strstr(err, want))
        fail_msg("error '%s' lacks '%s'", err, want);
    write_text(crisis, "{\"fi\": [{\"name\": \"x\", \"url\": \"http://x.fi\"}]}");
    assert_int_equal(config_check_files(c, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), ":9: [safety] crisis_file %s: fi[0]: url must start with https://",
             crisis);
    if (!strstr(err, want))
        fail_msg("error '%s' lacks '%s'", err, want);
    config_free(c);

    expect_error(MINIMAL "[safety]\ncrisis_file =\n", 7, "[safety] crisis_file must not be empty");
    expect_error(MINIMAL "[safety]\nrisk_words_file = a\nrisk_words_file = b\n", 8,
                 "duplicate key");
    expect_error(MINIMAL "[safety]\nhelplines = a\n", 7, "unknown key [safety] helplines");
    unlink(crisis);
    unlink(words);
    rmdir(dir);
}

/* [branding]: every key optional; texts, colours and the accent's contrast
 * are checked when read, the logo by config_check_files. */
static void branding_section(void **state)
{
    (void)state;
    char err[512];
    struct config *c = load(MINIMAL, err, sizeof(err));
    assert_non_null(c);
    assert_null(c->branding.name);
    assert_null(c->branding.accent);
    config_free(c);

    c = load(MINIMAL "[branding]\nname = Tukiyhdistys ry\naccent = #1F5130\naccent_dark = #9fd3ae\n"
                     "welcome = Tervetuloa!\ncontact = Soita 010 123 4567\n",
             err, sizeof(err));
    assert_non_null(c);
    assert_string_equal(c->branding.name, "Tukiyhdistys ry");
    assert_string_equal(c->branding.accent, "#1F5130");
    assert_string_equal(c->branding.contact, "Soita 010 123 4567");
    config_free(c);

    expect_error(MINIMAL "[branding]\ncolour = #000000\n", 7, "unknown key [branding] colour");
    expect_error(MINIMAL "[branding]\nname = a\nname = b\n", 8, "duplicate key");
    expect_error(MINIMAL "[branding]\naccent = green\n", 7,
                 "[branding] accent = green: use #rrggbb");
    expect_error(MINIMAL "[branding]\naccent = #12345\n", 7, "use #rrggbb");
    expect_error(MINIMAL "[branding]\naccent = #12345g\n", 7, "use #rrggbb");
    /* Yellow: white button text on it is unreadable (1.51:1). */
    expect_error(
        MINIMAL "[branding]\naccent = #ffcc00\n", 7,
        "[branding] accent: #ffcc00 fails WCAG AA contrast for white button text "
        "(--on-accent) on the accent (#ffffff): 1.51:1, needs 4.5:1; pick a darker colour");
    /* #767676 passes on white (4.54:1) but not on the page background #f7f7f4. */
    expect_error(MINIMAL "[branding]\naccent = #767676\n", 7, "on the page background (--bg)");
    expect_error(MINIMAL "[branding]\naccent_dark = #225e8c\n", 7, "pick a lighter colour");
    char long_name[BRANDING_NAME_MAX + 40];
    memset(long_name, 'a', BRANDING_NAME_MAX + 1);
    long_name[BRANDING_NAME_MAX + 1] = '\0';
    char text[512];
    snprintf(text, sizeof(text), MINIMAL "[branding]\nname = %s\n", long_name);
    expect_error(text, 7, "[branding] name: longer than 80 characters");
    expect_error(MINIMAL "[branding]\nwelcome = \x1b[31m\n", 7, "control character");
    expect_error(MINIMAL "[branding]\ncontact = \xff\n", 7, "not UTF-8");
}

/* The WCAG relative luminance: the known ratios, and the client's own
 * accents pass in their schemes. */
static void accent_contrast(void **state)
{
    (void)state;
    char why[256];
    assert_true(branding_contrast(0x000000, 0xffffff) > 20.99);
    assert_true(branding_contrast(0xffffff, 0x000000) < 21.01);
    assert_true(branding_contrast(0x777777, 0x777777) == 1.0);
    double r = branding_contrast(0x767676, 0xffffff); /* the classic 4.54:1 */
    assert_true(r > 4.53 && r < 4.55);
    assert_int_equal(branding_accent_check(0x225e8c, false, why, sizeof(why)), 0);
    assert_int_equal(branding_accent_check(0x7cb6e2, true, why, sizeof(why)), 0);
    assert_int_equal(branding_accent_check(0x7cb6e2, false, why, sizeof(why)), -1);
    assert_int_equal(branding_accent_check(0x225e8c, true, why, sizeof(why)), -1);
}

/* The logo: named .svg or .png, at most 64 KiB, and what its name says. */
static void branding_logo_is_checked(void **state)
{
    (void)state;
    char dir[] = "/tmp/kamrat-test-config-logo-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char logo[96], text[512], err[512];
    snprintf(logo, sizeof(logo), "%s/logo.svg", dir);
    const char *head = "[server]\naddress = 127.0.0.1\norigin = http://127.0.0.1:9001\n"
                       "web_root = /\ndata_dir = /tmp\n[tls]\nenabled = no\n";
    snprintf(text, sizeof(text), "%s[branding]\nlogo = %s\n", head, logo);
    struct config *c = load(text, err, sizeof(err));
    assert_non_null(c);

    assert_int_equal(config_check_files(c, err, sizeof(err)), -1); /* missing */
    if (!strstr(err, ":9: [branding] logo ") || !strstr(err, "No such file"))
        fail_msg("error '%s'", err);
    write_text(logo, "<svg xmlns=\"http://www.w3.org/2000/svg\"/>");
    assert_int_equal(config_check_files(c, err, sizeof(err)), 0);
    write_text(logo, "GIF89a");
    assert_int_equal(config_check_files(c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not an SVG image"));
    char *big = malloc(BRANDING_LOGO_MAX + 2);
    assert_non_null(big);
    memset(big, ' ', BRANDING_LOGO_MAX + 1);
    memcpy(big, "<svg", 4);
    big[BRANDING_LOGO_MAX + 1] = '\0';
    write_text(logo, big);
    free(big);
    assert_int_equal(config_check_files(c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "larger than 65536 bytes"));
    config_free(c);
    unlink(logo);

    snprintf(logo, sizeof(logo), "%s/logo.gif", dir);
    write_text(logo, "GIF89a");
    snprintf(text, sizeof(text), "%s[branding]\nlogo = %s\n", head, logo);
    c = load(text, err, sizeof(err));
    assert_non_null(c);
    assert_int_equal(config_check_files(c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "name it *.svg or *.png"));
    config_free(c);
    unlink(logo);
    rmdir(dir);
}

/* [cluster]: absent means one node; present, node_id is required and Redis
 * defaults to 127.0.0.1:6379. */
static void cluster_section(void **state)
{
    (void)state;
    char err[256];
    struct config *c = load(MINIMAL, err, sizeof(err));
    assert_non_null(c);
    assert_null(c->cluster.node_id);
    assert_null(c->cluster.redis_host);
    config_free(c);

    c = load(MINIMAL "[cluster]\nnode_id = helsinki-1\n", err, sizeof(err));
    assert_non_null(c);
    assert_string_equal(c->cluster.node_id, "helsinki-1");
    assert_string_equal(c->cluster.redis_host, "127.0.0.1");
    assert_int_equal(c->cluster.redis_port, 6379);
    assert_null(c->cluster.redis_password_file);
    assert_false(c->cluster.redis_tls);
    assert_false(c->cluster.allow_persistent_redis);
    config_free(c);

    static const struct {
        const char *redis, *host;
        unsigned port;
    } shapes[] = {
        {"redis.internal", "redis.internal", 6379},
        {"10.0.0.5:6380", "10.0.0.5", 6380},
        {"[fd00::5]:7000", "fd00::5", 7000},
        {"[::1]", "::1", 6379},
    };
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        char text[256];
        snprintf(text, sizeof(text),
                 MINIMAL "[cluster]\nnode_id = a\nredis = %s\nallow_persistent_redis = yes\n",
                 shapes[i].redis);
        c = load(text, err, sizeof(err));
        assert_non_null(c);
        assert_string_equal(c->cluster.redis_host, shapes[i].host);
        assert_int_equal(c->cluster.redis_port, shapes[i].port);
        assert_true(c->cluster.allow_persistent_redis);
        config_free(c);
    }

    static const struct {
        const char *text; /* after MINIMAL and "[cluster]" (line 6) */
        int line;
        const char *words;
    } bad[] = {
        {"", 6, "missing required key [cluster] node_id"},
        {"redis = 10.0.0.5\n", 6, "missing required key [cluster] node_id"},
        {"node_id = Helsinki\n", 7, "a-z, 0-9 and -"},
        {"node_id = a_b\n", 7, "a-z, 0-9 and -"},
        {"node_id = 123456789012345678901234567890123\n", 7, "1 to 32"},
        {"node_id = a\nredis = ::1\n", 8, "[IPv6]:port"},
        {"node_id = a\nredis = host:0\n", 8, "host:port"},
        {"node_id = a\nredis = host:x\n", 8, "host:port"},
        {"node_id = a\nredis = [::1\n", 8, "host:port"},
        {"node_id = a\nredis_tls = yes\n", 8, "has no TLS"},
        {"node_id = a\nallow_persistent_redis = maybe\n", 8, "yes or no"},
        {"node_id = a\nnode_id = b\n", 8, "duplicate key"},
        {"node_id = a\nredis_user = x\n", 8, "unknown key [cluster] redis_user"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char text[256];
        snprintf(text, sizeof(text), MINIMAL "[cluster]\n%s", bad[i].text);
        expect_error(text, bad[i].line, bad[i].words);
    }

    c = load(MINIMAL "[cluster]\nnode_id = a\nredis_tls = no\n", err, sizeof(err));
    assert_non_null(c);
    assert_false(c->cluster.redis_tls);
    config_free(c);
}

/* The Redis password is the first line of its file; an empty first line or
 * a missing file is an error that names the line of the key. */
static void redis_password_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/kamrat-test-config-redis-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char file[96], text[256], err[512], password[CONFIG_PASSWORD_MAX];
    snprintf(file, sizeof(file), "%s/redis.pass", dir);
    snprintf(text, sizeof(text), MINIMAL "[cluster]\nnode_id = a\nredis_password_file = %s\n",
             file);
    struct config *c = load(text, err, sizeof(err));
    assert_non_null(c);

    assert_int_equal(config_read_redis_password(c, password, sizeof(password), err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, ":8: [cluster] redis_password_file"));
    assert_non_null(strstr(err, "No such file"));

    write_text(file, "correct horse battery\nsecond line is ignored\n");
    assert_int_equal(config_read_redis_password(c, password, sizeof(password), err, sizeof(err)),
                     0);
    assert_string_equal(password, "correct horse battery");

    write_text(file, "\nsecret on the second line\n");
    assert_int_equal(config_read_redis_password(c, password, sizeof(password), err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "the first line is empty"));

    write_text(file, "0123456789abcdef");
    assert_int_equal(config_read_redis_password(c, password, 8, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "longer than 7 bytes"));
    config_free(c);
    unlink(file);
    rmdir(dir);
}

/* [store]: absent is SQLite as before; postgresql needs its connection
 * string, which may hold no password; the postgresql keys need the engine. */
static void store_section(void **state)
{
    (void)state;
    char err[512];
    struct config *c = load(MINIMAL, err, sizeof(err));
    assert_non_null(c);
    assert_false(c->store.postgresql);
    assert_null(c->store.conninfo);
    config_free(c);
    c = load(MINIMAL "[store]\nengine = sqlite\n", err, sizeof(err));
    assert_non_null(c);
    assert_false(c->store.postgresql);
    config_free(c);
    c = load(MINIMAL "[store]\nengine = postgresql\npostgresql = host=db.example dbname=kamrat\n"
                     "postgresql_password_file = /etc/kamrat/pg-password\n",
             err, sizeof(err));
    assert_non_null(c);
    assert_true(c->store.postgresql);
    assert_string_equal(c->store.conninfo, "host=db.example dbname=kamrat");
    assert_string_equal(c->store.password_file, "/etc/kamrat/pg-password");
    assert_int_equal(c->line_store_password_file, 9);
    config_free(c);

    const struct {
        const char *text; /* after MINIMAL and "[store]" (line 6) */
        int line;
        const char *words;
    } bad[] = {
        {"engine = mysql\n", 7, "[store] engine = mysql: use sqlite or postgresql"},
        {"engine = postgresql\n", 0, "missing required key [store] postgresql"},
        {"postgresql = dbname=kamrat\n", 7, "[store] postgresql needs [store] engine = postgresql"},
        {"engine = sqlite\npostgresql_password_file = /p\n", 8, "needs [store] engine"},
        {"engine = postgresql\npostgresql = host=x password=Hunter2-secret\n", 8,
         "holds a password"},
        {"engine = postgresql\npostgresql = postgresql://kamrat:Hunter2-secret@db/kamrat\n", 8,
         "holds a password"},
        {"engine = postgresql\npostgresql = host=x Hunter2-secret\n", 8,
         "not a libpq connection string"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char text[512];
        snprintf(text, sizeof(text), MINIMAL "[store]\n%s", bad[i].text);
        expect_error(text, bad[i].line, bad[i].words);
        struct config *none = load(text, err, sizeof(err));
        assert_null(none);
        if (strstr(err, "Hunter2"))
            fail_msg("the error repeats the password: %s", err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(minimal_file_gets_defaults),
        cmocka_unit_test(errors_name_the_line),
        cmocka_unit_test(origin_port_shapes_host),
        cmocka_unit_test(check_files_reports_missing_cert),
        cmocka_unit_test(plain_websocket_only_on_loopback),
        cmocka_unit_test(clock_offset_for_tests),
        cmocka_unit_test(safety_files_are_checked),
        cmocka_unit_test(cluster_section),
        cmocka_unit_test(redis_password_file),
        cmocka_unit_test(store_section),
        cmocka_unit_test(branding_section),
        cmocka_unit_test(accent_contrast),
        cmocka_unit_test(branding_logo_is_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
