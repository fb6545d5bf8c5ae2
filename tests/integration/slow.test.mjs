// A reader that stops reading (protocol/README.md sections 7 and 8, test plan C1):
// its send queue passes send_queue_bytes / send_queue_frames and it is cut off with
// 4408 (or its socket is destroyed) while everyone else gets every message in order
// and the room goes on.

import assert from 'node:assert/strict';
import { assertConsecutive, health, join, resume, serverFixture, test, uid, waitFor, within } from './lib/harness.mjs';

const server = serverFixture({
    limits: {
        send_queue_bytes: 65536,
        send_queue_frames: 64,
        rate_per_sec: 1000,
        rate_burst: 1000,
        history_size: 512,
        max_conns_per_address: 100,
    },
});

const POSTERS = 4;
const READERS = 2;
const TEXT_BYTES = 2048;
// 2 MB in all: thirty times send_queue_bytes, far more than the stalled sockets'
// kernel buffers hold (the server sets a small SO_SNDBUF; a paused Node socket
// stops reading after about 16 KiB).
const TOTAL = 1000;
// Test plan C1 asks for a p99 under 100 ms at the members that read. CI runs
// other suites beside this one on two cores; KAMRAT_P99_LIMIT_MS tightens or
// loosens the bound (the soak README runs it alone at 100).
const P99_LIMIT_MS = Number(process.env.KAMRAT_P99_LIMIT_MS ?? 200);

test('a stalled reader is cut off; everyone else gets every message in order', { timeout: 90000 }, async (t) => {
    const s = await server();
    const room = uid('slow-');
    const posters = [];
    for (let i = 0; i < POSTERS; i++) posters.push(await join(s, room, `Poster ${i}`));
    const readers = [];
    for (let i = 0; i < READERS; i++) readers.push(await join(s, room, `Reader ${i}`));
    // Stalled stops reading and later reads again; Frozen never reads again.
    const stalled = await join(s, room, 'Stalled');
    const frozen = await join(s, room, 'Frozen');
    const everyone = [...posters, ...readers];
    for (const { client } of [...everyone, stalled]) {
        await client.next((m) => m.type === 'presence' && m.member === frozen.welcome.member);
    }
    const firstSeq = frozen.presence.seq + 1;
    const baseline = (await health(s)).connections;

    stalled.client.ws._socket.pause();
    frozen.client.ws._socket.pause();

    // Latency at the readers that do read: receive time minus the server's ts
    // (one machine, one clock), for every message of the run.
    const latencies = [];
    for (const { client } of readers) {
        client.ws.on('message', (data) => {
            const m = JSON.parse(data);
            if (m.type === 'message') latencies.push(Date.now() - m.ts);
        });
    }

    // Each poster waits for its ack before the next message, so the members that do
    // read never hold more than a few frames in their queues.
    const started = Date.now();
    const filler = 'x'.repeat(TEXT_BYTES);
    const acks = [];
    let posted = 0;
    await Promise.all(
        posters.map(async ({ client }, i) => {
            while (posted < TOTAL) {
                posted += 1;
                const id = uid(`p${i}-`);
                const ack = await client.sayAndWait(`${id} ${filler}`, id, 5000);
                assert.equal(ack.type, 'ack', `poster ${i}: ${JSON.stringify(ack)}`);
                acks.push({ id, seq: ack.seq });
            }
        }),
    );
    const postedAt = Date.now();
    t.diagnostic(`posted ${TOTAL} messages of ${TEXT_BYTES} B in ${postedAt - started} ms`);

    // Reading again, the stalled client drains what the kernel held, then finds the
    // close: 4408, or 1006 if the server destroyed the socket instead.
    stalled.client.ws._socket.resume();
    const closed = await within(stalled.client.closed, 10000, 'the stalled client to find its connection closed');
    assert.ok([4408, 1006].includes(closed.code), `close code ${closed.code} ${closed.reason}`);
    const got = stalled.client.events().filter((e) => e.seq >= firstSeq);
    assertConsecutive(got, 'stalled reader: what it did get has no holes');
    assert.ok(got.length < TOTAL / 2, `the server dropped the backlog (the stalled reader still got ${got.length} of ${TOTAL})`);
    t.diagnostic(`the stalled reader got ${got.length} of ${TOTAL} messages, then close ${closed.code}`);

    // The frozen one never reads again: the server releases its socket anyway.
    await waitFor(async () => (await health(s)).connections <= baseline - 2, {
        timeout: 12000,
        interval: 100,
        desc: 'the frozen reader\'s connection to be released (healthz connections)',
    });
    t.diagnostic(`frozen reader released ${Date.now() - postedAt} ms after the last post`);

    // The room goes on: a message after the cut reaches everyone still connected.
    const after = await posters[0].client.sayAndWait('after the cut');
    assert.equal(after.type, 'ack');
    for (const { client } of everyone) await client.next((m) => m.type === 'message' && m.seq === after.seq, 5000);

    // Test plan C1: the readers' p99 latency stays under 100 ms while the slow
    // ones are cut. The after-the-cut message is not part of the run.
    const run = latencies.slice(0, READERS * TOTAL).sort((x, y) => x - y);
    const p99 = run[Math.floor(run.length * 0.99)];
    t.diagnostic(`readers: ${run.length} messages, latency p50 ${run[run.length >> 1]} ms, p99 ${p99} ms, max ${run.at(-1)} ms`);
    assert.equal(latencies.length, READERS * (TOTAL + 1), 'the readers got every message');
    assert.ok(p99 < P99_LIMIT_MS, `readers' p99 latency ${p99} ms (limit ${P99_LIMIT_MS} ms)`);

    // Every reader and poster got every message exactly once, in seq order, and no
    // presence event: a member cut for being slow stays detached.
    for (const [i, { client }] of everyone.entries()) {
        const events = client.events().filter((e) => e.seq >= firstSeq);
        assertConsecutive(events, `member ${i}`);
        assert.equal(events[0]?.seq, firstSeq, `member ${i}: nothing missing at the start`);
        assert.equal(events.at(-1).seq, after.seq, `member ${i}: nothing missing at the end`);
        assert.ok(events.every((e) => e.type === 'message'), `member ${i}: only messages`);
    }
    const bySeq = new Map(readers[0].client.events().map((e) => [e.seq, e]));
    for (const { id, seq } of acks) assert.ok(bySeq.get(seq)?.text.startsWith(`${id} `), `seq ${seq} carries ${id}`);

    // A member cut off for being slow is detached and may resume.
    const { reply } = await resume(s, { token: stalled.welcome.token, epoch: stalled.welcome.epoch, after_seq: got.at(-1)?.seq ?? 0 });
    assert.equal(reply.type, 'welcome', JSON.stringify(reply));
    assert.equal(reply.resumed, true);
    assert.equal(reply.member, stalled.welcome.member);
});
