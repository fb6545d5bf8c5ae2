// Leader login over HTTP against the real kamratd (protocol/README.md "Leader
// login (HTTP)", TESTPLAN §2 Login and Secrets, §C5 and §E): POST /api/login and
// POST /api/logout, the Origin rule, body limits, one answer for every failure,
// throttling per account and per address, and key derivations that stay off the
// event loop.
//
// Attempts are counted per client address, so each test sends from loopback
// addresses of its own (127.0.1.x and up, via localAddress); 127.0.0.1 is left
// for /healthz and the WebSocket clients.

import assert from 'node:assert/strict';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { delay, health, join, runKamratctl, serverFixture, startServer, storeBarrier, test, uid } from './lib/harness.mjs';

const server = serverFixture({
    limits: { max_conns_per_address: 100, rate_per_sec: 1000, rate_burst: 10000 },
});

const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;
const FAILED = '{"error":"login_failed"}';
const HOUR_MS = 3600 * 1000;

let addrCount = 0;
/** A loopback address no other request of this file has used. */
function freshAddress() {
    addrCount += 1;
    return `127.0.${1 + Math.floor(addrCount / 250)}.${(addrCount % 250) + 1}`;
}

/**
 * One HTTPS request from localAddress (default: a fresh one). opts: method
 * (POST), path (/api/login), json (an object to send), body (raw), headers,
 * origin (default the server's; null sends none). Resolves {status, headers,
 * body, json}.
 */
function api(s, { method = 'POST', path = '/api/login', json, body, headers = {}, origin = s.origin, localAddress = freshAddress() } = {}) {
    const payload = json !== undefined ? JSON.stringify(json) : body;
    const h = { Host: `localhost:${s.port}`, ...headers };
    if (origin !== null) h.Origin = origin;
    if (json !== undefined && !('Content-Type' in h)) h['Content-Type'] = 'application/json';
    return new Promise((resolve, reject) => {
        const req = https.request(
            { host: '127.0.0.1', port: s.port, servername: 'localhost', ca: s.ca, method, path, agent: false, headers: h, localAddress, timeout: 10000 },
            (res) => {
                const chunks = [];
                res.on('data', (c) => chunks.push(c));
                res.on('end', () => {
                    const text = Buffer.concat(chunks).toString('utf8');
                    let parsed = null;
                    try {
                        parsed = JSON.parse(text);
                    } catch {
                        // Not every answer has a JSON body (204, HEAD).
                    }
                    resolve({ status: res.statusCode, headers: res.headers, body: text.trimEnd(), json: parsed });
                });
                res.on('error', reject);
            },
        );
        req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within 10 s`)));
        req.on('error', reject);
        req.end(payload);
    });
}

const login = (s, username, password, opts = {}) => api(s, { json: { username, password }, ...opts });

async function ctl(s, args, input) {
    const r = await runKamratctl(['-c', s.configPath, ...args], { input, timeout: 20000 });
    assert.equal(r.code, 0, `kamratctl ${args.join(' ')}: exit ${r.code}\n${r.stderr}${r.stdout}`);
    return r.stdout;
}

/** A new leader account with a fresh name; resolves {username, password}. */
async function addLeader(s, prefix = 'l') {
    const username = uid(prefix).toLowerCase();
    const password = `pw-${uid('secret')}-long enough`;
    await ctl(s, ['leader', 'add', username, '--password-stdin'], `${password}\n`);
    return { username, password };
}

async function audit(s) {
    await storeBarrier(s); // kamratd writes its rows on its store worker
    return JSON.parse(await ctl(s, ['--json', 'audit', '--limit', '100000']));
}

function assertSecurityHeaders(r) {
    assert.equal(r.headers['cache-control'], 'no-store');
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.match(String(r.headers['content-security-policy']), /default-src 'none'/);
    assert.match(String(r.headers['strict-transport-security']), /max-age=63072000/);
    assert.equal(r.headers['referrer-policy'], 'no-referrer');
}

test('a leader logs in: a 43-character token, expiry, no-store and security headers', async () => {
    const s = await server();
    const { username, password } = await addLeader(s);
    const before = Date.now();
    const r = await login(s, username, password);
    assert.equal(r.status, 200, r.body);
    assert.match(String(r.headers['content-type']), /^application\/json/);
    assertSecurityHeaders(r);
    assert.deepEqual(Object.keys(r.json).sort(), ['expires_at', 'idle_timeout_s', 'role', 'token', 'username']);
    assert.equal(r.json.role, 'leader');
    assert.match(r.json.token, TOKEN_RE);
    assert.equal(r.json.username, username);
    assert.equal(r.json.idle_timeout_s, 1800);
    assert.ok(Number.isSafeInteger(r.json.expires_at));
    assert.ok(Math.abs(r.json.expires_at - (before + 12 * HOUR_MS)) < 60000, `expires_at ${r.json.expires_at} is 12 h ahead`);

    // Names are matched ignoring ASCII case; the answer names the account as stored.
    const again = await login(s, username.toUpperCase(), password);
    assert.equal(again.status, 200, again.body);
    assert.equal(again.json.username, username);
    assert.notEqual(again.json.token, r.json.token);

    // Neither the password nor a token is ever logged.
    const logs = s.logs();
    for (const secret of [password, r.json.token, again.json.token]) assert.ok(!logs.includes(secret), 'a secret in the log');
});

test('a wrong password and an unknown user get the identical 401', async () => {
    const s = await server();
    const { username } = await addLeader(s);
    const wrong = await login(s, username, 'not the password at all');
    const unknown = await login(s, uid('nobody').toLowerCase(), 'not the password at all');
    const tooLong = await login(s, 'n'.repeat(300), 'not the password at all');
    for (const r of [wrong, unknown, tooLong]) {
        assert.equal(r.status, 401, r.body);
        assert.equal(r.body, FAILED);
        assert.match(String(r.headers['content-type']), /^application\/json/);
        assertSecurityHeaders(r);
    }
    assert.deepEqual(Object.keys(wrong.headers).sort(), Object.keys(unknown.headers).sort());
});

test('a disabled leader is refused with the same 401, and may log in once enabled', async () => {
    const s = await server();
    const { username, password } = await addLeader(s, 'dis');
    await ctl(s, ['leader', 'disable', username]);
    const r = await login(s, username, password);
    assert.equal(r.status, 401, r.body);
    assert.equal(r.body, FAILED);
    await ctl(s, ['leader', 'enable', username]);
    const ok = await login(s, username, password);
    assert.equal(ok.status, 200, ok.body);
});

test('after 3 failures from 3 addresses even the right password gets 429 until the lock passes', async () => {
    const s = await server();
    const { username, password } = await addLeader(s, 'lock');
    for (let i = 0; i < 3; i++) {
        const r = await login(s, username, `wrong guess ${i}`);
        assert.equal(r.status, 401, `failure ${i + 1}: ${r.body}`);
    }
    const locked = await login(s, username, password);
    assert.equal(locked.status, 429, locked.body);
    assert.equal(locked.json.error, 'throttled');
    assert.deepEqual(Object.keys(locked.json).sort(), ['error', 'retry_after_ms']);
    assert.ok(locked.json.retry_after_ms > 0 && locked.json.retry_after_ms <= 1000, `retry_after_ms ${locked.json.retry_after_ms}`);

    // Nothing can be awaited here: the lock is a span of time.
    await delay(locked.json.retry_after_ms + 50);
    const ok = await login(s, username, password);
    assert.equal(ok.status, 200, ok.body);

    // The audit log names the account for its failures and the lock, and holds
    // no password, token or address; names no leader has are not recorded.
    const rows = await audit(s);
    const mine = rows.filter((row) => row.actor === `leader:${username}`).map((row) => row.action);
    assert.deepEqual(mine.filter((a) => a.startsWith('login')), ['login_failed', 'login_failed', 'login_failed', 'login_lock']);
    const text = JSON.stringify(rows);
    for (const secret of [password, ok.json.token, 'wrong guess', '127.0.']) assert.ok(!text.includes(secret), `${secret} in the audit log`);
    assert.ok(!rows.some((row) => /nobody/.test(row.actor)), 'an unknown name in the audit log');
});

test('more than 10 attempts a minute from one address get 429, other addresses do not', async () => {
    const s = await server();
    const address = freshAddress();
    for (let i = 0; i < 10; i++) {
        const r = await login(s, uid('nobody').toLowerCase(), 'a wrong password', { localAddress: address });
        assert.equal(r.status, 401, `attempt ${i + 1}: ${r.body}`);
    }
    // A name never tried before: the address is what is throttled, not the account.
    const eleventh = await login(s, uid('nobody').toLowerCase(), 'a wrong password', { localAddress: address });
    assert.equal(eleventh.status, 429, eleventh.body);
    assert.equal(eleventh.json.error, 'throttled');
    assert.ok(eleventh.json.retry_after_ms > 0 && eleventh.json.retry_after_ms <= 60000);
    const { username, password } = await addLeader(s);
    assert.equal((await login(s, username, password, { localAddress: address })).status, 429);
    assert.equal((await login(s, username, password)).status, 200);
});

test('Origin must be the configured origin, for login and logout', async () => {
    const s = await server();
    const { username, password } = await addLeader(s);
    const origins = [null, 'https://evil.example', 'null', `http://localhost:${s.port}`, `https://localhost:${s.port + 1}`, `${s.origin}.evil.com`];
    for (const origin of origins) {
        const r = await login(s, username, password, { origin });
        assert.equal(r.status, 403, `Origin ${origin}: ${r.body}`);
        assert.equal(r.body, '{"error":"forbidden"}');
        const out = await api(s, { path: '/api/logout', origin, headers: { Authorization: `Bearer ${'A'.repeat(43)}` } });
        assert.equal(out.status, 403, `logout with Origin ${origin}`);
    }
    assert.equal((await login(s, username, password)).status, 200);
});

test('methods, paths, media type and body limits', async () => {
    const s = await server();
    const get = await api(s, { method: 'GET' });
    assert.equal(get.status, 405);
    assert.equal(get.headers.allow, 'POST');
    assert.equal(get.body, '{"error":"method_not_allowed"}');
    assertSecurityHeaders(get);
    const head = await api(s, { method: 'HEAD' });
    assert.equal(head.status, 405);
    assert.equal(head.body, '');
    assert.equal((await api(s, { method: 'PUT', json: {} })).status, 405);
    assert.equal((await api(s, { method: 'GET', path: '/api/logout' })).status, 405);
    const missing = await api(s, { path: '/api/nothing', json: {} });
    assert.equal(missing.status, 404);
    assert.equal(missing.body, '{"error":"not_found"}');
    // Other paths keep refusing every method but GET and HEAD.
    const post = await api(s, { path: '/', json: {} });
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');

    const big = JSON.stringify({ username: 'someone', password: 'x'.repeat(5000) });
    const tooLarge = await api(s, { body: big, headers: { 'Content-Type': 'application/json' } });
    assert.equal(tooLarge.status, 413, tooLarge.body);
    assert.equal(tooLarge.body, '{"error":"too_large"}');
    const text = await api(s, { body: '{"username":"a","password":"b"}', headers: { 'Content-Type': 'text/plain' } });
    assert.equal(text.status, 415, text.body);
    const utf8 = await api(s, { json: { username: uid('nobody').toLowerCase(), password: 'wrong one' }, headers: { 'Content-Type': 'application/json; charset=utf-8' } });
    assert.equal(utf8.status, 401, utf8.body);
});

test('malformed JSON and wrong shapes get 400 bad_request', async () => {
    const s = await server();
    const json = { 'Content-Type': 'application/json' };
    const bodies = [
        '',
        '{"username": "a", ',
        'username=a&password=b',
        '[]',
        '"a"',
        '{"username":"a"}',
        '{"password":"a"}',
        '{"username":1,"password":"b"}',
        '{"username":"a","password":null}',
        '{"username":"","password":"b"}',
        '{"username":"a","password":""}',
        '{"username":"a","password":"b","extra":1}',
        '{"username":"a","username":"b","password":"c"}',
        '{"username":"a\\u0000b","password":"c"}',
        '{"username":"a","password":"\\ud800"}',
        '\u00ff\u00fe',
    ];
    for (const body of bodies) {
        const r = await api(s, { body, headers: json });
        assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.status} ${r.body}`);
        assert.equal(r.body, '{"error":"bad_request"}');
    }
});

test('logout answers 204 for a live token, twice, and for junk', async () => {
    const s = await server();
    const { username, password } = await addLeader(s);
    const { json } = await login(s, username, password);
    assert.match(json.token, TOKEN_RE);
    const bearer = (t) => ({ Authorization: `Bearer ${t}` });
    for (const headers of [bearer(json.token), bearer(json.token), bearer('A'.repeat(43)), bearer('short'), {}, { Authorization: 'Basic YTpi' }]) {
        const r = await api(s, { path: '/api/logout', headers });
        assert.equal(r.status, 204, `${JSON.stringify(headers)}: ${r.body}`);
        assert.equal(r.body, '');
        assert.equal(r.headers['cache-control'], 'no-store');
    }
    assert.ok(!s.logs().includes(json.token), 'the token in the log');
});

test('a storm of 20 logins runs at most 2 key derivations at once, and a room keeps answering in 150 ms', async () => {
    const s = await server();
    const room = uid('storm-');
    const { client } = await join(s, room, 'Ada');
    const rtt = async () => {
        const t0 = performance.now();
        const reply = await client.sayAndWait(`ping ${uid()}`);
        assert.equal(reply.type, 'ack', JSON.stringify(reply));
        return performance.now() - t0;
    };
    await rtt(); // warm up

    let done = false;
    const storm = Promise.allSettled(
        Array.from({ length: 20 }, () => login(s, uid('storm').toLowerCase(), 'a wrong password')),
    ).finally(() => {
        done = true;
    });
    const times = [];
    while (!done) {
        times.push(await rtt());
        await delay(5); // well inside the room's rate limit
    }
    for (const r of await storm) {
        assert.equal(r.status, 'fulfilled', String(r.reason));
        assert.equal(r.value.status, 401, r.value.body);
    }
    assert.ok(times.length >= 3, `only ${times.length} round trips during the storm`);
    const worst = Math.max(...times);
    assert.ok(worst < 150, `a say->ack round trip took ${worst.toFixed(1)} ms during the storm (${times.map((t) => t.toFixed(0)).join(' ')})`);
    const h = await health(s);
    assert.equal(h.kdf_max_running, 2);
});

/** Sends a login and hangs up after ms, without waiting for the answer. */
function loginAndHangUp(s, username, ms) {
    return new Promise((resolve) => {
        const req = https.request({
            host: '127.0.0.1', port: s.port, servername: 'localhost', ca: s.ca, method: 'POST', path: '/api/login', agent: false,
            localAddress: freshAddress(),
            headers: { Host: `localhost:${s.port}`, Origin: s.origin, 'Content-Type': 'application/json' },
        });
        req.on('error', () => resolve());
        req.on('response', (res) => {
            res.resume();
            res.on('end', resolve);
        });
        req.end(JSON.stringify({ username, password: 'a wrong password' }), () => setTimeout(() => {
            req.destroy();
            resolve();
        }, ms));
    });
}

test('clients that hang up while their password is checked leave the server sound', async () => {
    const s = await server();
    const { username, password } = await addLeader(s);
    await Promise.all(Array.from({ length: 12 }, (_, i) => loginAndHangUp(s, i % 2 ? username : uid('gone').toLowerCase(), i * 4)));
    // Each abandoned check still counts against the account: it ends up locked
    // (or its attempts are still in flight), and then opens again.
    let r = await login(s, username, password);
    assert.equal(r.status, 429, r.body);
    for (let i = 0; i < 10 && r.status === 429; i++) {
        await delay(r.json.retry_after_ms + 50);
        r = await login(s, username, password);
    }
    assert.equal(r.status, 200, r.body);
    assert.ok((await health(s)).status === 'ok');
});

test('shutting down with password checks queued answers or drops them and exits cleanly', async () => {
    const s = await startServer({});
    const pending = Promise.allSettled(Array.from({ length: 30 }, () => login(s, uid('late').toLowerCase(), 'a wrong password')));
    await delay(20);
    const exit = await s.stop('SIGTERM');
    assert.equal(exit.code, 0, `exit ${exit.code} signal ${exit.signal}`);
    for (const r of await pending) {
        if (r.status === 'fulfilled') assert.ok([401, 503].includes(r.value.status), `${r.value.status} ${r.value.body}`);
    }
});
