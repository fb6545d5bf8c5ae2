// Connection-level limits per client address (test plan C3): connections
// that are not WebSockets (checked at accept, before TLS: the flood guard) and
// WebSockets (checked at the upgrade) are counted apart, so a browser's HTTP
// keep-alives never lock a room's members out; and the ping/hang-up policy for
// peers that stop answering (test plan A6).

import assert from 'node:assert/strict';
import https from 'node:https';
import net from 'node:net';
import {
    OP,
    connect,
    health,
    httpRequest,
    join,
    rawConnect,
    serverFixture,
    sessionFixture,
    startServer,
    test,
    uid,
    waitFor,
    within,
} from './lib/harness.mjs';

const CAP = 3;
const server = serverFixture({
    limits: { max_conns_per_address: CAP, max_websockets_per_address: CAP, ping_interval: 5, ping_timeout: 10 },
});

/** A bare TCP connection from localAddress; resolves {sock, closed} once connected. */
async function bareTcp(s, localAddress) {
    const sock = net.connect({ host: '127.0.0.1', port: s.port, localAddress });
    sock.on('error', () => {});
    const closed = new Promise((resolve) => sock.once('close', resolve));
    await new Promise((resolve) => sock.once('connect', resolve).once('close', resolve));
    return { sock, closed, isClosed: () => sock.destroyed || sock.readyState === 'closed' };
}

test('WebSockets beyond the per-address cap are refused with 403; HTTP and other addresses still served', async () => {
    const s = await server();
    // Source addresses of their own, so the harness's own HTTP probes (from
    // 127.0.0.1) cannot take a slot.
    const from = { wsOptions: { localAddress: '127.0.0.4' } };
    const held = [];
    for (let i = 0; i < CAP; i++) held.push(await connect(s, { label: `held${i}`, ...from }));
    const over = await connect(s, { label: 'over', timeout: 3000, ...from }).catch((e) => e);
    assert.equal(over.status, 403, 'a 4th WebSocket from 127.0.0.4 is refused');
    await waitFor(() => /conn_refused reason=websocket_limit/.test(s.logs()), { desc: 'the refusal logged' });
    // The address's WebSockets do not take its HTTP slots.
    assert.equal((await httpRequest(s, { path: '/', localAddress: '127.0.0.4' })).status, 200);

    const other = await connect(s, { label: 'other', wsOptions: { localAddress: '127.0.0.5' } });
    other.send({ type: 'hello', id: 'h', room: uid('cap-'), name: 'Other' });
    assert.equal((await other.next('welcome')).type, 'welcome');

    // Releasing a slot lets the address in again.
    held[0].close();
    await held[0].closed;
    let again;
    for (let i = 0; i < 40 && !again; i++) {
        again = await connect(s, { label: 'again', timeout: 2000, ...from }).catch(() => null);
        if (!again) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(again, 'a slot freed by a closed connection can be used again');
    assert.equal((await health(s)).status, 'ok');
});

test('connections that are not WebSockets meet their own cap at accept; the WebSockets do not count', async () => {
    const s = await server();
    const addr = '127.0.0.6';
    for (let i = 0; i < CAP; i++) await connect(s, { label: `ws${i}`, wsOptions: { localAddress: addr } });
    // CAP bare connections still get in beside the CAP WebSockets ...
    const bare = [];
    for (let i = 0; i < CAP; i++) bare.push(await bareTcp(s, addr));
    // ... the next is closed at accept, while those wait for their handshake.
    const refused = await bareTcp(s, addr);
    await within(refused.closed, 3000, 'the connection over the cap to be closed');
    assert.ok(bare.every((b) => !b.isClosed()), 'the connections inside the cap stay open');
    assert.match(s.logs(), /conn_refused reason=per_address_limit/);
    for (const b of bare) b.sock.destroy();
});

test('a peer that stops answering pings is pinged, then hung up', { timeout: 30000 }, async () => {
    const s = await server();
    const room = uid('ping-');
    const watcher = await join(s, room, 'Watcher', { wsOptions: { localAddress: '127.0.0.3' } });
    const mute = await rawConnect(s, { autoPong: false, label: 'mute' });
    assert.ok(mute.upgraded);
    await mute.sendText({ type: 'hello', id: 'h', room, name: 'Mute' });
    const started = Date.now();
    const closed = await within(mute.closed, 14000, 'the silent peer to be hung up');
    const elapsed = Date.now() - started;
    assert.ok(mute.frames.some((f) => f.opcode === OP.PING), 'the server pinged before hanging up');
    assert.ok(elapsed >= 4000, `hung up after ${elapsed} ms: not before the ping interval`);
    assert.ok(elapsed <= 13000, `hung up after ${elapsed} ms`);
    assert.ok([1006, 1001, 1011].includes(closed.code) || closed.code >= 1000, `closed ${closed.code}`);
    // The watcher, which answers pings (ws does), is still connected and served.
    watcher.client.send({ type: 'say', id: 'after', text: 'still here' });
    assert.equal((await watcher.client.next('ack')).ref, 'after');
});

// The defaults of [limits] max_conns_per_address (docs/man/kamrat.conf.5).
const DEFAULT_CONN_CAP = 256;

/**
 * A browser's HTTP side: an agent that keeps its connections open between
 * requests, as browsers do (up to six to one host). get(paths) fetches them
 * all at once over the agent; each resolves its status.
 */
function browserAgent(s) {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 6, ca: s.ca, servername: 'localhost' });
    const get = (p) =>
        new Promise((resolve, reject) => {
            const req = https.get(
                { host: '127.0.0.1', port: s.port, path: p, agent, headers: { Host: `localhost:${s.port}` } },
                (res) => {
                    res.resume();
                    res.on('end', () => resolve(res.statusCode));
                    res.on('error', reject);
                },
            );
            req.on('error', reject);
        });
    return {
        agent,
        getAll: (paths) => Promise.all(paths.map(get)),
        open: () => Object.values(agent.sockets).flat().length + Object.values(agent.freeSockets).flat().length,
    };
}

const PAGE = ['/', '/css/app.css', '/js/app.js', '/js/conn.js', '/js/room.js', '/i18n/fi.json'];

test('ten browsers behind one address, each holding HTTP keep-alives, all join one session', { timeout: 60000 }, async () => {
    // The shipped limits: nothing raised for the test.
    const fx = await sessionFixture({ participants: 0, limits: { max_conns_per_address: undefined } });
    const s = fx.server;
    const browsers = Array.from({ length: 10 }, () => browserAgent(s));
    // Every browser loads the page at once, six connections each, and keeps them.
    const statuses = await Promise.all(browsers.map((b) => b.getAll(PAGE)));
    assert.deepEqual(statuses.flat(), Array(60).fill(200), 'every page load is served');
    const held = browsers.reduce((n, b) => n + b.open(), 0);
    assert.ok(held >= 30, `the browsers hold their keep-alive connections (${held})`);
    // Then every one of them joins the session over its WebSocket.
    const names = ['Sol', 'Kim', 'Ilo', 'Vesa', 'Noor', 'Aada', 'Rami', 'Tove', 'Juno', 'Eeva'];
    const joined = await Promise.all(names.map((n) => fx.enter(n)));
    assert.equal(joined.filter((j) => j.reply.type === 'welcome').length, 10);
    // And their pages go on loading over the same kind of connections.
    const again = await Promise.all(browsers.map((b) => b.getAll(PAGE.slice(0, 3))));
    assert.deepEqual(again.flat(), Array(30).fill(200));
    assert.doesNotMatch(s.logs(), /conn_refused/);
    for (const b of browsers) b.agent.destroy();
});

test('a flood of bare TCP connections from one address meets the default cap at accept (C3)', { timeout: 60000 }, async () => {
    const s = await startServer({ limits: { max_conns_per_address: undefined } });
    const member = await join(s, uid('flood-'), 'Stays', { wsOptions: { localAddress: '127.0.0.3' } });
    const over = 20;
    const socks = [];
    let closed = 0;
    for (let i = 0; i < DEFAULT_CONN_CAP + over; i++) {
        const c = await bareTcp(s, '127.0.0.2');
        c.closed.then(() => (closed += 1));
        socks.push(c.sock);
    }
    await waitFor(() => closed >= over, { timeout: 10000, desc: `${over} connections over the cap to be refused` });
    assert.match(s.logs(), /conn_refused reason=per_address_limit/);
    // The member on another address is still served.
    member.client.send({ type: 'say', id: 'after', text: 'still here' });
    assert.equal((await member.client.next('ack')).ref, 'after');
    for (const sock of socks) sock.destroy();
});
