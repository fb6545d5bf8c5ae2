// Resume and idempotent resend (protocol/README.md sections 3 and 4): a member whose
// connection drops stays in the room, detached; resume replays exactly what it
// missed, or says there is a gap; a resent say is acknowledged, never posted twice.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { connect, join, resume, serverFixture, test, uid } from './lib/harness.mjs';

const HISTORY = 16;
const server = serverFixture({
    limits: { history_size: HISTORY, rate_per_sec: 1000, rate_burst: 1000, max_conns_per_address: 100 },
});
const graceServer = serverFixture({ limits: { resume_grace: 1, rate_per_sec: 1000, rate_burst: 1000 } });

/** Posts n messages from client, waiting for each ack; returns the acks. */
async function post(client, n, prefix) {
    const acks = [];
    for (let i = 0; i < n; i++) {
        const ack = await client.sayAndWait(`${prefix} ${i}`);
        assert.equal(ack.type, 'ack', JSON.stringify(ack));
        acks.push(ack);
    }
    return acks;
}

/** Drops the connection without leave and waits until the socket is gone. */
async function drop(client) {
    client.terminate();
    await client.closed;
}

/** Posts a sentinel from poster and waits until each of clients has it. */
async function sentinel(poster, clients) {
    const text = `sentinel ${uid()}`;
    const ack = await poster.sayAndWait(text);
    assert.equal(ack.type, 'ack');
    for (const c of clients) await c.next((m) => m.type === 'message' && m.seq === ack.seq);
    return ack.seq;
}

function presencesOf(client, member) {
    return client.events().filter((e) => e.type === 'presence' && e.member === member);
}

test('resume after a dropped connection: welcome resumed, then exactly the missed events', async () => {
    const s = await server();
    const room = uid('res-');
    const a = await join(s, room, 'Ana');
    const b = await join(s, room, 'Ben');
    await a.client.next((m) => m.type === 'presence' && m.member === b.welcome.member);
    for (const ack of await post(b.client, 2, 'seen')) await a.client.next((m) => m.type === 'message' && m.seq === ack.seq);
    const lastSeen = a.client.events().at(-1).seq;

    await drop(a.client);
    const missed = await post(b.client, 4, 'missed');

    const { client: a2, reply: w } = await resume(s, { token: a.welcome.token, epoch: a.welcome.epoch, after_seq: lastSeen, id: 'rs-1' });
    assert.equal(w.type, 'welcome', JSON.stringify(w));
    assert.equal(w.ref, 'rs-1');
    assert.equal(w.resumed, true);
    assert.equal(w.gap, false);
    assert.equal(w.member, a.welcome.member, 'the same membership');
    assert.equal(w.name, 'Ana');
    assert.equal(w.room, room);
    assert.equal(w.role, 'participant');
    assert.equal(w.epoch, a.welcome.epoch);
    assert.equal(w.seq, missed.at(-1).seq, 'the snapshot is as of the last event');
    assert.deepEqual(w.members.map((m) => m.name).sort(), ['Ana', 'Ben']);

    const after = await sentinel(b.client, [a2]);
    const events = a2.events();
    assert.deepEqual(events.map((e) => e.seq), [...missed.map((x) => x.seq), after], 'the missed events, in order, then live ones');
    assert.deepEqual(events.slice(0, 4).map((e) => e.text), ['missed 0', 'missed 1', 'missed 2', 'missed 3']);
    assert.ok(a2.indexOf(w) < a2.indexOf(events[0]), 'the welcome comes first');

    // The room never saw Ana leave or come back.
    assert.deepEqual(presencesOf(b.client, a.welcome.member), []);

    // Ana posts as herself again.
    const ack = await a2.sayAndWait('back again');
    assert.equal(ack.type, 'ack');
    const m = await b.client.next((x) => x.type === 'message' && x.seq === ack.seq);
    assert.equal(m.member, a.welcome.member);
    assert.equal(m.name, 'Ana');
});

test('resume with after_seq equal to the room seq: gap false, nothing replayed', async () => {
    const s = await server();
    const room = uid('res-');
    const a = await join(s, room, 'Ana');
    const b = await join(s, room, 'Ben');
    const acks = await post(b.client, 2, 'seen');
    await a.client.next((m) => m.type === 'message' && m.seq === acks.at(-1).seq);
    await drop(a.client);
    const { client: a2, reply: w } = await resume(s, { token: a.welcome.token, epoch: a.welcome.epoch, after_seq: acks.at(-1).seq });
    assert.equal(w.type, 'welcome', JSON.stringify(w));
    assert.equal(w.gap, false);
    assert.equal(w.seq, acks.at(-1).seq);
    const after = await sentinel(b.client, [a2]);
    assert.deepEqual(a2.events().map((e) => e.seq), [after]);
});

test('events from before the member joined are never replayed', async () => {
    const s = await server();
    const room = uid('res-');
    const b = await join(s, room, 'Ben');
    await post(b.client, 3, 'before Cy');
    const c = await join(s, room, 'Cy');
    await drop(c.client);
    const missed = await post(b.client, 2, 'missed');
    const { client: c2, reply: w } = await resume(s, { token: c.welcome.token, epoch: c.welcome.epoch, after_seq: 0 });
    assert.equal(w.type, 'welcome', JSON.stringify(w));
    assert.equal(w.gap, false, 'after_seq 0 counts as the seq of the first welcome');
    const after = await sentinel(b.client, [c2]);
    assert.deepEqual(
        c2.events().map((e) => e.seq),
        [c.presence.seq, ...missed.map((x) => x.seq), after],
        'replay starts right after the first welcome (with Cy\'s own join)',
    );
});

test('a say resent with an acked id: same seq, duplicate true, posted once (before and after resume)', async () => {
    const s = await server();
    const room = uid('dup-');
    const a = await join(s, room, 'Ana');
    const b = await join(s, room, 'Ben');
    const first = await a.client.sayAndWait('only once', 'dup-1');
    assert.deepEqual(first, { type: 'ack', ref: 'dup-1', seq: first.seq });
    const again = await a.client.sayAndWait('only once', 'dup-1');
    assert.deepEqual(again, { type: 'ack', ref: 'dup-1', seq: first.seq, duplicate: true });
    const otherText = await a.client.sayAndWait('another text under the same id', 'dup-1');
    assert.deepEqual(otherText, { type: 'ack', ref: 'dup-1', seq: first.seq, duplicate: true }, 'the id decides, not the text');
    await a.client.next((m) => m.type === 'message' && m.seq === first.seq);
    const lastSeen = a.client.events().at(-1).seq;

    await drop(a.client);
    const { client: a2, reply: w } = await resume(s, { token: a.welcome.token, epoch: a.welcome.epoch, after_seq: lastSeen });
    assert.equal(w.type, 'welcome', JSON.stringify(w));
    const afterResume = await a2.sayAndWait('only once', 'dup-1');
    assert.deepEqual(afterResume, { type: 'ack', ref: 'dup-1', seq: first.seq, duplicate: true }, 'remembered across resume');

    await sentinel(b.client, [a2, b.client]);
    const count = (c, text) => c.all().filter((m) => m.type === 'message' && m.text === text).length;
    assert.equal(count(b.client, 'only once'), 1, 'Ben got the message once');
    assert.equal(count(b.client, 'another text under the same id'), 0);
    assert.equal(count(a2, 'only once'), 0, 'nothing replayed twice after resume');
});

test('a say whose ack was lost in a drop is posted exactly once after resume and resend', async () => {
    const s = await server();
    const room = uid('lost-');
    const a = await join(s, room, 'Ana');
    const b = await join(s, room, 'Ben');
    await a.client.next((m) => m.type === 'presence' && m.member === b.welcome.member);
    const lastSeen = a.client.events().at(-1).seq;
    const text = `maybe lost ${uid()}`;
    a.client.send({ type: 'say', id: 'lost-1', text });
    a.client.terminate(); // at once: the say may or may not have reached the server
    await a.client.closed;

    const { client: a2, reply: w } = await resume(s, { token: a.welcome.token, epoch: a.welcome.epoch, after_seq: lastSeen });
    assert.equal(w.type, 'welcome', JSON.stringify(w));
    const ack = await a2.sayAndWait(text, 'lost-1');
    assert.equal(ack.type, 'ack', JSON.stringify(ack));
    await sentinel(b.client, [a2, b.client]);
    const inB = b.client.all().filter((m) => m.type === 'message' && m.text === text);
    const inA = a2.all().filter((m) => m.type === 'message' && m.text === text);
    assert.equal(inB.length, 1, 'Ben got it once');
    assert.equal(inA.length, 1, 'Ana got it once (replayed or live)');
    assert.equal(inB[0].seq, ack.seq, 'the ack names the seq of the one message');
});

test('the ids of the last 64 messages are remembered, older ones are not', async () => {
    const s = await server();
    const { client } = await join(s, uid('ids-'), 'Ana');
    const first = await client.sayAndWait('first', 'old-0');
    await post(client, 63, 'filler a');
    const kept = await client.sayAndWait('first', 'old-0');
    assert.deepEqual(kept, { type: 'ack', ref: 'old-0', seq: first.seq, duplicate: true }, 'still among the last 64');
    await post(client, 1, 'filler b');
    const forgotten = await client.sayAndWait('first', 'old-0');
    assert.equal(forgotten.type, 'ack');
    assert.equal(forgotten.duplicate, undefined, '65 messages later the id is posted anew');
    assert.ok(forgotten.seq > first.seq);
});

test('resume with another epoch: resume_failed server_restarted; the connection stays open', async () => {
    const s = await server();
    const room = uid('epoch-');
    const a = await join(s, room, 'Ana');
    const e = a.welcome.epoch;
    const otherEpoch = e.slice(0, -1) + (e.at(-1) === '0' ? '1' : '0');
    const c = await connect(s);
    c.send({ type: 'resume', id: 'rs-epoch', token: a.welcome.token, epoch: otherEpoch, after_seq: 0 });
    const err = await c.nextReply();
    assert.equal(err.type, 'error', JSON.stringify(err));
    assert.equal(err.code, 'resume_failed');
    assert.equal(err.reason, 'server_restarted');
    assert.equal(err.ref, 'rs-epoch');
    c.send({ type: 'hello', id: 'h-after', room: uid('fresh-'), name: 'Ana' });
    assert.equal((await c.nextReply()).type, 'welcome', 'the client may hello instead');
    // The real member was not disturbed.
    assert.equal(a.client.isClosed, false);
    assert.equal((await a.client.sayAndWait('undisturbed')).type, 'ack');
});

test('resume with an unknown token: resume_failed expired; the connection stays open', async () => {
    const s = await server();
    const { welcome } = await join(s, uid('tok-'), 'Ana');
    const c = await connect(s);
    const token = crypto.randomBytes(32).toString('base64url');
    c.send({ type: 'resume', id: 'rs-unknown', token, epoch: welcome.epoch, after_seq: 0 });
    const err = await c.nextReply();
    assert.equal(err.type, 'error', JSON.stringify(err));
    assert.equal(err.code, 'resume_failed');
    assert.equal(err.reason, 'expired');
    assert.equal(err.ref, 'rs-unknown');
    c.send({ type: 'hello', room: uid('fresh-'), name: 'Ana' });
    assert.equal((await c.nextReply()).type, 'welcome');
});

test('after leave the token no longer resumes', async () => {
    const s = await server();
    const room = uid('left-');
    const a = await join(s, room, 'Ana');
    await join(s, room, 'Ben');
    a.client.send({ type: 'leave' });
    await a.client.expectClose();
    const { reply } = await resume(s, { token: a.welcome.token, epoch: a.welcome.epoch, after_seq: 0 });
    assert.equal(reply.type, 'error', JSON.stringify(reply));
    assert.equal(reply.code, 'resume_failed');
    assert.equal(reply.reason, 'expired');
});

test(`more than history_size (${HISTORY}) missed events: welcome gap true, no partial replay`, async () => {
    const s = await server();
    const room = uid('gap-');
    const a = await join(s, room, 'Ana');
    const b = await join(s, room, 'Ben');
    await a.client.next((m) => m.type === 'presence' && m.member === b.welcome.member);
    const lastSeen = a.client.events().at(-1).seq;
    await drop(a.client);
    const missed = await post(b.client, HISTORY + 4, 'overflow');

    const { client: a2, reply: w } = await resume(s, { token: a.welcome.token, epoch: a.welcome.epoch, after_seq: lastSeen });
    assert.equal(w.type, 'welcome', JSON.stringify(w));
    assert.equal(w.resumed, true);
    assert.equal(w.gap, true);
    assert.equal(w.member, a.welcome.member);
    assert.equal(w.seq, missed.at(-1).seq);
    assert.deepEqual(w.members.map((m) => m.name).sort(), ['Ana', 'Ben']);
    const after = await sentinel(b.client, [a2]);
    assert.deepEqual(a2.events().map((e) => e.seq), [after], 'a fresh snapshot: only live events follow');
    assert.deepEqual(presencesOf(b.client, a.welcome.member), []);

    // after_seq ahead of the room is a gap as well.
    const c = await join(s, room, 'Cy');
    await drop(c.client);
    const { client: c2, reply: w2 } = await resume(s, { token: c.welcome.token, epoch: c.welcome.epoch, after_seq: after + 1000 });
    assert.equal(w2.type, 'welcome', JSON.stringify(w2));
    assert.equal(w2.gap, true, 'after_seq ahead of the room');
    const after2 = await sentinel(b.client, [c2]);
    assert.deepEqual(c2.events().map((e) => e.seq), [after2]);
});

test('resume while the old connection is still open: the old one is closed 4409', async () => {
    const s = await server();
    const room = uid('dup-conn-');
    const a = await join(s, room, 'Ana');
    const b = await join(s, room, 'Ben');
    await a.client.next((m) => m.type === 'presence' && m.member === b.welcome.member);
    const { client: a2, reply: w } = await resume(s, { token: a.welcome.token, epoch: a.welcome.epoch, after_seq: b.presence.seq });
    assert.equal(w.type, 'welcome', JSON.stringify(w));
    assert.equal(w.resumed, true);
    assert.equal(w.gap, false);
    assert.equal(w.member, a.welcome.member);
    assert.equal((await a.client.expectClose()).code, 4409);

    const ack = await a2.sayAndWait('from the new connection');
    assert.equal(ack.type, 'ack');
    const m = await b.client.next((x) => x.type === 'message' && x.seq === ack.seq);
    assert.equal(m.member, a.welcome.member);
    assert.deepEqual(presencesOf(b.client, a.welcome.member), [], 'no left/joined for a replacement');
    assert.ok(!a.client.all().some((x) => x.type === 'message' && x.seq === ack.seq), 'the replaced connection got nothing more');
});

test('resume_grace ends: the room sees "left", then the token has expired', async () => {
    const s = await graceServer(); // resume_grace = 1
    const room = uid('grace-');
    const a = await join(s, room, 'Ana');
    const b = await join(s, room, 'Ben');
    await drop(a.client);
    const left = await b.client.next((m) => m.type === 'presence' && m.state === 'left', 5000);
    assert.equal(left.member, a.welcome.member);
    assert.equal(left.name, 'Ana');
    assert.equal(left.seq, b.presence.seq + 1);
    const { reply } = await resume(s, { token: a.welcome.token, epoch: a.welcome.epoch, after_seq: 0 });
    assert.equal(reply.type, 'error', JSON.stringify(reply));
    assert.equal(reply.code, 'resume_failed');
    assert.equal(reply.reason, 'expired');
    // The name is free again.
    const again = await join(s, room, 'Ana');
    assert.deepEqual(again.welcome.members.map((x) => x.name).sort(), ['Ana', 'Ben']);
});
