// GET /metrics (the operator's view, issue "self-hosting"): Prometheus text
// format 0.0.4, checked by a strict parser; values that follow the traffic;
// only the configured addresses may read it.

import assert from 'node:assert/strict';
import { connect, httpRequest, join, runKamratd, prepareConfig, startServer, test, uid, waitFor } from './lib/harness.mjs';

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"$/;

/**
 * Parses the exposition format strictly: every line is `# HELP name text`,
 * `# TYPE name counter|gauge|histogram|summary|untyped` or a sample
 * `name{labels} value`; a family is typed once, before its samples; a
 * histogram's samples are name_bucket (with le), name_sum, name_count.
 * Returns Map(sample key -> number), the key being `name{a="b",...}`.
 */
function parseMetrics(text) {
    assert.ok(text.endsWith('\n'), 'the page ends with a newline');
    const types = new Map();
    const samples = new Map();
    for (const line of text.slice(0, -1).split('\n')) {
        const meta = /^# (HELP|TYPE) (\S+) (.+)$/.exec(line);
        if (meta) {
            assert.match(meta[2], NAME, line);
            if (meta[1] === 'TYPE') {
                assert.ok(!types.has(meta[2]), `${meta[2]} typed twice`);
                assert.match(meta[3], /^(counter|gauge|histogram|summary|untyped)$/, line);
                types.set(meta[2], meta[3]);
            }
            continue;
        }
        const m = /^([^{ ]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
        assert.ok(m, `not a sample line: ${JSON.stringify(line)}`);
        const [, name, labels = '', value] = m;
        assert.match(name, NAME, line);
        const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
        assert.ok(types.has(family), `${name} has no TYPE before it`);
        if (types.get(family) === 'histogram') assert.notEqual(family, name, `${name}: a histogram's samples are _bucket, _sum, _count`);
        const pairs = labels ? labels.split(',').map((l) => {
            const lm = LABEL.exec(l);
            assert.ok(lm, `bad label ${l} in ${line}`);
            return `${lm[1]}="${lm[2]}"`;
        }) : [];
        const v = Number(value === '+Inf' ? Infinity : value);
        assert.ok(!Number.isNaN(v), `bad value in ${line}`);
        const key = pairs.length ? `${name}{${pairs.join(',')}}` : name;
        assert.ok(!samples.has(key), `${key} twice`);
        samples.set(key, v);
    }
    return samples;
}

async function scrape(server, opts = {}) {
    const r = await httpRequest(server, { path: '/metrics', ...opts });
    if (r.status !== 200) return { status: r.status };
    assert.match(r.headers['content-type'], /^text\/plain; version=0\.0\.4/);
    return { status: 200, m: parseMetrics(r.body) };
}

test('GET /metrics: a strict Prometheus page whose values follow the traffic', async () => {
    const s = await startServer({ limits: { rate_per_sec: 100, rate_burst: 100 } });
    const before = (await scrape(s)).m;
    assert.equal(before.get('kamrat_connections'), 0);
    assert.equal(before.get('kamrat_messages_total'), 0);
    assert.ok(before.has('kamrat_errors_total{code="bad_json"}'));
    assert.ok(before.has('kamrat_event_loop_lag_seconds_bucket{le="+Inf"}'));

    const room = uid('metrics-');
    const a = await join(s, room, 'Ada');
    const b = await join(s, room, 'Bo');
    for (let i = 0; i < 3; i++) {
        const ack = await a.client.sayAndWait(`hello ${i}`);
        await b.client.next((m) => m.type === 'message' && m.seq === ack.seq);
    }
    await a.client.sendRaw('{not json');
    assert.equal((await a.client.nextReply()).code, 'bad_json');

    const after = (await scrape(s)).m;
    assert.equal(after.get('kamrat_connections'), 2);
    assert.equal(after.get('kamrat_rooms'), 1);
    assert.equal(after.get('kamrat_members'), 2);
    assert.equal(after.get('kamrat_messages_total'), 3);
    // Each message to two members, and the presence events: at least 6 deliveries.
    assert.ok(after.get('kamrat_deliveries_total') >= 6);
    assert.equal(after.get('kamrat_connections_accepted_total'), 2);
    assert.equal(after.get('kamrat_errors_total{code="bad_json"}'), 1);
    assert.ok(after.get('kamrat_websocket_sent_bytes_total') > 0);
    assert.ok(after.get('kamrat_websocket_received_bytes_total') > 0);
    // The lag histogram fills as the loop runs (a timer twice a second).
    await waitFor(async () => (await scrape(s)).m.get('kamrat_event_loop_lag_seconds_count') >= 1, { timeout: 3000, desc: 'a lag sample' });
    const lag = (await scrape(s)).m;
    const buckets = [...lag].filter(([k]) => k.startsWith('kamrat_event_loop_lag_seconds_bucket'));
    for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i][1] >= buckets[i - 1][1], 'buckets are cumulative');
    assert.equal(buckets.at(-1)[1], lag.get('kamrat_event_loop_lag_seconds_count'));
});

test('GET /metrics only from the allowed addresses: loopback by default, else [server] metrics_allow', async () => {
    const s = await startServer();
    assert.equal((await scrape(s)).status, 200, 'from 127.0.0.1');
    assert.equal((await scrape(s, { localAddress: '127.0.0.2' })).status, 403, 'from 127.0.0.2');
    const t = await startServer({ server: { metrics_allow: '127.0.0.2 ::1' } });
    assert.equal((await scrape(t, { localAddress: '127.0.0.2' })).status, 200);
    assert.equal((await scrape(t)).status, 403, 'loopback is no longer allowed when not listed');
});

test('[server] metrics_allow that is not a list of addresses: exit 78 naming it', async () => {
    const cfg = await prepareConfig({ server: { metrics_allow: '127.0.0.1 prometheus.example' } });
    const r = await runKamratd(['-t', '-c', cfg.configPath]);
    assert.equal(r.code, 78, r.stderr);
    assert.match(r.stderr, /metrics_allow: prometheus\.example is not an IP address/);
});
