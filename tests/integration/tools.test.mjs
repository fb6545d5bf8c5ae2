// The participant's tools and what the leaders are told (protocol/README.md §4a
// "Participant tools", "Audiences", "When no leader is there"): hands, private
// messages to the leaders and their audiences (also on resume), the group's
// private_messages policy (off, leaders, everyone), the leaders' back-channel,
// "I'm not OK", report, leave {safe}, disconnected/returned alerts, read-only
// without a leader, a leader taking its membership over with a new login, and
// the [safety] crisis resources and risk words, against the real kamratd.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import {
    assertQuiet,
    expectAck,
    expectError,
    fence,
    httpRequest,
    resume,
    sessionFixture,
    test,
    waitFor,
    within,
} from './lib/harness.mjs';

const NO_SUCH_MEMBER = 4000000000;
const ALERT_FIELDS = ['by', 'kind', 'member', 'name', 'seq', 'target', 'ts', 'type'];

/** The next alert of kind on client. */
function alert(client, kind, extra = {}) {
    return client.next((m) => m.type === 'alert' && m.kind === kind && Object.entries(extra).every(([k, v]) => m[k] === v));
}

/** Asserts that client never received an alert or notice (of kind, if given). */
async function assertNoAlert(client, kind) {
    if (!client.isClosed) await fence(client);
    const bad = client.all().filter((m) => (m.type === 'alert' || m.type === 'notice') && (!kind || m.kind === kind));
    assert.deepEqual(bad, [], `${client.label} got alerts or notices`);
}

function assertAlertShape(a) {
    for (const k of Object.keys(a)) assert.ok(ALERT_FIELDS.includes(k), `alert field ${k}: ${JSON.stringify(a)}`);
    assert.ok(!('text' in a) && !('word' in a), 'an alert never carries text or the word');
}

// ---------------------------------------------------------------------------
// Hands

test('hands: the queue in order of raising; raising twice changes nothing; a leader lowers another hand', async () => {
    const fx = await sessionFixture({ participants: ['Sol', 'Kim', 'Ilo'] });
    const { leader, p: { Sol, Kim, Ilo } } = fx;
    const a1 = expectAck(await Kim.request({ type: 'hand', up: true }), true);
    for (const c of [leader, Sol, Kim, Ilo]) {
        const ev = await c.next('hands');
        assert.deepEqual([ev.seq, ev.queue], [a1.seq, [Kim.member]]);
    }
    const a2 = expectAck(await Ilo.request({ type: 'hand', up: true }), true);
    assert.deepEqual((await Sol.next('hands')).queue, [Kim.member, Ilo.member]);
    const a3 = expectAck(await Sol.request({ type: 'hand', up: true }), true);
    assert.deepEqual((await leader.next((m) => m.type === 'hands' && m.seq === a3.seq)).queue, [Kim.member, Ilo.member, Sol.member]);
    assert.ok(a1.seq < a2.seq && a2.seq < a3.seq);
    await fx.settle();

    expectAck(await Kim.request({ type: 'hand', up: true }), false);
    expectError(await Kim.request({ type: 'hand', up: false, member: Ilo.member }), 'forbidden');
    expectError(await Kim.request({ type: 'hand' }), 'missing_field', { field: 'up' });
    expectError(await Kim.request({ type: 'hand', up: 1 }), 'bad_field', { field: 'up' });
    expectError(await leader.request({ type: 'hand', up: false, member: NO_SUCH_MEMBER }), 'not_found');
    await assertQuiet([leader, Sol, Kim, Ilo], 'hand requests that change nothing');

    const low = expectAck(await leader.request({ type: 'hand', up: false, member: Ilo.member }), true);
    assert.deepEqual((await Ilo.next('hands')).queue, [Kim.member, Sol.member]);
    assert.equal((await Kim.next('hands')).seq, low.seq);
    expectAck(await Sol.request({ type: 'hand', up: false }), true);
    assert.deepEqual((await Kim.next('hands')).queue, [Kim.member]);
    expectAck(await Sol.request({ type: 'hand', up: false }), false);
    assert.deepEqual((await fx.enter('Vesa')).reply.hands, [Kim.member], 'the welcome has the queue');
    const rows = (await fx.audit()).filter((r) => r.action.includes('hand'));
    assert.deepEqual(rows, [], 'hands are not audited');
});

// ---------------------------------------------------------------------------
// Private messages and the back-channel

test('a private message to the leaders reaches the leaders and the sender only, also on resume', async () => {
    const fx = await sessionFixture({ participants: ['Sol', 'Kim', 'Ilo'], leaders: 2 });
    const { leader, p: { Sol, Kim, Ilo } } = fx;
    const co = await fx.enterLeader(fx.leaders[1]);
    expectAck(await leader.request({ type: 'promote', member: Ilo.member }), true);
    await fx.settle([leader, co.client, Sol, Kim, Ilo]);
    const mark = (await Kim.request({ type: 'say', text: 'merkki' })).seq;
    await fx.settle([leader, co.client, Sol, Kim, Ilo]);

    // Kim drops before and comes back after.
    Kim.terminate();
    await alert(leader, 'disconnected', { member: Kim.member });
    const text = 'En jaksa tänään puhua ääneen';
    const ack = expectAck(await Sol.request({ type: 'say', text, to: 'leaders' }), true);
    for (const c of [leader, co.client, Ilo, Sol]) {
        const m = await c.next('message');
        assert.deepEqual({ seq: m.seq, member: m.member, name: m.name, text: m.text, scope: m.scope, with: m.with },
            { seq: ack.seq, member: Sol.member, name: 'Sol', text, scope: 'private', with: Sol.member });
    }
    const r = await resume(fx.server, { token: Kim.token, epoch: Kim.epoch, after_seq: mark, label: 'Kim back' });
    assert.equal(r.reply.type, 'welcome', JSON.stringify(r.reply));
    await fence(r.client);
    assert.ok(!r.client.all().some((m) => m.type === 'message' && (m.seq === ack.seq || m.text === text)), 'not replayed to another participant');

    // The sender and the leaders get it on their resume.
    Sol.terminate();
    const back = await resume(fx.server, { token: Sol.token, epoch: Sol.epoch, after_seq: mark, label: 'Sol back' });
    assert.equal((await back.client.next((m) => m.type === 'message' && m.seq === ack.seq)).text, text);

    // A leader answers privately: Sol and the leaders, nobody else.
    const answer = expectAck(await leader.request({ type: 'say', text: 'Kiitos kun kerroit', to: Sol.member }), true);
    const got = await back.client.next((m) => m.type === 'message' && m.seq === answer.seq);
    assert.deepEqual([got.scope, got.with, got.member], ['private', Sol.member, leader.member]);
    await Ilo.next((m) => m.type === 'message' && m.seq === answer.seq);
    await fence(r.client);
    assert.ok(!r.client.all().some((m) => m.type === 'message' && m.seq === answer.seq));
});

test('a private message to a leader or co-leader by member id is a message to the leaders', async () => {
    const fx = await sessionFixture({ participants: ['Sol', 'Kim', 'Ilo'] });
    const { leader, p: { Sol, Kim, Ilo } } = fx;
    expectAck(await leader.request({ type: 'promote', member: Ilo.member }), true);
    await fx.settle();
    const ack = expectAck(await Sol.request({ type: 'say', text: 'sinulle', to: Ilo.member }), true);
    for (const c of [leader, Ilo, Sol]) {
        const m = await c.next('message');
        assert.deepEqual([m.seq, m.scope, m.with], [ack.seq, 'private', Sol.member]);
    }
    const ack2 = expectAck(await Sol.request({ type: 'say', text: 'ja sinulle', to: leader.member }), true);
    for (const c of [leader, Ilo, Sol]) assert.equal((await c.next('message')).seq, ack2.seq);
    await assertQuiet([Kim], 'private messages to the leaders');

    // Deleting a private message tells its audience only.
    const del = expectAck(await leader.request({ type: 'delete', seq: ack.seq }), true);
    for (const c of [leader, Ilo, Sol]) {
        const ev = await c.next('deleted');
        assert.deepEqual([ev.seq, ev.target], [del.seq, ack.seq]);
    }
    await assertQuiet([Kim], 'deleting a private message');
});

test('replay on resume follows the role at the time of the resume', async () => {
    const fx = await sessionFixture({ participants: ['Sol', 'Kim', 'Ilo'] });
    const { leader, p: { Sol, Kim, Ilo } } = fx;
    expectAck(await leader.request({ type: 'promote', member: Kim.member }), true);
    const mark = expectAck(await leader.request({ type: 'say', text: 'merkki' }), true).seq;
    await fx.settle();

    // Kim (co-leader) and Ilo (participant) drop; Sol writes to the leaders; Kim is
    // demoted and Ilo promoted while they are away.
    Kim.terminate();
    Ilo.terminate();
    await alert(leader, 'disconnected', { member: Kim.member });
    await alert(leader, 'disconnected', { member: Ilo.member });
    const pm = expectAck(await Sol.request({ type: 'say', text: 'vetäjille vain', to: 'leaders' }), true);
    expectAck(await leader.request({ type: 'demote', member: Kim.member }), true);
    expectAck(await leader.request({ type: 'promote', member: Ilo.member }), true);

    const kim = await resume(fx.server, { token: Kim.token, epoch: Kim.epoch, after_seq: mark, label: 'Kim back' });
    assert.equal(kim.reply.role, 'participant');
    await fence(kim.client);
    assert.ok(!kim.client.all().some((m) => m.type === 'message' && m.seq === pm.seq), 'a demoted member is not replayed leader events');
    const ilo = await resume(fx.server, { token: Ilo.token, epoch: Ilo.epoch, after_seq: mark, label: 'Ilo back' });
    assert.equal(ilo.reply.role, 'co_leader');
    assert.equal((await ilo.client.next((m) => m.type === 'message' && m.seq === pm.seq)).text, 'vetäjille vain');
});

test('private messages go whatever mute, pause, round or slow mode say, and from the lobby', async () => {
    const fx = await sessionFixture({ participants: ['Sol', 'Kim'] });
    const { leader, p: { Sol, Kim } } = fx;
    for (const req of [
        { type: 'mute', member: Sol.member }, { type: 'pause', on: true }, { type: 'slow', seconds: 600 },
        { type: 'round_start', kind: 'round', order: [Kim.member] },
    ]) expectAck(await leader.request(req), true);
    for (let i = 0; i < 3; i++) expectAck(await Sol.request({ type: 'say', text: `apua ${i}`, to: 'leaders' }), true);
    expectError(await Sol.request({ type: 'say', text: 'huoneeseen' }), 'muted');
    expectAck(await leader.request({ type: 'lock', on: true }), true);
    const waiting = await fx.enter('Ilo');
    assert.equal(waiting.reply.state, 'lobby');
    expectAck(await waiting.client.request({ type: 'say', text: 'odotan tässä', to: 'leaders' }), true);
    const m = await leader.next((x) => x.type === 'message' && x.text === 'odotan tässä');
    assert.deepEqual([m.scope, m.with], ['private', waiting.client.member]);
});

test('private_messages off: nobody may write to the leaders privately; the welcome says so', async () => {
    const fx = await sessionFixture({ participants: ['Sol', 'Kim'], privateMessages: 'off' });
    const { leader, p: { Sol, Kim } } = fx;
    assert.equal(Sol.welcome.private_messages, 'off');
    assert.equal(leader.welcome.private_messages, 'off');
    expectError(await Sol.request({ type: 'say', text: 'salaa', to: 'leaders' }), 'forbidden');
    expectError(await Sol.request({ type: 'say', text: 'salaa', to: leader.member }), 'forbidden');
    expectError(await Sol.request({ type: 'say', text: 'salaa', to: Kim.member }), 'forbidden');
    await assertQuiet([leader, Sol, Kim], 'private messages while they are off');
    expectAck(await leader.request({ type: 'lock', on: true }), true);
    const waiting = await fx.enter('Ilo');
    expectError(await waiting.client.request({ type: 'say', text: 'hei?', to: 'leaders' }), 'forbidden');
    // The leaders' back-channel is not a participant's private message.
    expectAck(await leader.request({ type: 'say', text: 'vetäjien kesken', to: 'leaders' }), true);
});

test('private_messages leaders (the default): a participant may not write to another participant', async () => {
    const fx = await sessionFixture({ participants: ['Sol', 'Kim'] });
    const { leader, p: { Sol, Kim } } = fx;
    assert.equal(Sol.welcome.private_messages, 'leaders');
    expectError(await Sol.request({ type: 'say', text: 'psst', to: Kim.member }), 'forbidden');
    await assertQuiet([leader, Sol, Kim], 'a direct message under the leaders policy');
});

test('private_messages everyone: direct messages between two participants, seen by nobody else', async () => {
    const fx = await sessionFixture({ participants: ['Sol', 'Kim', 'Ilo'], privateMessages: 'everyone' });
    const { leader, p: { Sol, Kim, Ilo } } = fx;
    assert.equal(Sol.welcome.private_messages, 'everyone');
    const ack = expectAck(await Sol.request({ type: 'say', text: 'Kiitos tuesta', to: Kim.member }), true);
    for (const c of [Sol, Kim]) {
        const m = await c.next('message');
        assert.deepEqual({ seq: m.seq, member: m.member, scope: m.scope, with: m.with, text: m.text },
            { seq: ack.seq, member: Sol.member, scope: 'direct', with: Kim.member, text: 'Kiitos tuesta' });
    }
    await assertQuiet([leader, Ilo], 'a direct message between two others');
    expectError(await Sol.request({ type: 'say', text: 'kuka?', to: NO_SUCH_MEMBER }), 'not_found');
    const del = expectAck(await Sol.request({ type: 'delete', seq: ack.seq }), true);
    for (const c of [Sol, Kim]) assert.equal((await c.next('deleted')).seq, del.seq);
    await assertQuiet([leader, Ilo], 'deleting a direct message');
});

test('back-channel: leaders and co-leaders talk among themselves; participants never see it', async () => {
    const fx = await sessionFixture({ participants: ['Sol', 'Kim'], leaders: 2 });
    const { leader, p: { Sol, Kim } } = fx;
    const other = await fx.enterLeader(fx.leaders[1]);
    expectAck(await leader.request({ type: 'promote', member: Kim.member }), true);
    await fx.settle([leader, other.client, Sol, Kim]);

    const ack = expectAck(await leader.request({ type: 'say', text: 'Sol vaikuttaa väsyneeltä', to: 'leaders' }), true);
    for (const c of [leader, other.client, Kim]) {
        const m = await c.next('message');
        assert.deepEqual([m.seq, m.scope, m.member, 'with' in m], [ack.seq, 'leaders', leader.member, false]);
    }
    const ack2 = expectAck(await Kim.request({ type: 'say', text: 'samaa mieltä', to: leader.member }), true);
    for (const c of [leader, other.client, Kim]) {
        const m = await c.next('message');
        assert.deepEqual([m.seq, m.scope], [ack2.seq, 'leaders']);
    }
    const del = expectAck(await leader.request({ type: 'delete', seq: ack.seq }), true);
    for (const c of [leader, other.client, Kim]) assert.equal((await c.next('deleted')).seq, del.seq);
    await assertQuiet([Sol], 'the back-channel');
    assert.ok(!Sol.all().some((m) => m.type === 'message'), 'a participant sees no back-channel message');
});

// ---------------------------------------------------------------------------
// Alerts

test("not_ok: an alert to the leaders only, with the member's id and name", async () => {
    const fx = await sessionFixture({ participants: ['Sol', 'Kim', 'Ilo'] });
    const { leader, p: { Sol, Kim, Ilo } } = fx;
    expectAck(await leader.request({ type: 'promote', member: Ilo.member }), true);
    await fx.settle();
    expectAck(await Sol.request({ type: 'not_ok' }));
    for (const c of [leader, Ilo]) {
        const a = await alert(c, 'not_ok');
        assertAlertShape(a);
        assert.deepEqual([a.member, a.name, 'target' in a], [Sol.member, 'Sol', false]);
    }
    expectError(await Sol.request({ type: 'not_ok', quiet: true }), 'unknown_field', { field: 'quiet' });
    await assertQuiet([Sol, Kim], "someone's I'm not OK");
    await assertNoAlert(Sol);
    await assertNoAlert(Kim);
});

test('report: an alert with the message seq to the leaders; nobody else is told', async () => {
    const fx = await sessionFixture({ participants: ['Sol', 'Kim', 'Ilo'] });
    const { leader, p: { Sol, Kim, Ilo } } = fx;
    const said = expectAck(await Sol.request({ type: 'say', text: 'loukkaava viesti' }), true);
    const secret = expectAck(await leader.request({ type: 'say', text: 'vain Ilolle', to: Ilo.member }), true);
    await fx.settle();
    expectAck(await Kim.request({ type: 'report', seq: said.seq }));
    const a = await alert(leader, 'report');
    assertAlertShape(a);
    assert.deepEqual([a.member, a.name, a.target], [Kim.member, 'Kim', said.seq]);
    await assertQuiet([Sol, Kim, Ilo], 'a report');

    expectError(await Kim.request({ type: 'report' }), 'missing_field', { field: 'seq' });
    expectError(await Kim.request({ type: 'report', seq: said.seq + 1000 }), 'not_found');
    // Only a message the reporter received can be reported.
    expectError(await Kim.request({ type: 'report', seq: secret.seq }), 'not_found', {});
    await assertQuiet([leader, Sol, Kim, Ilo], 'refused reports');
});

test("leave {safe: true}: the leaders get a safe alert; a plain leave does not", async () => {
    const fx = await sessionFixture({ participants: ['Sol', 'Kim', 'Ilo'] });
    const { leader, p: { Sol, Kim, Ilo } } = fx;
    expectError(await Sol.request({ type: 'leave', safe: 'yes' }), 'bad_field', { field: 'safe' });
    const ack = expectAck(await Sol.request({ type: 'leave', safe: true }), true);
    assert.equal((await within(Sol.closed, 3000, 'Sol closed')).code, 1000);
    const left = await Kim.next('presence');
    assert.deepEqual([left.seq, left.member, left.reason], [ack.seq, Sol.member, 'left']);
    const a = await alert(leader, 'safe');
    assertAlertShape(a);
    assert.deepEqual([a.member, a.name], [Sol.member, 'Sol']);
    await assertNoAlert(Kim);

    expectAck(await Kim.request({ type: 'leave' }), true);
    expectAck(await Ilo.request({ type: 'leave', safe: false }), true);
    await leader.next((m) => m.type === 'presence' && m.member === Ilo.member);
    await fence(leader);
    const alerts = leader.all().filter((m) => m.type === 'alert');
    assert.deepEqual(alerts.map((x) => [x.kind, x.member]), [['safe', Sol.member]], 'no alert for a plain leave (not disconnected either)');
});

test('disconnected and returned alerts go to the leaders when a participant drops and resumes', async () => {
    const fx = await sessionFixture({ participants: ['Sol', 'Kim'] });
    const { leader, p: { Sol, Kim } } = fx;
    Sol.terminate();
    const a = await alert(leader, 'disconnected');
    assertAlertShape(a);
    assert.deepEqual([a.member, a.name], [Sol.member, 'Sol']);
    const r = await resume(fx.server, { token: Sol.token, epoch: Sol.epoch, after_seq: Sol.welcome.seq, label: 'Sol back' });
    assert.equal(r.reply.type, 'welcome', JSON.stringify(r.reply));
    const b = await alert(leader, 'returned');
    assert.deepEqual([b.member, b.name], [Sol.member, 'Sol']);
    assert.ok(b.seq > a.seq);
    await assertQuiet([Kim], 'a participant dropping and coming back (detached members are not announced)');
    await assertNoAlert(r.client);
});

// ---------------------------------------------------------------------------
// No leader there

test('read-only: when the only leader drops the room is read-only for participants until a leader is back', async () => {
    const fx = await sessionFixture({ participants: ['Sol', 'Kim'] });
    const { leader, p: { Sol, Kim } } = fx;
    const lastSeq = (await leader.request({ type: 'say', text: 'hetki' })).seq;
    await fx.settle();
    leader.terminate();
    for (const c of [Sol, Kim]) {
        const ev = await c.next('room');
        assert.deepEqual([ev.read_only, ev.by], [true, null]);
    }
    expectError(await Sol.request({ type: 'say', text: 'onko ketään?' }), 'read_only');
    const late = await fx.enter('Ilo');
    assert.equal(late.reply.read_only, true);

    const r = await resume(fx.server, { token: leader.token, epoch: leader.epoch, after_seq: lastSeq, label: 'leader back' });
    assert.equal(r.reply.type, 'welcome', JSON.stringify(r.reply));
    assert.equal(r.reply.role, 'leader');
    for (const c of [Sol, Kim]) await c.next((m) => m.type === 'room' && m.read_only === false);
    expectAck(await Sol.request({ type: 'say', text: 'hyvä että palasit' }), true);
});

test('read-only: muted comes first, then read_only, then paused; a co-leader keeps the room writable', async () => {
    const fx = await sessionFixture({ participants: ['Sol', 'Kim', 'Ilo'] });
    const { leader, p: { Sol, Kim, Ilo } } = fx;
    expectAck(await leader.request({ type: 'pause', on: true }), true);
    expectAck(await leader.request({ type: 'mute', member: Kim.member }), true);
    const { client: l2 } = await fx.enterLeader(); // takes the membership over; the old socket gets 4409
    assert.equal((await within(leader.closed, 3000, 'the old leader socket')).code, 4409);
    await l2.request({ type: 'leave' });
    await Sol.next((m) => m.type === 'room' && m.read_only === true);
    expectError(await Sol.request({ type: 'say', text: 'x' }), 'read_only');
    expectError(await Kim.request({ type: 'say', text: 'x' }), 'muted');

    // A leader comes back with a new login; the room is writable again, but paused.
    const back = await fx.enterLeader();
    await Sol.next((m) => m.type === 'room' && m.read_only === false);
    expectError(await Sol.request({ type: 'say', text: 'x' }), 'paused');
    expectAck(await back.client.request({ type: 'pause', on: false }), true);

    // With a co-leader connected the room never goes read-only.
    expectAck(await back.client.request({ type: 'promote', member: Ilo.member }), true);
    await fx.settle([Sol, Kim, Ilo]);
    back.client.terminate();
    expectAck(await Sol.request({ type: 'say', text: 'vertaisohjaaja on täällä' }), true);
    await fence(Sol);
    assert.ok(!Sol.drain().some((m) => m.type === 'room' && m.read_only === true));
});

test('a leader entering with a new login takes its membership over: 4409 for the old socket, no presence change', async () => {
    const fx = await sessionFixture({ participants: ['Sol'] });
    const { leader, p: { Sol } } = fx;
    const again = await fx.enterLeader();
    assert.equal(again.reply.role, 'leader');
    assert.equal(again.reply.member, leader.member, 'the same membership');
    assert.match(again.reply.token, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(again.reply.token, leader.token, 'a new resume token');
    assert.equal(again.reply.state, 'open');
    assert.equal((await within(leader.closed, 3000, 'the old socket')).code, 4409);
    await assertQuiet([Sol], 'a leader taking its membership over');
    assert.equal(again.reply.members.filter((m) => m.role === 'leader').length, 1);
    expectAck(await again.client.request({ type: 'lock', on: true }), true);
});

// ---------------------------------------------------------------------------
// Crisis resources and risk words

const CRISIS = {
    fi: [
        { name: 'Kriisipuhelin', phone: '09 2525 0111', url: 'https://mieli.fi/kriisipuhelin', note: 'Päivystää ympäri vuorokauden' },
        { name: 'Hätänumero', phone: '112' },
    ],
    sv: [{ name: 'Kristelefonen', phone: '09 2525 0112', url: 'https://mieli.fi/sv' }],
    en: [{ name: 'Crisis line', url: 'https://example.org/help', note: 'Chat in English' }],
};
const RISK_WORDS = { fi: ['itsetuho', 'en jaksa elää'], sv: ['självmord'], en: ['end it all'] };

test('crisis resources are in every welcome, the lobby included; {} when none are configured', async () => {
    const fx = await sessionFixture({ participants: ['Sol'], crisis: CRISIS, riskWords: RISK_WORDS });
    assert.deepEqual(fx.leader.welcome.crisis, CRISIS);
    assert.deepEqual(fx.p.Sol.welcome.crisis, CRISIS);
    expectAck(await fx.leader.request({ type: 'lock', on: true }), true);
    const waiting = await fx.enter('Kim');
    assert.equal(waiting.reply.state, 'lobby');
    assert.deepEqual(waiting.reply.crisis, CRISIS);
    fx.p.Sol.terminate();
    const r = await resume(fx.server, { token: fx.p.Sol.token, epoch: fx.p.Sol.epoch, after_seq: 0, label: 'Sol back' });
    assert.deepEqual(r.reply.crisis, CRISIS);

    // The same list for anyone at GET /crisis.json, so the join screen has it
    // before a hello.
    const pub = await httpRequest(fx.server, { path: '/crisis.json' });
    assert.equal(pub.status, 200);
    assert.match(pub.headers['content-type'], /^application\/json/);
    assert.deepEqual(JSON.parse(pub.body), CRISIS);

    const plain = await sessionFixture({ participants: ['Ilo'] });
    assert.deepEqual(plain.p.Ilo.welcome.crisis, {});
    assert.deepEqual(plain.leader.welcome.crisis, {});
    assert.deepEqual(JSON.parse((await httpRequest(plain.server, { path: '/crisis.json' })).body), {});
});

test('a risky message is delivered to all; the leaders get risk_word with its seq, the writer a crisis notice', async () => {
    const fx = await sessionFixture({ participants: ['Sol', 'Kim'], crisis: CRISIS, riskWords: RISK_WORDS });
    const { leader, p: { Sol, Kim } } = fx;
    const text = 'Joskus ajattelen ITSETUHOA, anteeksi';
    const ack = expectAck(await Sol.request({ type: 'say', text }), true);
    for (const c of [leader, Sol, Kim]) {
        const m = await c.next('message');
        assert.deepEqual([m.seq, m.text], [ack.seq, text], 'never blocked, never changed');
    }
    const a = await alert(leader, 'risk_word');
    assertAlertShape(a);
    assert.deepEqual([a.member, a.name, a.target], [Sol.member, 'Sol', ack.seq]);
    const n = await Sol.next('notice');
    assert.equal(n.kind, 'crisis');
    assert.deepEqual(Object.keys(n).sort().filter((k) => !['seq', 'ts'].includes(k)), ['kind', 'type']);
    await assertNoAlert(Kim);
    await assertQuiet([leader, Sol, Kim], 'one risky message');

    // Every language's words in every group (this one is Finnish), Latin letters
    // folded, private messages included; a harmless message raises nothing.
    const pm = expectAck(await Kim.request({ type: 'say', text: 'Jag tänker på SJÄLVMORD', to: 'leaders' }), true);
    const b = await alert(leader, 'risk_word');
    assert.deepEqual([b.member, b.target], [Kim.member, pm.seq]);
    assert.equal((await Kim.next('notice')).kind, 'crisis');
    expectAck(await Kim.request({ type: 'say', text: 'I just want to End It All' }), true);
    assert.equal((await alert(leader, 'risk_word')).member, Kim.member);
    await fx.settle();
    const from = Sol.all().length;
    expectAck(await Sol.request({ type: 'say', text: 'Tänään oli parempi päivä' }), true);
    await fence(Sol);
    assert.ok(!Sol.all().slice(from).some((m) => m.type === 'notice'), 'no notice for a harmless message');
    await fence(leader);
    assert.equal(leader.all().filter((m) => m.type === 'alert' && m.kind === 'risk_word').length, 3);
});

test('SIGHUP reloads the risk words', async () => {
    const fx = await sessionFixture({ participants: ['Sol'], crisis: CRISIS, riskWords: RISK_WORDS });
    const { leader, p: { Sol } } = fx;
    const file = fx.server.configText.match(/risk_words_file = (.*)/)[1];
    expectAck(await Sol.request({ type: 'say', text: 'olen toivoton' }), true);
    fs.writeFileSync(file, JSON.stringify({ fi: ['toivoton'] }));
    fx.server.signal('SIGHUP');
    await waitFor(async () => {
        const ack = await Sol.request({ type: 'say', text: 'olen yhä toivoton' });
        await fence(leader);
        return leader.all().some((m) => m.type === 'alert' && m.kind === 'risk_word' && m.target === ack.seq);
    }, { timeout: 4000, interval: 200, desc: 'a risk_word alert for the new word' });
    assert.equal(leader.all().filter((m) => m.type === 'alert' && m.kind === 'risk_word').length, 1,
        'the message before the reload raised nothing');
});
