// Error handling against the real kamratd: every frame of
// protocol/examples/requests.json, sent before and after hello, gets exactly the
// error the protocol names and leaves the connection and the room working; then the
// stateful errors and the closes of protocol/README.md sections 6 and 7.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { connect, delay, isEvent, join, REPO, serverFixture, test, uid } from './lib/harness.mjs';

// Server A: the documented defaults for everything the vectors depend on; rates
// high so that only the rate-limit test meets them.
const LIMITS_A = {
    max_message_bytes: 16384,
    max_fragments: 8,
    max_text_chars: 4000,
    max_name_chars: 40,
    rate_per_sec: 1000,
    rate_burst: 1000,
    hello_timeout: 10,
    max_conns_per_address: 200,
    max_websockets_per_address: 200,
};
const serverA = serverFixture({ limits: LIMITS_A });
// Server B: rooms of two, a tight rate limit.
const serverB = serverFixture({ limits: { max_room_members: 2, rate_per_sec: 1, rate_burst: 3 } });
// Server C: a one-second hello deadline.
const serverC = serverFixture({ limits: { hello_timeout: 1 } });

const VECTORS_FILE = path.join(REPO, 'protocol/examples/requests.json');
const vectors = fs.existsSync(VECTORS_FILE) ? JSON.parse(fs.readFileSync(VECTORS_FILE, 'utf8')) : null;

const ID_RE = /^[A-Za-z0-9_.:-]{1,64}$/;
// Found before the frame is parsed into an object: the server cannot know its id.
const BEFORE_OBJECT = new Set(['too_big', 'too_deep', 'bad_json', 'invalid_utf8', 'duplicate_key']);
// Answers that depend on room state; each has its own test below.
const STATEFUL = new Set(['name_taken', 'room_full', 'rate_limited', 'forbidden', 'internal', 'already_joined', 'not_joined', 'resume_failed']);
// Errors after which the connection is closed.
const FATAL = new Set(['too_big', 'not_joined']);
// Errors that count towards the 100-errors-in-10-s abuse limit are all of them;
// a connection is replaced well before that.
const ERRORS_PER_CONNECTION = 40;

function parseObject(frame) {
    try {
        const v = JSON.parse(frame);
        return v && typeof v === 'object' && !Array.isArray(v) ? v : null;
    } catch {
        return null;
    }
}

/** The ref the error must carry: the frame's id when it is an object with a valid id. */
function expectedRef(v) {
    if ('ref' in v) return v.ref;
    if (BEFORE_OBJECT.has(v.code)) return null;
    const obj = parseObject(v.frame);
    return obj && typeof obj.id === 'string' && ID_RE.test(obj.id) ? obj.id : null;
}

function checkError(reply, v, client) {
    const what = `${v.name}: answer ${JSON.stringify(reply)}`;
    const problem = client.schemaProblem(reply);
    assert.equal(problem, undefined, `${v.name}: the answer breaks the schema: ${problem}`);
    assert.equal(reply.type, 'error', what);
    assert.equal(reply.code, v.code, what);
    assert.equal(reply.ref, expectedRef(v), `${what}: ref`);
    if (v.field !== undefined) assert.equal(reply.field, v.field, `${what}: field`);
    assert.equal(typeof reply.message, 'string', what);
}

/**
 * A member that sends the vectors, replaced after ERRORS_PER_CONNECTION errors,
 * and an observer in the same room that must see only the follow-up messages.
 */
class JoinedRig {
    constructor(server) {
        this.server = server;
        this.room = uid('vec-');
        this.sender = null;
        this.errors = 0;
    }

    async setup() {
        this.observer = (await join(this.server, this.room, 'Observer')).client;
        await this.rotate();
    }

    async rotate() {
        if (this.sender && !this.sender.isClosed) {
            this.sender.send({ type: 'leave' });
            await this.sender.expectClose();
        }
        const { client, welcome } = await join(this.server, this.room, uid('Sender '));
        await this.observer.next((m) => m.type === 'presence' && m.member === welcome.member && m.state === 'joined');
        this.sender = client;
        this.errors = 0;
    }

    async check(v) {
        if (!this.sender || this.sender.isClosed || this.errors >= ERRORS_PER_CONNECTION) await this.rotate();
        const mark = this.observer.received.length;
        this.errors += 1;
        await this.sender.sendRaw(v.frame);
        const reply = await this.sender.nextReply();
        checkError(reply, v, this.sender);
        // The connection stays open and the room goes on.
        const text = `after ${v.name}`;
        const ack = await this.sender.sayAndWait(text);
        assert.equal(ack.type, 'ack', `${v.name}: the next say was answered ${JSON.stringify(ack)}`);
        const seen = await this.observer.next((m) => m.type === 'message' && m.seq === ack.seq);
        assert.equal(seen.text, text);
        const events = this.observer.received.slice(mark).filter(isEvent);
        assert.deepEqual(events, [seen], `${v.name}: the observer saw only the follow-up message`);
    }
}

/** Sends frames on not-yet-joined connections; proves each stays open with a hello. */
class PrejoinRig {
    constructor(server, room) {
        this.server = server;
        this.room = room;
        this.conn = null;
        this.errors = 0;
    }

    async finish() {
        if (!this.conn) return;
        const c = this.conn;
        this.conn = null;
        const id = uid('h');
        c.send({ type: 'hello', id, room: this.room, name: uid('Late ') });
        const w = await c.nextReply();
        assert.equal(w.type, 'welcome', `hello after ${this.errors} rejected frames answered ${JSON.stringify(w)}`);
        assert.equal(w.ref, id);
        await c.close();
    }

    async check(v) {
        if (this.conn && (this.conn.isClosed || this.errors >= ERRORS_PER_CONNECTION)) await this.finish();
        if (!this.conn) {
            this.conn = await connect(this.server, { label: 'prejoin' });
            this.errors = 0;
        }
        const conn = this.conn;
        try {
            this.errors += 1;
            await conn.sendRaw(v.frame);
            const reply = await conn.nextReply();
            checkError(reply, v, conn);
            // No room or member name before a welcome.
            assert.deepEqual(conn.all().filter((m) => m.type !== 'error'), [], `${v.name}: nothing but errors before hello`);
        } finally {
            if (conn.all().some((m) => m.type === 'welcome')) {
                // Joined by mistake: leave, so that the next vectors start clean.
                conn.send({ type: 'leave' });
                this.conn = null;
            }
        }
    }
}

test('requests.json: every invalid frame gets its error, before and after hello', async (t) => {
    if (!vectors) {
        t.skip('protocol/examples/requests.json is not there');
        return;
    }
    const s = await serverA();
    const joined = new JoinedRig(s);
    await joined.setup();
    const prejoin = new PrejoinRig(s, uid('prejoin-'));
    const skipped = [];
    for (const v of vectors.invalid) {
        if (STATEFUL.has(v.code)) {
            skipped.push(v.name);
            continue;
        }
        if (FATAL.has(v.code)) continue; // next test
        await t.test(`joined: ${v.name}`, () => joined.check(v));
        await t.test(`before hello: ${v.name}`, () => prejoin.check(v));
    }
    await prejoin.finish();
    if (skipped.length) t.diagnostic(`stateful vectors left to their own tests: ${skipped.join('; ')}`);
});

test('requests.json: too_big frames get the error, then close 1009; the room goes on', async (t) => {
    if (!vectors) {
        t.skip('protocol/examples/requests.json is not there');
        return;
    }
    const s = await serverA();
    const room = uid('big-');
    const observer = (await join(s, room, 'Observer')).client;
    for (const v of vectors.invalid.filter((x) => x.code === 'too_big')) {
        await t.test(v.name, async () => {
            const { client } = await join(s, room, uid('Big '));
            await client.sendRaw(v.frame);
            const reply = await client.nextReply();
            checkError(reply, v, client);
            const closed = await client.expectClose();
            assert.equal(closed.code, 1009, `${v.name}: close code`);
            const ack = await observer.sayAndWait(`after ${v.name}`);
            assert.equal(ack.type, 'ack');
            await observer.next((m) => m.type === 'message' && m.seq === ack.seq);
        });
    }
});

// What a participant of a fresh open room (testing mode) gets for each §4a request.
const LEADERS_ONLY = ['admit', 'deny', 'to_lobby', 'mute', 'unmute', 'remove', 'ban', 'unban', 'bans',
    'lock', 'pause', 'slow', 'topic', 'promote', 'demote', 'end', 'round_start', 'round_skip',
    'round_order', 'round_end'];
const MODERATION_ANSWER = {
    ...Object.fromEntries(LEADERS_ONLY.map((t) => [t, 'forbidden'])),
    delete: 'not_found', // no message with that seq
    report: 'not_found',
    round_pass: 'wrong_state', // no round running
    round_done: 'wrong_state',
    not_ok: 'ack',
    hand: (o) => (o.member ? 'forbidden' : 'ack'), // only leaders lower another's hand
};

test('requests.json: every valid frame is accepted', async (t) => {
    if (!vectors) {
        t.skip('protocol/examples/requests.json is not there');
        return;
    }
    const s = await serverA();
    const { welcome } = await join(s, uid('epoch-'), 'Epoch');
    for (const v of vectors.valid) {
        const obj = parseObject(v.frame);
        await t.test(v.name, async () => {
            assert.ok(obj, 'a valid frame is a JSON object');
            const ref = typeof obj.id === 'string' ? obj.id : null;
            if (obj.type === 'hello' && !('room' in obj)) {
                // Invites and leader tokens this server never issued: the decoder
                // took the frame, the gate refuses it (session.test.mjs covers real ones).
                const c = await connect(s);
                await c.sendRaw(v.frame);
                const e = await c.nextReply();
                assert.equal(e.type, 'error', JSON.stringify(e));
                assert.equal(e.code, 'invite' in obj ? 'invite_invalid' : 'token_invalid', JSON.stringify(e));
                assert.equal(e.ref, ref);
                await c.close();
            } else if (obj.type === 'hello') {
                // Each in a room of its own, so the shared example names never collide.
                const frame = v.frame.replace(/("room"\s*:\s*")[^"]*"/, `$1${uid('valid-')}"`);
                const c = await connect(s);
                await c.sendRaw(frame);
                const w = await c.nextReply();
                assert.equal(w.type, 'welcome', JSON.stringify(w));
                assert.equal(w.ref, ref);
                assert.equal(w.name, obj.name.normalize('NFC'), 'the pseudonym comes back as sent, in NFC');
                await c.close();
            } else if (obj.type === 'resume') {
                // A well-formed resume with a token this server never issued.
                const c = await connect(s);
                await c.sendRaw(v.frame);
                const e = await c.nextReply();
                assert.equal(e.type, 'error', JSON.stringify(e));
                assert.equal(e.code, 'resume_failed', JSON.stringify(e));
                assert.equal(e.reason, obj.epoch === welcome.epoch ? 'expired' : 'server_restarted', JSON.stringify(e));
                assert.equal(e.ref, ref);
            } else if (obj.type === 'say' && typeof obj.to === 'number') {
                // A member id no one in this fresh room has.
                const { client } = await join(s, uid('valid-'), 'Sayer');
                await client.sendRaw(v.frame);
                const e = await client.nextReply();
                assert.equal(e.code, 'not_found', JSON.stringify(e));
                assert.equal(e.ref, ref);
            } else if (obj.type === 'say') {
                const { client } = await join(s, uid('valid-'), 'Sayer');
                await client.sendRaw(v.frame);
                const ack = await client.nextReply();
                assert.equal(ack.type, 'ack', JSON.stringify(ack));
                assert.equal(ack.ref, ref);
                const m = await client.next((x) => x.type === 'message' && x.seq === ack.seq);
                assert.equal(m.text, obj.text, 'the text comes back as sent');
            } else if (obj.type === 'leave') {
                const room = uid('valid-');
                await join(s, room, 'Stayer'); // so that the leaver is not the last one
                const { client } = await join(s, room, 'Leaver');
                await client.sendRaw(v.frame);
                const ack = await client.nextReply();
                assert.equal(ack.type, 'ack', JSON.stringify(ack));
                assert.equal(ack.ref, ref);
                assert.equal((await client.expectClose()).code, 1000);
            } else if (obj.type === 'agree') {
                const { client } = await join(s, uid('valid-'), 'Agreer');
                await client.sendRaw(v.frame);
                const ack = await client.nextReply();
                assert.equal(ack.type, 'ack', JSON.stringify(ack));
                assert.equal(ack.ref, ref);
                assert.equal(ack.seq, undefined, 'agree causes no event');
            } else if (obj.type === 'open') {
                // Only leaders open sessions; an open room's participant is refused.
                const { client } = await join(s, uid('valid-'), 'Opener');
                await client.sendRaw(v.frame);
                const e = await client.nextReply();
                assert.equal(e.code, 'forbidden', JSON.stringify(e));
                assert.equal(e.ref, ref);
            } else if (obj.type in MODERATION_ANSWER) {
                // The moderation requests (README section 4a) reach the room: a participant
                // of an open room is refused the leaders' ones and answered on the others
                // (moderation.test.mjs and its siblings cover what they do).
                const { client } = await join(s, uid('valid-'), 'Asker');
                await client.sendRaw(v.frame);
                const r = await client.nextReply();
                assert.equal(r.ref, ref);
                const answer = MODERATION_ANSWER[obj.type];
                const want = typeof answer === 'function' ? answer(obj) : answer;
                assert.equal(r.type === 'ack' ? 'ack' : r.code, want, JSON.stringify(r));
            } else {
                assert.fail(`no check for a valid "${obj.type}" frame`);
            }
        });
    }
});

test('a request before hello: not_joined, then close 4401', async (t) => {
    const s = await serverA();
    for (const frame of [
        { type: 'say', id: 'early-say', text: 'hi' },
        { type: 'leave', id: 'early-leave' },
        { type: 'leave' },
    ]) {
        await t.test(JSON.stringify(frame), async () => {
            const c = await connect(s);
            c.send(frame);
            const e = await c.nextReply();
            assert.equal(e.type, 'error');
            assert.equal(e.code, 'not_joined');
            assert.equal(e.ref, frame.id ?? null);
            assert.equal(e.field, undefined);
            assert.equal((await c.expectClose()).code, 4401);
        });
    }
});

test('no hello within hello_timeout: close 4401 (a malformed frame first does not end it early)', async () => {
    const s = await serverC();
    const c = await connect(s);
    await c.sendRaw('not json');
    const e = await c.nextReply();
    assert.equal(e.code, 'bad_json');
    assert.equal(c.isClosed, false, 'still open after a malformed frame');
    const closed = await c.expectClose(4000);
    assert.equal(closed.code, 4401);
    assert.deepEqual(c.all().filter((m) => m.type !== 'error'), [], 'nothing but the error was sent');

    // A connection that says hello in time is not cut at the deadline.
    const { client } = await join(s, uid('in-time-'), 'Punctual');
    await c.closed;
    const state = await stateAfter(client, 1500);
    assert.equal(state, 'open', 'a joined connection outlives hello_timeout');
});

/** 'open' if client is still open after ms, else 'closed CODE'. */
function stateAfter(client, ms) {
    return Promise.race([client.closed.then((c) => `closed ${c.code}`), delay(ms).then(() => 'open')]);
}

test('already_joined: hello or resume on a joined connection', async () => {
    const s = await serverA();
    const room = uid('aj-');
    const { client, welcome } = await join(s, room, 'Once');
    for (const frame of [
        { type: 'hello', id: 'again-1', room, name: 'Twice' },
        { type: 'hello', id: 'again-2', room: uid('other-'), name: 'Elsewhere' },
        { type: 'resume', id: 'again-3', token: welcome.token, epoch: welcome.epoch, after_seq: 0 },
    ]) {
        client.send(frame);
        const e = await client.nextReply();
        assert.equal(e.type, 'error', JSON.stringify(e));
        assert.equal(e.code, 'already_joined');
        assert.equal(e.ref, frame.id);
        assert.equal(e.field, undefined);
    }
    const ack = await client.sayAndWait('still the same member');
    assert.equal(ack.type, 'ack');
    const late = await join(s, room, 'Later');
    assert.deepEqual(late.welcome.members.map((m) => [m.member, m.name]).sort(), [[welcome.member, 'Once'], [late.welcome.member, 'Later']].sort());
});

test('name_taken: case-insensitive, beyond ASCII too; a detached member keeps the name', async () => {
    const s = await serverA();
    const room = uid('names-');
    const kim = await join(s, room, 'Kim');
    const c = await connect(s);
    const fields = [];
    for (const name of ['Kim', 'kim', 'KIM', 'kIm']) {
        const id = uid('h');
        c.send({ type: 'hello', id, room, name });
        const e = await c.nextReply();
        assert.equal(e.type, 'error', `${name}: ${JSON.stringify(e)}`);
        assert.equal(e.code, 'name_taken', name);
        assert.equal(e.ref, id);
        fields.push(e.field);
    }
    c.send({ type: 'hello', id: 'h-ok', room, name: 'Kim2' });
    assert.equal((await c.nextReply()).type, 'welcome', 'the connection stayed open and can join');

    // Letters beyond ASCII are folded too: Åsa and åsa are one name.
    await join(s, room, 'Åsa');
    await assert.rejects(join(s, room, 'åsa'), (e) => e.reply?.code === 'name_taken');

    // A member whose connection dropped is detached, still in the room.
    const dee = await join(s, room, 'Dee');
    dee.client.terminate();
    await dee.client.closed;
    await assert.rejects(join(s, room, 'dee'), (e) => e.reply?.code === 'name_taken');

    // After leave the name is free.
    kim.client.send({ type: 'leave' });
    await kim.client.expectClose();
    await join(s, room, 'kim');

    assert.deepEqual(fields, [undefined, undefined, undefined, undefined], 'name_taken is not a field error (no "field")');
});

test('room_full at max_room_members, detached members included', async () => {
    const s = await serverB();
    const room = uid('full-');
    const a = await join(s, room, 'One');
    const b = await join(s, room, 'Two');
    const c = await connect(s);
    c.send({ type: 'hello', id: 'h-full', room, name: 'Three' });
    const e = await c.nextReply();
    assert.equal(e.type, 'error');
    assert.equal(e.code, 'room_full');
    assert.equal(e.ref, 'h-full');
    assert.equal(e.field, undefined);
    // Another room is not full.
    await join(s, uid('other-'), 'Three');

    a.client.send({ type: 'leave' });
    await a.client.expectClose();
    c.send({ type: 'hello', id: 'h-room', room, name: 'Three' });
    const w = await c.nextReply();
    assert.equal(w.type, 'welcome', `after a leave there is room: ${JSON.stringify(w)}`);

    // Detached (connection dropped, no leave) still counts.
    c.terminate();
    await c.closed;
    await b.client.sayAndWait('sync');
    await assert.rejects(join(s, room, 'Four'), (err) => err.reply?.code === 'room_full');
});

test('a binary frame closes the connection with 1003', async () => {
    const s = await serverA();
    const room = uid('bin-');
    const observer = (await join(s, room, 'Observer')).client;
    const { client } = await join(s, room, 'Binary');
    await client.sendRaw(Buffer.from(JSON.stringify({ type: 'say', id: 'b1', text: 'hi' })), { binary: true });
    assert.equal((await client.expectClose()).code, 1003);
    const ack = await observer.sayAndWait('the room goes on');
    assert.equal(ack.type, 'ack');
    assert.ok(!observer.all().some((m) => m.type === 'message' && m.text === 'hi'), 'the binary frame was not relayed');
});

test('invalid UTF-8 in a text frame closes the connection with 1007', async () => {
    const s = await serverA();
    const { client } = await join(s, uid('utf8-'), 'Bytes');
    const bad = Buffer.concat([Buffer.from('{"type":"say","id":"u1","text":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    await client.sendRaw(bad, { binary: false });
    assert.equal((await client.expectClose()).code, 1007);
});

/** A say frame of exactly n bytes (ASCII text padded to length). */
function sayOfBytes(n, id) {
    const head = `{"type":"say","id":"${id}","text":"`;
    const tail = '"}';
    return head + 'x'.repeat(n - head.length - tail.length) + tail;
}

test('message size: max_message_bytes is accepted for parsing, one byte more is too_big + 1009', async () => {
    const s = await serverA();
    const room = uid('size-');
    const observer = (await join(s, room, 'Observer')).client;
    const { client } = await join(s, room, 'Sizer');

    // Exactly at the limit: parsed, and refused only because the text is too long.
    const atLimit = sayOfBytes(LIMITS_A.max_message_bytes, 'at-limit');
    assert.equal(Buffer.byteLength(atLimit), LIMITS_A.max_message_bytes);
    await client.sendRaw(atLimit);
    const e1 = await client.nextReply();
    assert.equal(e1.code, 'text_too_long', JSON.stringify(e1));
    assert.equal(e1.ref, 'at-limit');
    assert.equal(e1.field, 'text');

    const over = sayOfBytes(LIMITS_A.max_message_bytes + 1, 'over-limit');
    await client.sendRaw(over);
    const e2 = await client.nextReply();
    assert.equal(e2.type, 'error');
    assert.equal(e2.code, 'too_big');
    assert.equal(e2.ref, null, 'too_big is found before the frame is read');
    assert.equal((await client.expectClose()).code, 1009);

    const ack = await observer.sayAndWait('the room goes on');
    assert.equal(ack.type, 'ack');
    await observer.next((m) => m.type === 'message' && m.seq === ack.seq);
    assert.ok(!observer.all().some((m) => m.type === 'message' && m.member !== observer.welcome.member), 'nothing of the sizer was relayed');
});

/** Sends text in n fragments with ws (a text frame and n-1 continuations). */
async function sendFragmented(client, text, n) {
    const size = Math.ceil(text.length / n);
    for (let i = 0; i < n; i++) {
        const part = text.slice(i * size, (i + 1) * size);
        await client.sendRaw(part, { fin: i === n - 1, binary: false });
    }
}

test('fragments: max_fragments frames are reassembled, one more is too_big + 1008', async () => {
    const s = await serverA();
    const room = uid('frag-');
    const observer = (await join(s, room, 'Observer')).client;
    const { client } = await join(s, room, 'Fragmenter');

    const text = 'reassembled from eight fragments';
    await sendFragmented(client, JSON.stringify({ type: 'say', id: 'f8', text }), LIMITS_A.max_fragments);
    const ack = await client.nextReply();
    assert.equal(ack.type, 'ack', JSON.stringify(ack));
    assert.equal(ack.ref, 'f8');
    assert.equal((await observer.next((m) => m.type === 'message' && m.seq === ack.seq)).text, text);

    await sendFragmented(client, JSON.stringify({ type: 'say', id: 'f9', text: 'nine fragments is too many' }), LIMITS_A.max_fragments + 1);
    const e = await client.nextReply();
    assert.equal(e.type, 'error', JSON.stringify(e));
    assert.equal(e.code, 'too_big');
    assert.equal(e.ref, null);
    assert.equal((await client.expectClose()).code, 1008);

    const ack2 = await observer.sayAndWait('the room goes on');
    assert.equal(ack2.type, 'ack');
    assert.ok(!observer.all().some((m) => m.text === 'nine fragments is too many'));
});

test('rate_limited after the burst, with retry_after_ms; others are not affected', async () => {
    const s = await serverB(); // rate_burst 3, rate_per_sec 1
    const room = uid('rate-');
    const other = await join(s, room, 'Calm');
    const { client, welcome } = await join(s, room, 'Hasty');
    const ids = ['r1', 'r2', 'r3', 'r4', 'r5'];
    for (const id of ids) client.send({ type: 'say', id, text: `burst ${id}` });
    const replies = [];
    for (const id of ids) replies.push(await client.next((m) => m.ref === id));
    assert.deepEqual(replies.slice(0, 3).map((r) => r.type), ['ack', 'ack', 'ack'], JSON.stringify(replies));
    for (const r of replies.slice(3)) {
        assert.equal(r.type, 'error', JSON.stringify(r));
        assert.equal(r.code, 'rate_limited');
        assert.ok(Number.isSafeInteger(r.retry_after_ms), `retry_after_ms is an integer: ${JSON.stringify(r)}`);
        assert.ok(r.retry_after_ms > 0 && r.retry_after_ms <= 1000 + 50, `retry_after_ms ${r.retry_after_ms} fits rate_per_sec 1`);
        assert.equal(r.field, undefined);
    }

    // The other member has a bucket of its own; its message comes after Hasty's three.
    const ack = await other.client.sayAndWait('not limited');
    assert.equal(ack.type, 'ack', JSON.stringify(ack));
    await other.client.next((m) => m.type === 'message' && m.seq === ack.seq);
    const fromHasty = other.client.all().filter((m) => m.type === 'message' && m.member === welcome.member);
    assert.deepEqual(fromHasty.map((m) => m.text), ['burst r1', 'burst r2', 'burst r3']);

    // After the advertised wait, Hasty may post again.
    await delay(replies[4].retry_after_ms + 50);
    const again = await client.sayAndWait('patient now');
    assert.equal(again.type, 'ack', JSON.stringify(again));
});

test('a client still sending when it is cut for abuse gets the 4429, not a reset', async (t) => {
    const s = await serverA();
    const room = uid('abuse-');
    const { client } = await join(s, room, 'Abuser');
    // Far more than the 100 errors that trigger the cut, written without a
    // pause, and more written every turn of the event loop until the close
    // arrives: the server's close frame meets a stream of frames in flight.
    let sent = 0;
    const pump = () => {
        if (client.isClosed) return;
        for (let i = 0; i < 200; i++) client.ws.send('not json');
        sent += 200;
        if (sent < 20000) setImmediate(pump);
    };
    pump();
    const closed = await client.expectClose(10000);
    t.diagnostic(`closed ${closed.code} after ${sent} frames sent`);
    assert.equal(closed.code, 4429, `the close frame arrived (${closed.code} ${closed.reason ?? ''})`);
});

test('100 rejected requests within 10 s close the connection with 4429', async () => {
    const s = await serverA();
    const room = uid('abuse-');
    const observer = (await join(s, room, 'Observer')).client;
    const { client } = await join(s, room, 'Abuser');
    for (let i = 0; i < 150; i++) client.ws.send('not json');
    const closed = await client.expectClose(5000);
    assert.equal(closed.code, 4429);
    const errors = client.all().filter((m) => m.type === 'error').length;
    assert.ok(errors >= 99 && errors <= 101, `the close came after about 100 errors, not ${errors}`);
    const ack = await observer.sayAndWait('the room goes on');
    assert.equal(ack.type, 'ack');
});
