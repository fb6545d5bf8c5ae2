// Rooms across nodes (server/bus.h): a room lives on one node, its home; the
// members connected to other nodes are served by the home through Redis pub/sub.
// Each test starts its own redis-server and three kamratd nodes on loopback.

import assert from 'node:assert/strict';
import {
    assertConsecutive,
    connect,
    delay,
    health,
    join,
    resume,
    startServer,
    test,
    uid,
    waitFor,
} from '../integration/lib/harness.mjs';
import { cli, clusterSection, redisSkip as skip, roomHomedOn, routeHex, startRedis, withRedis } from './lib.mjs';

const TTL_MS = 3000; // server/cluster.c
const MIRROR_TTL_MS = 10 * 60 * 1000; // server/mirror.h

/** Starts nodes node-a.. on redis and waits until every one sees them all and its bus is up. */
async function startNodes(redis, count = 3) {
    const ids = ['node-a', 'node-b', 'node-c'].slice(0, count);
    const nodes = [];
    for (const id of ids) {
        const s = await startServer({ extra: clusterSection(redis, id) });
        s.nodeId = id;
        nodes.push(s);
    }
    await busUp(nodes, count);
    return nodes;
}

async function busUp(nodes, live) {
    for (const s of nodes) {
        await waitFor(
            async () => {
                const c = (await health(s)).cluster;
                return c.live_nodes === live && c.bus === 'ok';
            },
            { timeout: 8000, interval: 100, desc: `${s.nodeId}: ${live} live nodes and the bus up` },
        );
    }
}

/** The node that holds the room (its rooms count), among nodes. */
async function homeOf(nodes) {
    const counts = await Promise.all(nodes.map(async (s) => (await health(s)).rooms));
    assert.equal(counts.filter((n) => n > 0).length, 1, `exactly one node holds the room: ${counts}`);
    homeOf.last = nodes[counts.findIndex((n) => n > 0)];
    return homeOf.last;
}

const messagesFrom = (client) => client.events().filter((e) => e.type === 'message');

test('members of one room on three nodes: each message reaches every member once, in seq order', { skip }, async () => {
    await withRedis({}, async (redis) => {
        const nodes = await startNodes(redis);
        const room = uid('room');
        const members = [];
        for (let i = 0; i < 6; i++) {
            const { client } = await join(nodes[i % 3], room, `m${i}`);
            members.push(client);
        }
        await homeOf(nodes);
        // Everyone talks at once, through whichever node they are on.
        const sent = [];
        await Promise.all(
            members.map(async (c, i) => {
                for (let k = 0; k < 5; k++) {
                    const text = `m${i} says ${k}`;
                    const ack = await c.sayAndWait(text);
                    assert.equal(ack.type, 'ack', `${text}: ${JSON.stringify(ack)}`);
                    sent.push({ text, seq: ack.seq });
                }
            }),
        );
        const last = Math.max(...sent.map((s) => s.seq));
        for (const c of members) {
            await c.next((m) => m.type === 'message' && m.seq === last, 5000);
            const got = messagesFrom(c);
            assert.equal(got.length, sent.length, `${c.label} got ${got.length} of ${sent.length}`);
            assert.deepEqual(new Set(got.map((m) => m.text)), new Set(sent.map((s) => s.text)));
            // Events after its own arrival: consecutive seqs, none twice.
            const after = c.events().filter((e) => e.seq > c.welcome.seq);
            assertConsecutive(after, c.label);
            for (const s of sent) assert.equal(got.find((m) => m.text === s.text).seq, s.seq);
        }
    });
});

test('resume through another node, and a resent message is acknowledged once', { skip }, async () => {
    await withRedis({}, async (redis) => {
        const nodes = await startNodes(redis);
        const room = uid('room');
        const { client: anna, welcome } = await join(nodes[0], room, 'anna');
        const { client: bo } = await join(nodes[1], room, 'bo');
        const home = await homeOf(nodes);
        const id = uid('m');
        const ack = await anna.sayAndWait('once only', id);
        assert.equal(ack.type, 'ack');
        await bo.next({ type: 'message', seq: ack.seq });
        anna.terminate();
        // Take it up again on each of the other two nodes in turn.
        let after = ack.seq - 1; // as if the ack was lost: the message comes again
        for (const via of [nodes[1], nodes[2]]) {
            const { client, reply } = await resume(via, { token: welcome.token, epoch: welcome.epoch, after_seq: after });
            assert.equal(reply.type, 'welcome', `resume on ${via.nodeId}: ${JSON.stringify(reply)}`);
            assert.equal(reply.resumed, true);
            assert.equal(reply.gap, false);
            if (after < ack.seq) {
                const again = await client.next({ type: 'message', seq: ack.seq });
                assert.equal(again.text, 'once only');
            }
            const dup = await client.sayAndWait('once only', id);
            assert.equal(dup.type, 'ack');
            assert.equal(dup.seq, ack.seq);
            assert.equal(dup.duplicate, true);
            client.terminate();
            after = ack.seq;
        }
        await delay(200);
        assert.equal(messagesFrom(bo).filter((m) => m.text === 'once only').length, 1, 'bo saw it once');
        assert.ok(home, 'the room stayed on its home');
    });
});

test('an unknown resume token on another node: resume_failed, the connection stays open', { skip }, async () => {
    await withRedis({}, async (redis) => {
        const nodes = await startNodes(redis, 2);
        const { welcome } = await join(nodes[0], uid('room'), 'anna');
        // Same route (the room's), another secret: the home does not know it.
        const forged = welcome.token.slice(0, 11) + 'A'.repeat(welcome.token.length - 11);
        for (const via of nodes) {
            const { client, reply } = await resume(via, { token: forged, epoch: welcome.epoch, after_seq: 0 });
            assert.equal(reply.type, 'error');
            assert.equal(reply.code, 'resume_failed');
            assert.equal(reply.reason, 'expired');
            assert.equal(client.isClosed, false);
            client.terminate();
        }
    });
});

test('a node dies: its members resume on another node and missed nothing', { skip }, async () => {
    await withRedis({}, async (redis) => {
        const nodes = await startNodes(redis);
        const room = uid('room');
        const joined = [];
        for (let i = 0; i < 6; i++) joined.push(await join(nodes[i % 3], room, `m${i}`));
        const home = await homeOf(nodes);
        const edge = nodes.find((s) => s !== home);
        const survivors = nodes.filter((s) => s !== edge);
        const lost = joined.filter((_, i) => nodes[i % 3] === edge);
        const stay = joined.filter((_, i) => nodes[i % 3] !== edge);
        await edge.stop('SIGKILL');
        // The room goes on while the edge's members are away.
        const said = [];
        for (const { client } of stay) said.push(await client.sayAndWait(`while away ${client.label}`));
        for (const { client, welcome } of lost) {
            const seen = Math.max(welcome.seq, ...client.events().map((e) => e.seq));
            const { client: back, reply } = await resume(survivors[0], {
                token: welcome.token,
                epoch: welcome.epoch,
                after_seq: seen,
            });
            assert.equal(reply.type, 'welcome', JSON.stringify(reply));
            assert.equal(reply.gap, false);
            for (const ack of said) await back.next({ type: 'message', seq: ack.seq });
        }
    });
});

/**
 * Resumes old's membership through one of nodes, as the web client does after a
 * close: jittered backoff, then resume with its token and the last seq it saw.
 * Resolves {client, reply}.
 */
async function resumeSomewhere(nodes, old, deadline) {
    const seen = Math.max(old.welcome.seq, ...old.events().map((e) => e.seq));
    for (let attempt = 0, wait = 100; ; attempt++, wait = Math.min(wait * 2, 1000)) {
        await delay(wait / 2 + Math.random() * wait);
        const via = nodes[attempt % nodes.length];
        try {
            const r = await resume(via, { token: old.welcome.token, epoch: old.welcome.epoch, after_seq: seen, label: old.label });
            if (r.reply.type === 'welcome') return r;
            r.client.terminate();
            if (Date.now() > deadline) throw new Error(`resume answered ${JSON.stringify(r.reply)}`);
        } catch (e) {
            if (Date.now() > deadline) throw new Error(`${old.label}: no resume: ${e.message}`);
        }
    }
}

test('the home node dies: the room moves to another node, nothing acknowledged is lost', { skip }, async () => {
    await withRedis({}, async (redis) => {
        const nodes = await startNodes(redis);
        const ids = nodes.map((s) => s.nodeId);
        const room = roomHomedOn('node-a', ids);
        const [home, ...survivors] = nodes;
        const members = [];
        for (let i = 0; i < 6; i++) members.push((await join(nodes[i % 3], room, `m${i}`)).client);
        assert.equal(await homeOf(nodes), home);
        const acked = [];
        for (const [i, c] of members.entries()) {
            const id = uid('m');
            const ack = await c.sayAndWait(`before ${i}`, id);
            assert.equal(ack.type, 'ack');
            acked.push({ id, seq: ack.seq, text: `before ${i}`, by: c });
        }
        await home.stop('SIGKILL');
        // Everyone loses the room's home: its own clients at once, the others
        // when their node sees it gone; each resumes through a survivor.
        for (const c of members) {
            const { code } = await c.expectClose(TTL_MS + 3000);
            assert.ok(code === 1001 || code === 1006, `${c.label} closed with ${code}`);
        }
        const deadline = Date.now() + TTL_MS + 10000;
        const back = await Promise.all(members.map((c) => resumeSomewhere(survivors, c, deadline)));
        for (const { reply } of back) {
            assert.equal(reply.resumed, true);
            assert.equal(reply.gap, false, 'the copy has every event');
            assert.equal(reply.seq >= acked.at(-1).seq, true);
        }
        assert.equal(await homeOf(survivors), homeOf.last);
        // A resent message is known to the new home: the same seq, once.
        for (const [i, { client }] of back.entries()) {
            const dup = await client.sayAndWait(acked[i].text, acked[i].id);
            assert.equal(dup.type, 'ack');
            assert.equal(dup.duplicate, true);
            assert.equal(dup.seq, acked[i].seq);
        }
        // And the room goes on, everyone hearing everyone.
        const after = await back[0].client.sayAndWait('after the move');
        assert.equal(after.type, 'ack');
        for (const { client } of back) await client.next({ type: 'message', seq: after.seq }, 5000);
    });
});

test('Redis restarted: crossing connections close with 1001, then resume works again', { skip }, async () => {
    const redis = await startRedis();
    try {
        const nodes = await startNodes(redis, 2);
        const room = uid('room');
        const a = await join(nodes[0], room, 'anna');
        const b = await join(nodes[1], room, 'bo');
        const home = await homeOf(nodes);
        const relayed = home === nodes[0] ? b : a;
        const local = home === nodes[0] ? a : b;
        await redis.stop('SIGKILL');
        const { code } = await relayed.client.expectClose(5000);
        assert.equal(code, 1001);
        // Members on the home node never noticed.
        const ack = await local.client.sayAndWait('Redis is away');
        assert.equal(ack.type, 'ack');
        // While Redis is away a member whose room is elsewhere is told to try
        // again later (1011).
        const other = home === nodes[0] ? nodes[1] : nodes[0];
        const early = await connect(other, { label: 'early' });
        early.send({ type: 'resume', id: 'r1', token: relayed.welcome.token, epoch: relayed.welcome.epoch, after_seq: 0 });
        assert.equal((await early.expectClose(3000)).code, 1011);
        const again = await startRedis({}, { port: redis.port, dir: redis.dir });
        try {
            await busUp(nodes, 2);
            const upAt = Date.now();
            // For a few seconds after Redis is back no node makes a room that is
            // not already there (the node that has it may not have registered
            // again, and the room's copy went with Redis): 1011, try again.
            const fresh = await connect(nodes[0], { label: 'fresh' });
            fresh.send({ type: 'hello', id: 'h1', room: uid('room'), name: 'new' });
            const first = await fresh.nextReply(3000).then(
                (m) => m.type,
                () => fresh.closeInfo?.code,
            );
            if (Date.now() - upAt < 4000) assert.equal(first, 1011, 'a new room waits for the cluster to settle');
            fresh.terminate();
            const { client, reply } = await resume(other, {
                token: relayed.welcome.token,
                epoch: relayed.welcome.epoch,
                after_seq: relayed.welcome.seq,
            });
            assert.equal(reply.type, 'welcome', JSON.stringify(reply));
            assert.equal(reply.gap, false);
            await client.next({ type: 'message', seq: ack.seq });
            const late = await client.sayAndWait('back');
            assert.equal(late.type, 'ack');
            await local.client.next({ type: 'message', seq: late.seq });
        } finally {
            await again.stop();
        }
    } finally {
        if (redis.proc.exitCode === null) await redis.stop();
    }
});

test('hello for a room elsewhere needs no extra round trip for the client', { skip }, async () => {
    await withRedis({}, async (redis) => {
        const nodes = await startNodes(redis, 2);
        const room = uid('room');
        await join(nodes[0], room, 'anna');
        const home = await homeOf(nodes);
        const other = nodes.find((s) => s !== home);
        const c = await connect(other, { label: 'late' });
        c.send({ type: 'hello', id: 'h1', room, name: 'anna' });
        const taken = await c.nextReply();
        assert.equal(taken.code, 'name_taken', 'the home checks names for the whole room');
        c.send({ type: 'hello', id: 'h2', room, name: 'bo' });
        const w = await c.nextReply();
        assert.equal(w.type, 'welcome');
    });
});

test("a room's copy in Redis expires, and is deleted when the room ends", { skip }, async () => {
    await withRedis({}, async (redis) => {
        const nodes = await startNodes(redis, 2);
        const room = uid('room');
        const ring = `kamrat:ring:${routeHex(room)}`;
        const state = `kamrat:room:${routeHex(room)}`;
        const a = await join(nodes[0], room, 'anna');
        const b = await join(nodes[1], room, 'bo');
        const ack = await a.client.sayAndWait('kept only while the room lives');
        assert.equal(ack.type, 'ack');
        await b.client.next({ type: 'message', seq: ack.seq });
        for (const key of [ring, state]) {
            const ttl = Number(await cli(redis, 'PTTL', key));
            assert.ok(ttl > 0 && ttl <= MIRROR_TTL_MS, `${key}: PTTL ${ttl}`);
        }
        assert.match(await cli(redis, 'LRANGE', ring, '-1', '-1'), /kept only while the room lives/);
        for (const { client } of [a, b]) assert.equal((await client.request({ type: 'leave' })).type, 'ack');
        await waitFor(async () => (await cli(redis, 'EXISTS', ring, state)) === '0', { desc: 'the copy deleted' });
    });
});

test('a node joins: the rooms it is now home to move there, and their members follow', { skip }, async () => {
    await withRedis({}, async (redis) => {
        const nodes = await startNodes(redis, 2);
        const room = roomHomedOn('node-c', ['node-a', 'node-b', 'node-c']);
        const members = [];
        for (let i = 0; i < 4; i++) members.push((await join(nodes[i % 2], room, `m${i}`)).client);
        const acks = [];
        for (const c of members) acks.push(await c.sayAndWait(`${c.label} before`));
        const c3 = await startServer({ extra: clusterSection(redis, 'node-c') });
        c3.nodeId = 'node-c';
        const all = [...nodes, c3];
        for (const c of members) assert.equal((await c.expectClose(8000)).code, 1001, `${c.label}: room moved`);
        await busUp(all, 3);
        const back = await Promise.all(members.map((c) => resumeSomewhere(all, c, Date.now() + 15000)));
        assert.equal(await homeOf(all), c3, 'node-c holds the room now');
        for (const { reply, client } of back) {
            assert.equal(reply.gap, false, `${client.label}: nothing missing`);
            for (const ack of acks) assert.ok(reply.seq >= ack.seq);
        }
        const after = await back[0].client.sayAndWait('on node-c');
        for (const { client } of back) await client.next({ type: 'message', seq: after.seq }, 5000);
    });
});
