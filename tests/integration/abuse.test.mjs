// Abuse and backpressure (test plan C2, C4, C5, C6): slowloris on every stage of
// a connection, a member's message flood, a login storm and TLS renegotiation.
// Each attack runs while a probe measures how long a room message takes from
// one member to another, so "other clients are unaffected" is a number.
//
// Attackers send from loopback addresses of their own (127.0.0.x, x >= 2), so
// the per-address cap never hides what the server does with them.

import assert from 'node:assert/strict';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import {
    OP,
    connect,
    delay,
    encodeFrame,
    health,
    httpRequest,
    join,
    rawConnect,
    serverFixture,
    test,
    uid,
    within,
} from './lib/harness.mjs';

// Default say limits (2/s, burst 10): the flood meets the real policy. The
// probe alternates two senders, so each stays inside it.
const server = serverFixture({ limits: { max_conns_per_address: 40, ping_interval: 5, ping_timeout: 10 } });

// Room round trips on a 2-core machine that also runs builds and browsers:
// the target is 100 ms (TESTPLAN §5); the assertion leaves room for a busy
// host and still fails on any stall of the event loop (one Argon2id run on
// the lws thread is 30 ms; a login storm of them is seconds).
const P99_MS = 200;
const PROBE_EVERY_MS = 250;

function percentile(samples, p) {
    const s = [...samples].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

/**
 * Three members of a fresh room: two take turns to say something every
 * PROBE_EVERY_MS, the third times each message's arrival. stop() resolves
 * {n, p50, p99, max} in ms.
 */
async function startProbe(s) {
    const room = uid('probe-');
    const from = { wsOptions: { localAddress: '127.0.0.1' }, strictSchema: true };
    const senders = [(await join(s, room, 'Probe A', from)).client, (await join(s, room, 'Probe B', from)).client];
    const rx = (await join(s, room, 'Probe R', from)).client;
    const samples = [];
    let running = true;
    const loop = (async () => {
        for (let i = 0; running; i++) {
            const id = uid('probe');
            const t0 = performance.now();
            senders[i % 2].send({ type: 'say', id, text: id });
            await rx.next((m) => m.type === 'message' && m.text === id, 5000);
            samples.push(performance.now() - t0);
            for (const c of [...senders, rx]) c.drain();
            await delay(PROBE_EVERY_MS);
        }
    })();
    return {
        async stop() {
            running = false;
            await loop;
            return {
                n: samples.length,
                p50: percentile(samples, 50),
                p99: percentile(samples, 99),
                max: Math.max(...samples),
            };
        },
    };
}

function fmt(st) {
    return `n=${st.n} p50=${st.p50.toFixed(1)} p99=${st.p99.toFixed(1)} max=${st.max.toFixed(1)} ms`;
}

function tlsSocket(s, localAddress) {
    return tls.connect({ host: '127.0.0.1', port: s.port, servername: 'localhost', ca: s.ca, ALPNProtocols: ['http/1.1'], localAddress });
}

/**
 * Runs an attacker socket: open() makes it, start(sock) begins whatever it
 * does once connected; bytes are written one at a time every everyMs. Resolves
 * {ms, data} when the server closes it (ms since open), or {ms: Infinity}
 * after limitMs (then destroys it).
 */
function attacker({ open, bytes = '', everyMs = 300, limitMs = 20000, event = 'secureConnect', first = '' }) {
    return new Promise((resolve) => {
        const t0 = Date.now();
        const sock = open();
        let data = '';
        let timer = null;
        let i = 0;
        const end = (ms) => {
            clearInterval(timer);
            clearTimeout(limit);
            sock.destroy();
            resolve({ ms, data });
        };
        const limit = setTimeout(() => end(Infinity), limitMs);
        sock.on('error', () => {});
        sock.on('data', (d) => (data += d));
        sock.on('close', () => end(Date.now() - t0));
        sock.on(event, () => {
            if (first) sock.write(first);
            if (!bytes) return;
            timer = setInterval(() => {
                if (!sock.destroyed) sock.write(bytes.subarray(i % bytes.length, (i % bytes.length) + 1));
                i += 1;
            }, everyMs);
        });
    });
}

test('slowloris at every stage is cut in bounded time while a room stays fast (C2)', { timeout: 60000 }, async (t) => {
    const s = await server();
    const probe = await startProbe(s);
    const host = `Host: localhost:${s.port}\r\n`;
    const json = `Origin: ${s.origin}\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n`;
    const many = (n, f) => Array.from({ length: n }, f);
    const wsTrickler = async (frameFields, addr) => {
        const c = await rawConnect(s, { autoPong: false, label: uid('trickle'), headers: [], ...addr });
        const t0 = Date.now();
        if (frameFields.hello) {
            await c.sendText({ type: 'hello', id: 'h', room: uid('trickle-'), name: uid('T') });
            await c.next('welcome');
        }
        const frame = encodeFrame({ opcode: OP.TEXT, payload: JSON.stringify(frameFields.payload) });
        let i = 0;
        const timer = setInterval(() => c.write(frame.subarray(i, ++i)), 300);
        const closed = await within(c.closed, 20000, 'a WebSocket trickler to be cut').finally(() => clearInterval(timer));
        return { ms: Date.now() - t0, code: closed.code };
    };
    const groups = {
        // TCP only, never a ClientHello.
        tcp: many(10, () => attacker({ open: () => net.connect({ port: s.port, host: '127.0.0.1', localAddress: '127.0.0.2' }), event: 'connect' })),
        // TLS done, request headers one byte at a time, never finished.
        headers: many(8, () => attacker({ open: () => tlsSocket(s, '127.0.0.3'), bytes: Buffer.from(`GET / HTTP/1.1\r\n${host}${'X-Slow: y\r\n'.repeat(400)}`) })),
        // A login whose body is trickled: the body deadline.
        loginBody: many(5, () => attacker({ open: () => tlsSocket(s, '127.0.0.4'), first: `POST /api/login HTTP/1.1\r\n${host}${json}\r\n`, bytes: Buffer.from('x') })),
        // Requests answered at once (405, 403, 204) whose bodies are trickled.
        earlyBody: [
            attacker({ open: () => tlsSocket(s, '127.0.0.5'), first: `POST / HTTP/1.1\r\n${host}${json}\r\n`, bytes: Buffer.from('x') }),
            attacker({ open: () => tlsSocket(s, '127.0.0.5'), first: `POST /api/logout HTTP/1.1\r\n${host}${json}\r\n`, bytes: Buffer.from('x') }),
            attacker({ open: () => tlsSocket(s, '127.0.0.5'), first: `POST /api/login HTTP/1.1\r\n${host}${json.replace(s.origin, 'https://evil.example')}\r\n`, bytes: Buffer.from('x') }),
            attacker({ open: () => tlsSocket(s, '127.0.0.5'), first: `GET /index.html HTTP/1.1\r\n${host}${json}\r\n`, bytes: Buffer.from('x') }),
        ],
        // After the upgrade: a hello trickled byte by byte (hello_timeout), and
        // a member trickling a frame (it cannot answer the pings inside a frame).
        wsHello: many(3, () => wsTrickler({ payload: { type: 'hello', id: 'h', room: 'r', name: 'N' } }, { localAddress: '127.0.0.6' })),
        wsFrame: many(3, () => wsTrickler({ hello: true, payload: { type: 'say', id: 's', text: 'y'.repeat(300) } }, { localAddress: '127.0.0.7' })),
    };
    // Meanwhile a newcomer still gets in quickly.
    await delay(1000);
    const t0 = performance.now();
    const newcomer = await join(s, uid('new-'), 'Newcomer');
    const joinMs = performance.now() - t0;
    const results = {};
    for (const [k, list] of Object.entries(groups)) results[k] = await Promise.all(list);
    const stats = await probe.stop();
    const worst = (k) => Math.max(...results[k].map((r) => r.ms));
    for (const k of Object.keys(groups)) t.diagnostic(`${k}: cut after ${results[k].map((r) => r.ms).join(', ')} ms`);
    t.diagnostic(`room round trips during the attack: ${fmt(stats)}; a newcomer joined in ${joinMs.toFixed(0)} ms`);

    // lws: 10 s for a TLS handshake that never starts, 5 s (timeout_secs) for
    // the request head; kamrat: 5 s for a body, hello_timeout 5 s, and the
    // ping policy (5 s / 10 s) for a frame that never ends.
    assert.ok(worst('tcp') <= 12000, `TCP without TLS held ${worst('tcp')} ms`);
    assert.ok(worst('headers') <= 7000, `trickled headers held ${worst('headers')} ms`);
    assert.ok(worst('loginBody') <= 7000, `a trickled login body held ${worst('loginBody')} ms`);
    assert.ok(worst('earlyBody') <= 3000, `a body after an early answer held ${worst('earlyBody')} ms`);
    for (const r of results.earlyBody) assert.match(r.data, /^HTTP\/1\.1 (405|403|204|200) /, 'answered, then closed');
    assert.ok(worst('wsHello') <= 7000, `a trickled hello held ${worst('wsHello')} ms`);
    for (const r of results.wsHello) assert.equal(r.code, 4401);
    assert.ok(worst('wsFrame') <= 13000, `a trickled frame held ${worst('wsFrame')} ms`);
    assert.ok(stats.p99 < P99_MS, `room p99 ${fmt(stats)}`);
    assert.ok(joinMs < 1000, `a newcomer needed ${joinMs.toFixed(0)} ms to join`);
    assert.match(s.logs(), /conn_cut reason=slow_body/);
    newcomer.client.terminate();
    await within(
        (async () => {
            while ((await health(s)).connections > 3) await delay(100);
        })(),
        5000,
        'only the probe left connected',
    );
});

test('a message flood: the burst is relayed, the rest rate_limited, then 4429; the room stays fast (C4)', { timeout: 30000 }, async (t) => {
    const s = await server();
    const probe = await startProbe(s);
    const room = uid('flood-');
    const watcher = await join(s, room, 'Watcher');
    const flooder = await join(s, room, 'Flooder', { wsOptions: { localAddress: '127.0.0.8' } });
    await delay(500);
    // 1000 messages in 1 s: ten every 10 ms, until the server hangs up.
    const t0 = performance.now();
    for (let i = 0; i < 1000 && !flooder.client.isClosed; i += 10) {
        for (let j = i; j < i + 10; j++) flooder.client.send({ type: 'say', id: `f${j}`, text: `flood ${j}` });
        await delay(10);
    }
    const closed = await flooder.client.expectClose(5000);
    const cutMs = performance.now() - t0;
    await delay(1000);
    const stats = await probe.stop();
    const replies = flooder.client.all().filter((m) => m.type === 'ack' || m.type === 'error');
    const acks = replies.filter((m) => m.type === 'ack');
    const limited = replies.filter((m) => m.code === 'rate_limited');
    t.diagnostic(`flood of 1000: ${acks.length} acked, ${limited.length} rate_limited, close ${closed.code} after ${cutMs.toFixed(0)} ms; room ${fmt(stats)}`);
    // 4429 after 100 errors, also while the flooder's frames are still
    // arriving: the server reads and drops them until the flooder's close (or
    // FIN), so its own close frame is not lost to a reset (1006).
    assert.equal(closed.code, 4429, `closed ${closed.code}`);
    assert.match(s.logs(), /conn_cut reason=abuse errors=100/);
    assert.ok(acks.length >= 10 && acks.length <= 12, `the burst (10) and little more was relayed: ${acks.length}`);
    assert.ok(limited.length >= 1, 'the flooder was told rate_limited');
    assert.equal(acks.length + limited.length, replies.length, 'no other answers');
    // The watcher got exactly the acked messages.
    const seen = watcher.client.all().filter((m) => m.type === 'message' && m.member === flooder.welcome.member);
    assert.deepEqual(seen.map((m) => m.seq), acks.map((a) => a.seq));
    assert.ok(stats.p99 < P99_MS, `room p99 ${fmt(stats)}`);
    const ack = await watcher.client.sayAndWait('after the flood');
    assert.equal(ack.type, 'ack');
});

/** POST /api/login from localAddress; resolves the status. */
function wrongLogin(s, localAddress) {
    return httpRequest(s, {
        method: 'POST',
        path: '/api/login',
        headers: { 'Content-Type': 'application/json', Origin: s.origin },
        body: JSON.stringify({ username: uid('storm').toLowerCase(), password: 'a wrong password' }),
        timeout: 20000,
        localAddress,
    }).then((r) => r.status);
}

test('a storm of 100 wrong logins from 10 addresses never stalls a room (C5)', { timeout: 60000 }, async (t) => {
    const s = await server();
    const probe = await startProbe(s);
    await delay(500);
    const t0 = performance.now();
    const statuses = await Promise.all(
        Array.from({ length: 100 }, (_, i) => wrongLogin(s, `127.0.0.${20 + (i % 10)}`)),
    );
    const stormMs = performance.now() - t0;
    await delay(500);
    const stats = await probe.stop();
    const count = (code) => statuses.filter((c) => c === code).length;
    const h = await health(s);
    t.diagnostic(`100 logins in ${stormMs.toFixed(0)} ms: 401 x${count(401)}, 503 x${count(503)}, 429 x${count(429)}; kdf_max_running ${h.kdf_max_running}; room ${fmt(stats)}`);
    assert.ok(statuses.every((c) => [401, 429, 503].includes(c)), `statuses ${[...new Set(statuses)]}`);
    assert.ok(count(401) >= 20, `at least some passwords were checked: ${count(401)}`);
    assert.ok(h.kdf_max_running <= 2, `kdf_max_running ${h.kdf_max_running}`);
    assert.ok(stats.n >= 3, `only ${stats.n} round trips`);
    assert.ok(stats.p99 < P99_MS, `room p99 ${fmt(stats)}`);
});

test('TLS renegotiation is refused (C6, Prosody CVE-2021-32920)', async () => {
    const s = await server();
    // Renegotiation exists only up to TLS 1.2; ask for it there.
    const s12 = tls.connect({ host: '127.0.0.1', port: s.port, servername: 'localhost', ca: s.ca, maxVersion: 'TLSv1.2', localAddress: '127.0.0.9' });
    await new Promise((resolve, reject) => {
        s12.once('secureConnect', resolve);
        s12.once('error', reject);
    });
    assert.equal(s12.getProtocol(), 'TLSv1.2');
    const outcome = await within(
        new Promise((resolve) => {
            s12.once('error', (e) => resolve(e.code));
            s12.renegotiate({}, (err) => resolve(err ? err.code : 'renegotiated'));
        }),
        5000,
        'the renegotiation to be answered',
    );
    s12.destroy();
    assert.equal(outcome, 'ERR_SSL_NO_RENEGOTIATION');
    assert.equal((await health(s)).status, 'ok');
});
