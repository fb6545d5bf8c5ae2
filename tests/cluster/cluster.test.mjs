// Several kamratd nodes on one Redis, first slice (protocol/README.md §8
// [cluster], docs/admin.md "Several nodes (Redis)"): membership only. Each test
// starts its own redis-server on a random loopback port that keeps nothing on
// disk unless the test says otherwise, and stops it by its PID.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
    delay,
    freePort,
    health,
    httpRequest,
    join,
    makeTempDir,
    prepareConfig,
    runKamratd,
    startServer,
    test,
    uid,
    waitFor,
} from '../integration/lib/harness.mjs';
import { cli, clusterSection, redisSkip as skip, startRedis, withRedis } from './lib.mjs';

const TTL_MS = 3000; // server/cluster.c

const nodeKey = (id) => `kamrat:node:${id}`;
const pttl = async (redis, id) => Number(await cli(redis, 'PTTL', nodeKey(id)));

/** kamratd that must refuse to start: resolves {code, stderr}. */
async function refusedStart(redis, more) {
    const cfg = await prepareConfig({ extra: clusterSection(redis, 'refused', more) });
    return runKamratd(['-c', cfg.configPath], { timeout: 10000 });
}

async function clusterHealth(server) {
    const h = await health(server);
    assert.ok(h.cluster, `/healthz has a cluster member: ${JSON.stringify(h)}`);
    return h.cluster;
}

async function metricValue(server, name) {
    const r = await httpRequest(server, { path: '/metrics' });
    assert.equal(r.status, 200);
    const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(r.body);
    return m ? Number(m[1]) : undefined;
}

test('persistence off: the node key lives with a TTL, is refreshed, and goes at SIGTERM', { skip }, async () => {
    await withRedis({}, async (redis) => {
        const s = await startServer({ extra: clusterSection(redis, 'node-a') });
        await waitFor(async () => (await clusterHealth(s)).bus === 'ok', { desc: 'the bus up' });
        assert.deepEqual(await clusterHealth(s), { node: 'node-a', redis: 'ok', bus: 'ok', live_nodes: 1 });
        // Its store is its own SQLite file: said once, with the fix.
        assert.match(s.logs(), /warn cluster_store_not_shared store=sqlite .*fix="\[store\] engine = postgresql"/);

        const first = await pttl(redis, 'node-a');
        assert.ok(first > 0 && first <= TTL_MS, `PTTL ${first} in (0, ${TTL_MS}]`);
        const value = JSON.parse(await cli(redis, 'GET', nodeKey('node-a')));
        assert.deepEqual(Object.keys(value).sort(), ['address', 'port', 'started_ms']);
        assert.equal(value.port, s.port);
        // Without refreshes the TTL would be below TTL_MS - 2500 by now.
        await delay(2500);
        const later = await pttl(redis, 'node-a');
        assert.ok(later > TTL_MS - 2000, `PTTL ${later} after 2.5 s: the key is refreshed`);
        // Only node keys reach Redis in this slice.
        assert.deepEqual((await cli(redis, '--scan')).split('\n'), [nodeKey('node-a')]);

        assert.equal(await metricValue(s, 'kamrat_cluster_live_nodes'), 1);
        assert.equal(await metricValue(s, 'kamrat_cluster_redis_up'), 1);

        assert.deepEqual(await s.stop('SIGTERM'), { code: 0, signal: null });
        assert.equal(await pttl(redis, 'node-a'), -2, 'the key is deleted at a clean shutdown');
    });
});

test('without [cluster]: no cluster in /healthz or /metrics', async () => {
    const s = await startServer();
    const h = await health(s);
    assert.equal(h.status, 'ok');
    assert.ok(!('cluster' in h), JSON.stringify(h));
    const r = await httpRequest(s, { path: '/metrics' });
    assert.doesNotMatch(r.body, /kamrat_cluster_/);
    assert.doesNotMatch(s.logs(), /cluster_/);
});

test('a Redis that writes an append-only file: kamratd refuses to start', { skip }, async () => {
    await withRedis({ appendonly: 'yes' }, async (redis) => {
        const r = await refusedStart(redis);
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stderr, /start_failed reason=".*appendonly yes.*appendonly no.*allow_persistent_redis/);
        assert.equal(await cli(redis, 'DBSIZE'), '0', 'nothing was written');
    });
});

test('a Redis that saves snapshots (save "900 1"): kamratd refuses to start', { skip }, async () => {
    await withRedis({ save: '900 1' }, async (redis) => {
        const r = await refusedStart(redis);
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stderr, /start_failed reason=".*save '900 1'.*save ''/);
        assert.doesNotMatch(r.stderr, /appendonly yes/);
    });
});

test('allow_persistent_redis = yes: starts, with a warning that states the consequence', { skip }, async () => {
    await withRedis({ appendonly: 'yes' }, async (redis) => {
        const s = await startServer({ extra: clusterSection(redis, 'node-a', { allow_persistent_redis: 'yes' }) });
        assert.match(s.logs(), /warn cluster_redis_persistent .*appendonly=yes .*may reach its disk/);
        await waitFor(async () => (await clusterHealth(s)).redis === 'ok', { desc: 'redis ok' });
    });
});

test('a Redis that refuses CONFIG: refused, unless allowed', { skip }, async () => {
    await withRedis({ 'rename-command': ['CONFIG', ''] }, async (redis) => {
        const r = await refusedStart(redis);
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stderr, /start_failed reason=".*refused CONFIG GET.*cannot tell/);
        const s = await startServer({ extra: clusterSection(redis, 'node-a', { allow_persistent_redis: 'yes' }) });
        assert.match(s.logs(), /warn cluster_redis_persistence_unknown /);
    });
});

test('a Redis with a password: AUTH from redis_password_file; none given: refused', { skip }, async () => {
    const password = `pw-${uid()}`;
    await withRedis({ requirepass: password }, async (redis) => {
        const r = await refusedStart(redis);
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stderr, /start_failed reason=".*wants a password.*redis_password_file/);
        assert.ok(!r.stderr.includes(password));

        const file = path.join(makeTempDir(), 'redis.pass');
        fs.writeFileSync(file, `${password}\n`, { mode: 0o600 });
        const s = await startServer({ extra: clusterSection(redis, 'node-a', { redis_password_file: file }) });
        await waitFor(async () => (await clusterHealth(s)).live_nodes === 1, { desc: 'live_nodes 1' });
        assert.ok(!s.logs().includes(password), 'the password is never logged');
    });
});

test('Redis not reachable at start: kamratd refuses to start', async () => {
    const port = await freePort(); // nothing listens there
    const r = await refusedStart({ port });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`start_failed reason="cannot reach Redis at 127\\.0\\.0\\.1:${port}`));
});

test('Redis killed and restarted: rooms keep working, the node registers again', { skip }, async () => {
    let redis = await startRedis();
    try {
        const s = await startServer({ extra: clusterSection(redis, 'node-a') });
        await waitFor(async () => (await clusterHealth(s)).redis === 'ok', { desc: 'redis ok' });
        const room = uid('room-');
        const a = await join(s, room, 'Aino');
        const b = await join(s, room, 'Bertil');

        await redis.stop('SIGKILL');
        await waitFor(async () => (await clusterHealth(s)).redis === 'down', { timeout: 5000, desc: 'redis down' });
        assert.equal(await metricValue(s, 'kamrat_cluster_redis_up'), 0);
        const ack = await a.client.sayAndWait('still here while Redis is away');
        assert.equal(ack.type, 'ack');
        await b.client.next((m) => m.type === 'message' && m.text === 'still here while Redis is away');
        await delay(1000); // a few reconnect attempts fail meanwhile (every 250 ms)
        assert.equal(s.logs().match(/cluster_redis_lost/g)?.length, 1, 'lost is logged once per outage');

        redis = await startRedis({}, { port: redis.port, dir: redis.dir });
        await waitFor(async () => (await pttl(redis, 'node-a')) > 0, { timeout: 8000, desc: 'the key back' });
        await waitFor(async () => (await clusterHealth(s)).redis === 'ok', { timeout: 3000, desc: 'redis ok' });
        assert.match(s.logs(), /info cluster_redis_back /);
        const again = await a.client.sayAndWait('and after');
        assert.equal(again.type, 'ack');
        await b.client.next((m) => m.type === 'message' && m.text === 'and after');
    } finally {
        await redis.stop();
    }
});

test('two nodes see each other; a node that dies is gone within the TTL', { skip }, async () => {
    await withRedis({}, async (redis) => {
        const a = await startServer({ extra: clusterSection(redis, 'node-a') });
        const b = await startServer({ extra: clusterSection(redis, 'node-b') });
        for (const s of [a, b]) {
            await waitFor(async () => (await clusterHealth(s)).live_nodes === 2, { desc: `port ${s.port}: live_nodes 2` });
        }
        assert.equal(await metricValue(a, 'kamrat_cluster_live_nodes'), 2);
        // SIGKILL: no DEL, so only the key's TTL takes node-b out.
        const t0 = Date.now();
        await b.stop('SIGKILL');
        await waitFor(async () => (await clusterHealth(a)).live_nodes === 1, {
            timeout: TTL_MS + 2000,
            interval: 200,
            desc: 'live_nodes 1 on node-a',
        });
        assert.ok(Date.now() - t0 <= TTL_MS + 1500, `node-b counted ${Date.now() - t0} ms after it died`);
    });
});

test('a second node with the same node_id is refused; a key left by a crash is waited out', { skip }, async () => {
    await withRedis({}, async (redis) => {
        const a = await startServer({ extra: clusterSection(redis, 'twin') });
        try {
            await waitFor(async () => (await clusterHealth(a)).live_nodes === 1, { desc: 'twin registered' });
            const cfg = await prepareConfig({ extra: clusterSection(redis, 'twin') });
            const t0 = Date.now();
            const r = await runKamratd(['-c', cfg.configPath], { timeout: TTL_MS + 5000 });
            assert.equal(r.code, 1, r.stderr);
            assert.match(r.stderr, /start_failed reason=.*node_id 'twin' is in use/);
            assert.ok(Date.now() - t0 < TTL_MS + 3000, `refused after ${Date.now() - t0} ms`);
        } finally {
            await a.stop();
        }
        // What kill -9 leaves: the key, expiring. A node with that id waits
        // for it to go and starts. (3 s: longer than a start of kamratd on a
        // busy machine takes to reach its check, or it never sees the key.)
        await cli(redis, 'SET', nodeKey('phoenix'), 'left by a crash', 'PX', '3000');
        const t1 = Date.now();
        const b = await startServer({ extra: clusterSection(redis, 'phoenix') });
        try {
            assert.ok(Date.now() - t1 >= 2500, `started after ${Date.now() - t1} ms, before the key expired`);
            await waitFor(async () => (await clusterHealth(b)).live_nodes === 1, { desc: 'phoenix registered' });
            assert.match(b.stderr(), /cluster_node_key_waiting node=phoenix/);
        } finally {
            await b.stop();
        }
    });
});
