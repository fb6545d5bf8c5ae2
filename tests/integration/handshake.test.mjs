// The WebSocket upgrade and the HTTP side of the one TLS port (protocol/README.md
// sections 1 and 10): Origin, Host, path and subprotocol checks, no extensions,
// static files with security headers, 404 and 405. Upgrades are made by hand on a
// raw TLS socket so that every header can be chosen.

import assert from 'node:assert/strict';
import {
    encodeFrame,
    httpRequest,
    join,
    OP,
    rawConnect,
    rawHttp,
    serverFixture,
    SUBPROTOCOL,
    test,
    uid,
    waitFor,
} from './lib/harness.mjs';

const server = serverFixture({ limits: { max_conns_per_address: 100 } });

/**
 * A refused upgrade: an HTTP/1.1 403 that WebSocket client libraries can read
 * (several refuse an HTTP/1.0 status line to an HTTP/1.1 request and report a
 * parse error instead of the refusal).
 */
function assertRefused(conn, what) {
    assert.notEqual(conn.status, 101, `${what}: the upgrade was accepted (${conn.statusLine})`);
    assert.match(String(conn.statusLine), /^HTTP\/1\.1 403 /, `${what}: expected HTTP/1.1 403, got ${conn.statusLine}`);
}

function assertAccepted(conn, what) {
    assert.equal(conn.status, 101, `${what}: ${conn.statusLine}`);
    assert.equal(conn.headers['sec-websocket-accept'], conn.expectedAccept, `${what}: Sec-WebSocket-Accept`);
    assert.equal(conn.headers['sec-websocket-protocol'], SUBPROTOCOL, `${what}: Sec-WebSocket-Protocol`);
    assert.match(String(conn.headers.upgrade), /^websocket$/i);
}

/**
 * Tries an upgrade that must be refused, then writes a hello and a say as if it had
 * been accepted: a server that refused must not act on them.
 */
async function refusedAttempt(s, room, opts, what) {
    const conn = await rawConnect(s, opts);
    try {
        assertRefused(conn, what);
        if (!conn.isClosed) {
            await conn.sendText({ type: 'hello', room, name: `Intruder ${uid()}` });
            await conn.sendText({ type: 'say', id: 'intruder', text: 'INTRUDER' });
        }
    } finally {
        conn.terminate();
    }
}

/** Asserts that member saw nothing in its room since it joined but its own sentinel. */
async function assertNothingRelayed(member, what) {
    const ack = await member.client.sayAndWait(`sentinel ${uid()}`);
    assert.equal(ack.type, 'ack');
    await member.client.next((m) => m.type === 'message' && m.seq === ack.seq);
    const events = member.client.events().filter((e) => e.seq > member.presence.seq);
    assert.deepEqual(events.map((e) => [e.type, e.seq, e.member]), [['message', ack.seq, member.welcome.member]], `${what}: nothing reached the room`);
    assert.equal(ack.seq, member.presence.seq + 1, `${what}: no event took a seq`);
}

test('a correct upgrade by hand: 101, accept key, kamrat.v1, and the protocol works over it', async () => {
    const s = await server();
    const conn = await rawConnect(s);
    assertAccepted(conn, 'the configured origin');
    assert.equal(conn.headers['sec-websocket-extensions'], undefined, 'no extension negotiated');
    const room = uid('raw-');
    await conn.sendText({ type: 'hello', id: 'h1', room, name: 'Raw' });
    const w = await conn.next('welcome');
    assert.equal(w.ref, 'h1');
    await conn.sendText({ type: 'say', id: 's1', text: 'hand-made frame' });
    const ack = await conn.next('ack');
    assert.equal(ack.ref, 's1');
    const m = await conn.next('message');
    assert.equal(m.text, 'hand-made frame');
    await conn.sendClose(1000);
    assert.equal((await conn.expectClose()).code, 1000);
});

test('bad Origin headers: upgrade refused, nothing relayed', async (t) => {
    const s = await server();
    const room = uid('origin-');
    const member = await join(s, room, 'Member');
    const p = s.port;
    const origins = [
        ['evil.example', 'https://evil.example'],
        ['null', 'null'],
        ['missing', null],
        ['http instead of https', `http://localhost:${p}`],
        ['another port', `https://localhost:${p + 1}`],
        ['no port', 'https://localhost'],
        ['origin as a prefix of another host', `https://localhost:${p}.evil.example`],
        ['another host on the same port', `https://127.0.0.1:${p}`],
        ['empty', ''],
    ];
    const logStart = s.logs().length;
    for (const [what, origin] of origins) {
        await t.test(what, () => refusedAttempt(s, room, { origin }, `Origin ${what}`));
    }
    await assertNothingRelayed(member, 'bad origins');
    // Refusals are logged for the operator (test plan A1), one per attempt.
    await waitFor(() => (s.logs().slice(logStart).match(/authz_fail reason=origin/g) ?? []).length >= origins.length, {
        timeout: 2000,
        desc: `${origins.length} "authz_fail reason=origin" log lines`,
    });
});

test('bad Host headers: upgrade refused', async (t) => {
    const s = await server();
    const room = uid('host-');
    const member = await join(s, room, 'Member');
    const p = s.port;
    for (const host of ['evil.example', `evil.example:${p}`, `127.0.0.1:${p}`, 'localhost', `localhost:${p + 1}`, null]) {
        await t.test(String(host), () => refusedAttempt(s, room, { host }, `Host ${host}`));
    }
    await assertNothingRelayed(member, 'bad hosts');
});

test('paths other than /ws: upgrade refused', async (t) => {
    const s = await server();
    const room = uid('path-');
    const member = await join(s, room, 'Member');
    for (const path of ['/other', '/', '/ws/', '/wss', '/ws/x', '/WS', '/healthz']) {
        await t.test(path, () => refusedAttempt(s, room, { path }, `path ${path}`));
    }
    await assertNothingRelayed(member, 'bad paths');
});

test('subprotocol: kamrat.v1 must be offered', async (t) => {
    const s = await server();
    const room = uid('proto-');
    const member = await join(s, room, 'Member');
    for (const protocol of [null, 'chat', 'kamrat.v2', 'kamrat']) {
        await t.test(`offered: ${protocol}`, () => refusedAttempt(s, room, { protocol }, `subprotocol ${protocol}`));
    }
    await t.test('offered among others: chat, kamrat.v1', async () => {
        const conn = await rawConnect(s, { protocol: 'chat, kamrat.v1' });
        assertAccepted(conn, 'chat, kamrat.v1');
        conn.terminate();
    });
    await assertNothingRelayed(member, 'bad subprotocols');
});

test('Sec-WebSocket-Version 8 or none: no 101 (test plan A3)', async () => {
    const s = await server();
    for (const version of ['8', null]) {
        const conn = await rawConnect(s, { version });
        assert.notEqual(conn.status, 101, `version ${version}: ${conn.statusLine}`);
        conn.terminate();
    }
});

test('permessage-deflate offered: 101 without Sec-WebSocket-Extensions; an RSV1 frame is closed 1002', async () => {
    const s = await server();
    const conn = await rawConnect(s, { extensions: 'permessage-deflate; client_max_window_bits' });
    assertAccepted(conn, 'permessage-deflate offered');
    assert.equal(conn.headers['sec-websocket-extensions'], undefined, `no extension in ${JSON.stringify(conn.headers)}`);
    await conn.sendText({ type: 'hello', id: 'h1', room: uid('deflate-'), name: 'Squeezer' });
    assert.equal((await conn.next('welcome')).ref, 'h1', 'plain frames work');
    // A "compressed" frame on a connection without the extension is a protocol error.
    await conn.write(encodeFrame({ opcode: OP.TEXT, rsv: 4, payload: '{"type":"say","id":"z","text":"hi"}' }));
    const closed = await conn.expectClose();
    assert.equal(closed.code, 1002);
});

test('GET / serves the web client with security headers', async () => {
    const s = await server();
    for (const path of ['/', '/index.html']) {
        const r = await httpRequest(s, { path });
        assert.equal(r.status, 200, `GET ${path}`);
        assert.match(String(r.headers['content-type']), /^text\/html/, `GET ${path} content-type`);
        assert.match(r.body, /<html/i, `GET ${path} is HTML`);
        const csp = r.headers['content-security-policy'];
        assert.ok(csp, `GET ${path} has a Content-Security-Policy`);
        assert.match(csp, /default-src 'none'|default-src 'self'/, `CSP has a default-src: ${csp}`);
        assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, `CSP allows no inline script: ${csp}`);
        assert.match(csp, /frame-ancestors 'none'/, `CSP forbids framing: ${csp}`);
        assert.equal(r.headers['x-content-type-options'], 'nosniff');
        assert.equal(r.headers['referrer-policy'], 'no-referrer');
        assert.match(String(r.headers['strict-transport-security']), /max-age=\d+/);
        assert.doesNotMatch(String(r.headers.server ?? ''), /\d/, 'no server version');
    }
    const head = await httpRequest(s, { method: 'HEAD', path: '/' });
    assert.equal(head.status, 200, 'HEAD /');
    assert.equal(head.body, '', 'HEAD has no body');
});

test('unknown paths are 404, traversal finds nothing', async () => {
    const s = await server();
    for (const path of ['/no-such-file', '/api/nothing', '/index.html/x', '/.git/config']) {
        const r = await httpRequest(s, { path });
        assert.equal(r.status, 404, `GET ${path}`);
    }
    for (const path of ['/../../../../etc/passwd', '/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2f..%2fetc%2fpasswd', '/css/../../meson.build']) {
        const r = await rawHttp(s, `GET ${path} HTTP/1.1\r\nHost: localhost:${s.port}\r\nConnection: close\r\n\r\n`);
        assert.ok([400, 403, 404].includes(r.status) || r.status === null, `GET ${path}: ${r.statusLine}`);
        assert.doesNotMatch(r.body, /root:|project\(/, `GET ${path} leaked a file`);
    }
});

test('methods other than GET and HEAD: 405', async () => {
    const s = await server();
    for (const [method, path] of [['POST', '/'], ['POST', '/ws'], ['PUT', '/index.html'], ['DELETE', '/healthz'], ['OPTIONS', '/'], ['PATCH', '/']]) {
        const r = await httpRequest(s, { method, path, body: method === 'OPTIONS' ? undefined : 'x=1' });
        assert.equal(r.status, 405, `${method} ${path}`);
    }
});
