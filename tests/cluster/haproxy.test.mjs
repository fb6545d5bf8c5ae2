// Two kamratd nodes on one Redis behind HAProxy in tcp mode, configured with
// dist/haproxy.cfg.example itself (docs/admin.md "Several nodes (Redis)"): the
// test rewrites only what names the site (addresses, ports, the CA, the public
// name, the stats socket, the account and chroot) and keeps every other line.
// Loopback only, random ports; redis-server, both nodes and haproxy are stopped
// by their PIDs.
//
//   (a) 20 WebSocket clients come in through HAProxy, each gets a welcome, and
//       leastconn has given both nodes some of them; they are all in one room,
//       which lives on node-a (server/bus.h);
//   (b) node-b is killed (SIGKILL): its clients' sockets close, HAProxy's
//       health check marks it down within about 2 s, and the clients, each
//       reconnecting with a small jittered backoff as the web client does,
//       resume on node-a without a gap: nothing said while they were away is
//       missing;
//   (c) GET /healthz through HAProxy is the survivor's, 200;
//   (d) HAProxy keeps the per-address connection limit (the example's
//       sc0_conn_cur) that kamratd, which sees HAProxy's address only, can no
//       longer apply.
//
// Every client has a loopback source address of its own (127.0.0.10 and up),
// as participants do.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { REPO, delay, freePort, health, httpRequest, join, resume, test, waitFor } from '../integration/lib/harness.mjs';
import { haproxySkip as skip, serverStatus, startHaproxy, startNode } from './haproxy.mjs';
import { roomHomedOn, startRedis } from './lib.mjs';

const CLIENTS = 20;
const MARKED_DOWN_MS = 3000; // inter 1s fall 2, with a second to spare
const RECONNECT_MS = 10000;
// tcp-request connection reject if { sc0_conn_cur gt N }, as the example has it.
const PER_ADDRESS = Number(
    /sc0_conn_cur gt (\d+)/.exec(fs.readFileSync(path.join(REPO, 'dist/haproxy.cfg.example'), 'utf8'))[1],
);

/** The loopback source address of client i. */
const source = (i) => `127.0.0.${10 + i}`;

/**
 * Takes old's membership up again through HAProxy as the web client does after
 * a drop: a jittered backoff before every attempt, then resume with its token
 * and the last seq it saw. Resolves {client, reply, attempts}.
 */
async function rejoin(front, old, deadline) {
    const seen = Math.max(old.welcome.seq, ...old.events().map((e) => e.seq));
    for (let attempt = 1, wait = 50; ; attempt++, wait = Math.min(wait * 2, 800)) {
        await delay(wait / 2 + Math.random() * wait);
        try {
            const { client, reply } = await resume(front, {
                token: old.welcome.token,
                epoch: old.welcome.epoch,
                after_seq: seen,
                label: old.label,
                wsOptions: { localAddress: old.source },
            });
            if (reply.type !== 'welcome') throw new Error(`resume answered ${JSON.stringify(reply)}`);
            return { client, reply, attempts: attempt };
        } catch (e) {
            if (Date.now() + wait > deadline) throw new Error(`${old.label}: no way back in after ${attempt} attempts: ${e.message}`);
        }
    }
}

// One test with the three cases as steps: they share the nodes, HAProxy and
// the clients, which the harness closes at the end of each test.
test('behind HAProxy in tcp mode: two nodes, leastconn, a node killed', { skip, timeout: 120000 }, async (t) => {
    const redis = await startRedis();
    let a = null;
    let b = null;
    let hap = null;
    try {
        const hapPort = await freePort();
        const origin = `https://localhost:${hapPort}`;
        a = await startNode(redis, 'node-a', { origin });
        b = await startNode(redis, 'node-b', { origin, certsOf: a });
        hap = await startHaproxy(hapPort, [a, b], path.join(a.certDir, 'ca.pem'));
        for (const s of [a, b]) {
            await waitFor(
                async () => {
                    const c = (await health(s)).cluster;
                    return c.live_nodes === 2 && c.bus === 'ok';
                },
                { timeout: 8000, interval: 100, desc: `${s.id}: both nodes live, the bus up` },
            );
        }
        // What a browser at https://localhost:<HAProxy port>/ sees.
        const front = { port: hapPort, ca: a.ca, origin };
        const room = roomHomedOn('node-a', ['node-a', 'node-b']);
        const clients = [];

        await t.test('(a) 20 clients get a welcome through HAProxy; leastconn uses both nodes', async () => {
            for (let i = 0; i < CLIENTS; i++) {
                const { client, welcome } = await join(front, room, `p${i}`, { wsOptions: { localAddress: source(i) } });
                assert.equal(welcome.type, 'welcome');
                client.source = source(i);
                clients.push(client);
            }
            const conns = [(await health(a)).connections, (await health(b)).connections];
            t.diagnostic(`connections: node-a ${conns[0]}, node-b ${conns[1]}`);
            assert.equal(conns[0] + conns[1], CLIENTS);
            assert.ok(conns[0] > 0 && conns[1] > 0, `both nodes have clients: ${conns}`);
        });

        await t.test('(b) kill -9 of a node: marked down, its clients get back in on the other', async () => {
            const onB = (await health(b)).connections;
            assert.ok(onB > 0, 'node-b has clients');
            const closedAt = new Map();
            const back = [];
            let watching = true;
            const t0 = Date.now();
            const deadline = t0 + RECONNECT_MS;
            // Each client whose socket closes reconnects at once, as the web client does.
            for (const c of clients) {
                c.closed.then(() => {
                    if (!watching) return;
                    closedAt.set(c, Date.now() - t0);
                    back.push(rejoin(front, c, deadline).then((r) => ({ ...r, ms: Date.now() - t0 })));
                });
            }
            await b.stop('SIGKILL');
            // The room goes on on node-a while node-b's clients are away.
            const stayed = clients.find((c) => !c.isClosed);
            const said = await stayed.sayAndWait('said while they were away');
            assert.equal(said.type, 'ack');
            await waitFor(async () => (await serverStatus(hap))['node-b'] === 'DOWN', {
                timeout: MARKED_DOWN_MS + 2000,
                interval: 100,
                desc: 'haproxy to mark node-b DOWN',
            });
            const downMs = Date.now() - t0;
            await waitFor(() => closedAt.size === onB, { timeout: 2000, desc: `${onB} closed sockets` });
            const closeMs = Math.max(...closedAt.values());
            const rejoined = await Promise.all(back);
            watching = false;
            const backMs = Math.max(...rejoined.map((r) => r.ms));
            t.diagnostic(
                `node-b had ${onB} clients; their sockets closed within ${closeMs} ms of the kill; ` +
                    `node-b marked DOWN after ${downMs} ms; all back in after ${backMs} ms ` +
                    `(attempts: ${rejoined.map((r) => r.attempts).join(',')})`,
            );
            assert.ok(downMs <= MARKED_DOWN_MS, `marked down after ${downMs} ms`);
            for (const r of rejoined) {
                assert.equal(r.reply.gap, false, `${r.client.label} resumed without a gap`);
                await r.client.next({ type: 'message', seq: said.seq });
            }
            // The survivor's own clients were not touched.
            for (const c of clients.filter((x) => !closedAt.has(x))) {
                assert.equal((await c.request({ type: 'agree' })).type, 'ack');
            }
            assert.equal((await health(a)).connections, CLIENTS, 'every client is on node-a now');
            // New clients get in at the first attempt.
            for (let i = 0; i < 3; i++) await join(front, room, `late${i}`, { wsOptions: { localAddress: source(CLIENTS + i) } });
        });

        await t.test('(c) /healthz through HAProxy: 200 from the survivor', async () => {
            const r = await httpRequest(front, { path: '/healthz' });
            assert.equal(r.status, 200);
            assert.equal(JSON.parse(r.body).cluster.node, 'node-a');
        });

        await t.test(`(d) HAProxy refuses connection ${PER_ADDRESS + 1} from one address`, async () => {
            const socks = [];
            try {
                const handshakes = [];
                for (let i = 0; i <= PER_ADDRESS; i++) {
                    const s = tls.connect({ host: '127.0.0.1', port: hapPort, localAddress: '127.0.0.99', servername: 'localhost', ca: a.ca });
                    socks.push(s);
                    handshakes.push(
                        new Promise((resolve) => {
                            s.once('secureConnect', () => resolve(true));
                            s.once('error', () => resolve(false));
                            s.once('close', () => resolve(false));
                        }),
                    );
                    // In order: HAProxy counts the open ones when the next
                    // arrives. Only the TCP connection is awaited, so the
                    // hundreds are all open within the nodes' handshake
                    // deadline (5 s).
                    await new Promise((resolve) => {
                        s.once('connect', resolve);
                        s.once('close', resolve);
                    });
                }
                const ok = await Promise.all(handshakes);
                assert.deepEqual(ok, [...Array(PER_ADDRESS).fill(true), false]);
            } finally {
                for (const s of socks) s.destroy();
            }
        });
    } finally {
        await hap?.stop();
        await b?.stop();
        await a?.stop();
        await redis.stop();
    }
});
