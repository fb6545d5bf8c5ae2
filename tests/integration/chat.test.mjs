// Chat basics against the real kamratd: /healthz, hello/welcome, presence, say ->
// ack -> message, seq order under concurrency, room isolation, Unicode round trips
// and leave (protocol/README.md sections 3-5 and 10).

import assert from 'node:assert/strict';
import {
    assertConsecutive,
    connect,
    health,
    httpRequest,
    isEvent,
    join,
    serverFixture,
    test,
    uid,
    waitFor,
} from './lib/harness.mjs';

const LIMITS = {
    max_conns_per_address: 100,
    resume_grace: 0, // a dropped member is removed at once
    max_text_chars: 4000,
    max_message_bytes: 16384,
    rate_per_sec: 50,
    rate_burst: 100,
};
const server = serverFixture({ limits: LIMITS });

const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;
const EPOCH_RE = /^[0-9a-f]{16}$/;

function assertTs(ts) {
    assert.ok(Number.isSafeInteger(ts), `ts ${ts} is an integer`);
    assert.ok(Math.abs(ts - Date.now()) < 60000, `ts ${ts} is within a minute of now`);
}

test('GET /healthz answers status, version and live counters', async () => {
    const s = await server();
    const r = await httpRequest(s, { path: '/healthz' });
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /application\/json/);
    const before = JSON.parse(r.body);
    assert.equal(before.status, 'ok');
    assert.equal(typeof before.version, 'string');
    assert.ok(before.version.length > 0, 'version is not empty');
    assert.ok(Number.isSafeInteger(before.connections) && before.connections >= 0, 'connections is a count');
    assert.ok(Number.isSafeInteger(before.rooms) && before.rooms >= 0, 'rooms is a count');

    const room = uid('health-');
    const a = await join(s, room, 'Ada');
    const b = await join(s, room, 'Bo');
    const during = await health(s);
    assert.equal(during.connections - before.connections, 2, 'two more connections');
    assert.equal(during.rooms - before.rooms, 1, 'one more room');

    // Both hang up; with resume_grace 0 they are removed at once, and the room
    // with its last member.
    for (const { client } of [a, b]) await client.close();
    await waitFor(
        async () => {
            const h = await health(s);
            return h.rooms === before.rooms && h.connections === before.connections && h;
        },
        { timeout: 3000, desc: 'healthz counters back to where they were' },
    );
});

test('two clients: welcome, presence, say -> ack then message to both', async () => {
    const s = await server();
    const room = uid('pair-');

    const a = await connect(s, { label: 'Ada' });
    a.send({ type: 'hello', id: 'hello-ada', room, name: 'Ada' });
    const wa = await a.nextReply();
    assert.equal(wa.type, 'welcome', `hello answered ${JSON.stringify(wa)}`);
    assert.equal(wa.ref, 'hello-ada');
    assert.match(wa.epoch, EPOCH_RE);
    assert.match(wa.token, TOKEN_RE);
    assert.ok(Number.isSafeInteger(wa.member) && wa.member >= 1, 'member id >= 1');
    assert.equal(wa.name, 'Ada');
    assert.equal(wa.role, 'participant');
    assert.equal(wa.room, room);
    assert.equal(wa.seq, 0, 'a new room has had no event yet');
    assert.deepEqual(wa.members, [{ member: wa.member, name: 'Ada', role: 'participant' }]);
    assert.equal(wa.topic, null);
    assert.equal(wa.resumed, false);
    assert.equal(wa.gap, false);
    assert.deepEqual(wa.limits, {
        max_text_chars: LIMITS.max_text_chars,
        max_message_bytes: LIMITS.max_message_bytes,
        rate_per_sec: LIMITS.rate_per_sec,
        rate_burst: LIMITS.rate_burst,
    });
    const paSelf = await a.next('presence');
    assert.deepEqual(
        { ...paSelf, ts: 0 },
        { type: 'presence', seq: 1, member: wa.member, name: 'Ada', role: 'participant', state: 'joined', ts: 0 },
    );
    assertTs(paSelf.ts);

    // A hello without id is answered with ref null.
    const b = await connect(s, { label: 'Bo' });
    b.send({ type: 'hello', room, name: 'Bo' });
    const wb = await b.nextReply();
    assert.equal(wb.type, 'welcome', `hello answered ${JSON.stringify(wb)}`);
    assert.equal(wb.ref, null);
    assert.equal(wb.epoch, wa.epoch, 'one epoch per process');
    assert.notEqual(wb.token, wa.token);
    assert.notEqual(wb.member, wa.member);
    assert.equal(wb.seq, 1);
    assert.deepEqual(
        [...wb.members].sort((x, y) => x.member - y.member),
        [
            { member: wa.member, name: 'Ada', role: 'participant' },
            { member: wb.member, name: 'Bo', role: 'participant' },
        ].sort((x, y) => x.member - y.member),
    );
    for (const [c, label] of [[a, 'Ada'], [b, 'Bo']]) {
        const p = await c.next((m) => m.type === 'presence' && m.member === wb.member);
        assert.equal(p.seq, 2, `${label} sees Bo's join as seq 2`);
        assert.equal(p.state, 'joined');
        assert.equal(p.name, 'Bo');
        assert.equal(p.role, 'participant');
        assertTs(p.ts);
    }

    a.send({ type: 'say', id: 'm-1', text: 'hello, room' });
    const ack = await a.next('ack');
    assert.deepEqual(ack, { type: 'ack', ref: 'm-1', seq: 3 });
    const ma = await a.next('message');
    assert.ok(a.indexOf(ack) < a.indexOf(ma), 'the ack arrives before the message');
    const mb = await b.next('message');
    for (const m of [ma, mb]) {
        assert.equal(m.seq, 3);
        assert.equal(m.member, wa.member);
        assert.equal(m.name, 'Ada');
        assert.equal(m.text, 'hello, room');
        assertTs(m.ts);
    }
    assert.equal(ma.ts, mb.ts, 'one event, one timestamp');

    // The ack went to the sender only: after Bo's own round trip, Bo holds no ack for m-1.
    const ackB = await b.sayAndWait('and hello back', 'm-2');
    assert.deepEqual(ackB, { type: 'ack', ref: 'm-2', seq: 4 });
    await a.next((m) => m.type === 'message' && m.seq === 4);
    await b.next((m) => m.type === 'message' && m.seq === 4);
    assert.equal(b.all().filter((m) => m.type === 'ack' && m.ref === 'm-1').length, 0);
    assert.deepEqual(a.events().map((e) => e.seq), [1, 2, 3, 4]);
    assert.deepEqual(b.events().map((e) => e.seq), [2, 3, 4]);
});

test('ten clients x five messages: every message once, seq without gaps, acks match', async () => {
    const s = await server();
    const room = uid('ten-');
    const members = [];
    for (let i = 0; i < 10; i++) members.push(await join(s, room, `Peer ${i}`));

    // Everyone posts at once, without waiting for acks.
    const sent = []; // {sender, id, text}
    for (const [i, { client }] of members.entries()) {
        for (let k = 0; k < 5; k++) {
            const id = `p${i}-m${k}`;
            const text = `peer ${i} message ${k} ${uid()}`;
            client.send({ type: 'say', id, text });
            sent.push({ sender: i, id, text });
        }
    }
    const acks = new Map();
    await Promise.all(
        sent.map(async ({ sender, id }) => {
            const reply = await members[sender].client.next((m) => m.ref === id && (m.type === 'ack' || m.type === 'error'), 5000);
            assert.equal(reply.type, 'ack', `say ${id} answered ${JSON.stringify(reply)}`);
            assert.equal(reply.duplicate, undefined);
            acks.set(id, reply.seq);
        }),
    );
    assert.equal(new Set(acks.values()).size, 50, 'fifty distinct seqs');

    // A final message from peer 0: when it arrives, everything before it has arrived.
    const last = members[0].client.say(`last ${uid()}`);
    await members[0].client.next((m) => m.ref === last);
    const lastSeq = Math.max(...acks.values()) + 1;
    await Promise.all(members.map(({ client }) => client.next((m) => m.type === 'message' && m.seq === lastSeq, 5000)));

    const textBySeq = new Map();
    for (const [i, { client, welcome }] of members.entries()) {
        const events = client.events();
        assert.equal(events[0].seq, welcome.seq + 1, `peer ${i}: first event follows the welcome`);
        assertConsecutive(events, `peer ${i}`);
        assert.equal(events.at(-1).seq, lastSeq, `peer ${i}: nothing after the final message`);
        const messages = events.filter((e) => e.type === 'message');
        assert.equal(messages.length, 51, `peer ${i} got 50 + 1 messages`);
        for (const { sender, id, text } of sent) {
            const got = messages.filter((m) => m.text === text);
            assert.equal(got.length, 1, `peer ${i} got "${text}" exactly once`);
            assert.equal(got[0].seq, acks.get(id), `peer ${i}: seq of ${id} equals its ack`);
            assert.equal(got[0].member, members[sender].welcome.member);
            assert.equal(got[0].name, `Peer ${sender}`);
        }
        for (const m of messages) {
            if (textBySeq.has(m.seq)) assert.equal(textBySeq.get(m.seq), m.text, `seq ${m.seq} is the same message for everyone`);
            else textBySeq.set(m.seq, m.text);
        }
    }
    // One connection's messages keep their order.
    for (let i = 0; i < 10; i++) {
        const seqs = sent.filter((x) => x.sender === i).map((x) => acks.get(x.id));
        assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y), `peer ${i}'s messages are in the order sent`);
    }
});

test('two rooms are isolated: own seq, own members, no cross traffic', async () => {
    const s = await server();
    const r1 = uid('iso-a-');
    const r2 = uid('iso-b-');
    const a = await join(s, r1, 'Sam');
    const b = await join(s, r2, 'Sam'); // the same pseudonym is fine in another room
    assert.equal(b.welcome.seq, 0, 'the second room starts its own seq');
    assert.deepEqual(b.welcome.members.map((m) => m.name), ['Sam']);

    const idA = a.client.say('only for room one');
    assert.equal((await a.client.next((m) => m.ref === idA)).type, 'ack');
    await a.client.next((m) => m.type === 'message' && m.text === 'only for room one');
    const idB = b.client.say('only for room two');
    const ackB = await b.client.next((m) => m.ref === idB);
    assert.deepEqual(ackB, { type: 'ack', ref: idB, seq: 2 });
    await b.client.next((m) => m.type === 'message' && m.seq === 2);
    // a's message was processed before b's; b's own message arriving proves a's never came.
    assert.deepEqual(b.client.events().map((e) => [e.type, e.seq]), [['presence', 1], ['message', 2]]);
    assert.ok(!b.client.all().some((m) => m.text === 'only for room one'));
    assert.ok(!a.client.all().some((m) => m.text === 'only for room two'));
    assert.deepEqual(a.client.events().map((e) => [e.type, e.seq]), [['presence', 1], ['message', 2]]);
});

test('Unicode text round-trips exactly', async () => {
    const s = await server();
    const room = uid('utf-');
    const a = await join(s, room, 'Ünïcødé 名前 🙂');
    const b = await join(s, room, 'Reader');
    assert.equal(a.welcome.name, 'Ünïcødé 名前 🙂');
    const texts = [
        'Hyvää päivää, åäö ÅÄÖ',
        '日本語のテキスト、中文，한국어',
        'עברית וערבית: مرحبا بالعالم',
        'emoji 👋🏽 👨‍👩‍👧‍👦 🏳️‍🌈 and flags 🇫🇮🇸🇪',
        'combining: e\u0301 (NFD) vs \u00e9 (NFC), a\u0308\u0304',
        'zero width: a\u200bb\u200dc\ufeffd',
        'line one\nline two\ttabbed',
        'astral: 𝄞 𝕂 😀 \u{10FFFD}',
        'quotes " \\ / and <script>alert(1)</script> &amp;',
        'x'.repeat(4000),
        '😀'.repeat(4000), // 4000 code points, 16000 bytes, 8000 UTF-16 units
    ];
    for (const text of texts) {
        const reply = await a.client.sayAndWait(text);
        assert.equal(reply.type, 'ack', `say of ${JSON.stringify(text.slice(0, 40))} answered ${JSON.stringify(reply)}`);
        for (const c of [a.client, b.client]) {
            const m = await c.next((x) => x.type === 'message' && x.seq === reply.seq);
            assert.ok(Buffer.from(m.text, 'utf8').equals(Buffer.from(text, 'utf8')), `text round-trips: ${JSON.stringify(text.slice(0, 40))}`);
            assert.equal(m.name, 'Ünïcødé 名前 🙂');
        }
    }
});

test('leave: ack with the presence seq, close 1000, others see "left"', async () => {
    const s = await server();
    const room = uid('leave-');
    const a = await join(s, room, 'Ada');
    const b = await join(s, room, 'Bo');
    await a.client.next((m) => m.type === 'presence' && m.member === b.welcome.member);

    a.client.send({ type: 'leave', id: 'bye-1' });
    const ack = await a.client.nextReply();
    assert.equal(ack.type, 'ack');
    assert.equal(ack.ref, 'bye-1');
    assert.equal(ack.seq, b.presence.seq + 1);
    const closed = await a.client.expectClose();
    assert.equal(closed.code, 1000);
    const left = await b.client.next((m) => m.type === 'presence' && m.state === 'left');
    assert.equal(left.seq, ack.seq);
    assert.equal(left.member, a.welcome.member);
    assert.equal(left.name, 'Ada');
    assert.equal(left.role, 'participant');
    assertTs(left.ts);

    // The room goes on, seq continues, and the name is free again.
    const reply = await b.client.sayAndWait('still here');
    assert.equal(reply.type, 'ack');
    assert.equal(reply.seq, ack.seq + 1);
    const again = await join(s, room, 'ada');
    assert.deepEqual(again.welcome.members.map((m) => m.name).sort(), ['Bo', 'ada']);

    // leave without id: ack with ref null.
    b.client.send({ type: 'leave' });
    const ackB = await b.client.nextReply();
    assert.equal(ackB.type, 'ack');
    assert.equal(ackB.ref, null);
    assert.equal((await b.client.expectClose()).code, 1000);
    const leftB = await again.client.next((m) => m.type === 'presence' && m.state === 'left');
    assert.equal(leftB.member, b.welcome.member);
    assert.equal(leftB.seq, ackB.seq);
    assertConsecutive(again.client.events(), 'late joiner');
    assert.ok(again.client.events().every(isEvent));

    // The last member leaving still gets the seq its presence "left" event took.
    again.client.send({ type: 'leave', id: 'last-out' });
    const ackLast = await again.client.nextReply();
    assert.deepEqual(ackLast, { type: 'ack', ref: 'last-out', seq: leftB.seq + 1 });
    assert.equal((await again.client.expectClose()).code, 1000);
});
