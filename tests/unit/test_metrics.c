/* metrics: counts, error codes and the lag histogram come out in strict
 * Prometheus text format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"

static char *page(size_t *len)
{
    struct metrics_gauges g = {.connections = 3, .rooms = 1, .members = 2, .uptime_s = 60};
    return metrics_render(&g, len);
}

static void has_line(const char *p, const char *line)
{
    size_t n = strlen(line);
    for (const char *s = p; (s = strstr(s, line)) != NULL; s++) {
        if ((s == p || s[-1] == '\n') && s[n] == '\n')
            return;
    }
    fail_msg("no line \"%s\" in:\n%s", line, p);
}

static void counters_gauges_and_errors(void **state)
{
    (void)state;
    metrics_reset();
    metrics_inc(METRIC_MESSAGES);
    metrics_add(METRIC_DELIVERIES, 41);
    metrics_inc(METRIC_DELIVERIES);
    metrics_error(PROTO_E_RATE_LIMITED);
    metrics_error(PROTO_E_RATE_LIMITED);
    metrics_error(PROTO_E_COUNT); /* out of range: ignored */
    size_t len;
    char *p = page(&len);
    assert_int_equal(strlen(p), len);
    has_line(p, "kamrat_connections 3");
    has_line(p, "kamrat_members 2");
    has_line(p, "kamrat_messages_total 1");
    has_line(p, "kamrat_deliveries_total 42");
    has_line(p, "# TYPE kamrat_deliveries_total counter");
    has_line(p, "kamrat_errors_total{code=\"rate_limited\"} 2");
    has_line(p, "kamrat_errors_total{code=\"bad_json\"} 0");
    free(p);
}

static void lag_histogram_is_cumulative(void **state)
{
    (void)state;
    metrics_reset();
    metrics_loop_lag(500);     /* <= 1 ms */
    metrics_loop_lag(7000);    /* <= 10 ms */
    metrics_loop_lag(2000000); /* beyond every bound */
    size_t len;
    char *p = page(&len);
    has_line(p, "kamrat_event_loop_lag_seconds_bucket{le=\"0.001\"} 1");
    has_line(p, "kamrat_event_loop_lag_seconds_bucket{le=\"0.005\"} 1");
    has_line(p, "kamrat_event_loop_lag_seconds_bucket{le=\"0.01\"} 2");
    has_line(p, "kamrat_event_loop_lag_seconds_bucket{le=\"1\"} 2");
    has_line(p, "kamrat_event_loop_lag_seconds_bucket{le=\"+Inf\"} 3");
    has_line(p, "kamrat_event_loop_lag_seconds_count 3");
    has_line(p, "kamrat_event_loop_lag_seconds_sum 2.007500");
    free(p);
}

/* Every line is a comment (# HELP/# TYPE) or `name{labels} value`, and every
 * family is typed before its samples. */
static void every_line_is_well_formed(void **state)
{
    (void)state;
    size_t len;
    char *p = page(&len);
    assert_true(len > 0 && p[len - 1] == '\n');
    char *save = NULL;
    for (char *line = strtok_r(p, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "# HELP kamrat_", 14) == 0 || strncmp(line, "# TYPE kamrat_", 14) == 0)
            continue;
        assert_true(strncmp(line, "kamrat_", 7) == 0);
        char *sp = strrchr(line, ' ');
        assert_non_null(sp);
        char *end;
        strtod(sp + 1, &end);
        assert_true(*end == '\0');
        for (char *c = line; c < sp && *c != '{'; c++)
            assert_true((*c >= 'a' && *c <= 'z') || *c == '_');
    }
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(counters_gauges_and_errors),
        cmocka_unit_test(lag_histogram_is_cumulative),
        cmocka_unit_test(every_line_is_well_formed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
