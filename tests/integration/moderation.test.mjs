// The leader's moderation tools against the real kamratd (protocol/README.md §4a):
// the lobby (admit, deny, to_lobby, lock, knocking), mute and unmute, remove, ban
// (stored, across a restart), bans and unban, delete with tombstones, pause, slow
// mode, topic, promote/demote (what a co-leader may and may not do), end, and the
// audit rows every change writes. Each test sets up its own group, session and
// kamratd with sessionFixture (lib/harness.mjs): a leader logged in over
// POST /api/login, the session opened, participants entered by invite and agreed.
//
// A participant trying a leader's request gets `forbidden` and nothing changes
// (assertQuiet: nobody got anything).

import assert from 'node:assert/strict';
import {
    assertQuiet,
    expectAck,
    expectError,
    fence,
    participantKey,
    createInvite,
    enter,
    resume,
    sessionFixture,
    test,
    within,
} from './lib/harness.mjs';

const NO_SUCH_MEMBER = 4000000000;

/** The newest lobby event the client got whose waiting list satisfies pred. */
async function lobbyWhere(client, pred, desc = 'a lobby event') {
    return client.next(Object.assign((m) => m.type === 'lobby' && pred(m.waiting), { desc }), 3000);
}

const waitingIds = (waiting) => waiting.map((w) => w.member).sort((a, b) => a - b);

// ---------------------------------------------------------------------------
// Lobby

test('lobby: leaders see who waits (welcome waiting, lobby events); participants see nobody', async () => {
    const fx = await sessionFixture({ participants: 0, open: false, leaders: 2 });
    const { leader } = fx;
    const sol = await fx.enter('Sol', { agree: false });
    assert.equal(sol.reply.state, 'lobby');
    assert.deepEqual(sol.reply.members, [], 'the lobby shows nobody');
    assert.deepEqual(sol.reply.waiting, [], 'a participant is not shown who waits');
    assert.equal(sol.reply.role, 'participant');
    assert.equal(sol.reply.agreed, false);
    const ev = await lobbyWhere(leader, (w) => w.some((x) => x.name === 'Sol'));
    assert.ok(Number.isSafeInteger(ev.seq) && Number.isSafeInteger(ev.ts), JSON.stringify(ev));
    assert.deepEqual(ev.waiting, [{ member: sol.client.member, name: 'Sol', knocked: false, agreed: false }]);

    expectAck(await sol.client.request({ type: 'agree' }), false);
    const kim = await fx.enter('Kim');
    await lobbyWhere(leader, (w) => w.some((x) => x.name === 'Kim'), 'the lobby with Kim');

    // Another leader of the group sees both in its snapshot, with their agreement.
    const other = await fx.enterLeader(fx.leaders[1]);
    assert.equal(other.reply.role, 'leader');
    const waiting = [...other.reply.waiting].sort((a, b) => a.member - b.member);
    assert.deepEqual(waiting, [
        { member: sol.client.member, name: 'Sol', knocked: false, agreed: true },
        { member: kim.client.member, name: 'Kim', knocked: false, agreed: true },
    ]);
    assert.deepEqual(other.reply.members.map((m) => m.name).sort(), [fx.leaders[0], fx.leaders[1]].sort(),
        'waiting participants are not members');

    for (const c of [sol.client, kim.client]) {
        await fence(c);
        assert.ok(!c.all().some((m) => m.type === 'lobby' || m.type === 'presence' || m.type === 'message'),
            `${c.label} saw something of the room: ${JSON.stringify(c.all().map((m) => m.type))}`);
    }

    // Someone who leaves the lobby is no longer waiting; the leave is acked without seq.
    await fx.settle([leader]);
    expectAck(await kim.client.request({ type: 'leave' }), false);
    await lobbyWhere(leader, (w) => w.length === 1 && w[0].member === sol.client.member, 'Kim gone from the lobby');
});

test('admit before open is wrong_state; a waiting participant may not admit; open lets everyone in', async () => {
    const fx = await sessionFixture({ participants: ['Sol', 'Kim'], open: false });
    const { leader, p: { Sol, Kim } } = fx;
    expectError(await leader.request({ type: 'admit', member: Sol.member }), 'wrong_state');
    expectError(await leader.request({ type: 'admit', all: true }), 'wrong_state');
    expectError(await Kim.request({ type: 'admit', member: Sol.member }), 'forbidden');
    await assertQuiet([leader, Sol, Kim], 'refused admits');

    const opened = expectAck(await leader.request({ type: 'open' }), true);
    for (const c of [Sol, Kim]) {
        const w = await c.next('welcome');
        assert.equal(w.state, 'open');
        assert.equal(w.token, null, 'the admission snapshot has no token');
        assert.equal(w.member, c.member);
        assert.ok(w.seq >= opened.seq);
    }
    const joined = [];
    for (const c of [Sol, Kim]) joined.push(await leader.next((m) => m.type === 'presence' && m.member === c.member && m.state === 'joined'));
    assert.ok(joined.every((p) => p.seq > opened.seq));
});

test('admit one from a locked room: a fresh welcome (token null), presence joined; the others keep waiting', async () => {
    const fx = await sessionFixture({ participants: ['Sol'] });
    const { leader, p: { Sol } } = fx;
    expectAck(await leader.request({ type: 'lock', on: true }), true);
    await Sol.next('room');
    await leader.next('room');
    const kim = await fx.enter('Kim');
    const ilo = await fx.enter('Ilo');
    assert.equal(kim.reply.state, 'lobby', 'a locked room holds arrivals in the lobby');
    assert.equal(ilo.reply.state, 'lobby');
    assert.notEqual(kim.reply.token, null, 'the first welcome has the resume token');
    await lobbyWhere(leader, (w) => w.length === 2, 'the lobby with two waiting');
    await fx.settle([leader, Sol]);

    expectError(await Sol.request({ type: 'admit', member: kim.client.member }), 'forbidden');
    await assertQuiet([leader, Sol, kim.client, ilo.client], 'a participant admit');

    const ack = expectAck(await leader.request({ type: 'admit', member: kim.client.member }), true);
    const w = await kim.client.next('welcome');
    assert.equal(w.state, 'open');
    assert.equal(w.token, null);
    assert.equal(w.member, kim.client.member);
    assert.deepEqual(w.members.map((m) => m.name).sort(), ['Kim', 'Sol', fx.leaderName].sort());
    const own = await kim.client.next((m) => m.type === 'presence' && m.member === kim.client.member);
    assert.equal(own.state, 'joined');
    assert.ok(own.seq > w.seq, 'presence joined follows the snapshot');
    // The ack names an event the admit caused: presence joined, or the leaders' lobby update after it.
    assert.ok(ack.seq >= own.seq, `ack seq ${ack.seq}, presence seq ${own.seq}`);
    const seen = await Sol.next('presence');
    assert.deepEqual([seen.member, seen.state, seen.seq], [kim.client.member, 'joined', own.seq]);
    await lobbyWhere(leader, (w2) => w2.length === 1 && w2[0].member === ilo.client.member, 'Ilo still waiting');

    // Kim agreed in the lobby and may post now; Ilo still may not.
    expectAck(await kim.client.request({ type: 'say', text: 'kiitos' }), true);
    expectError(await ilo.client.request({ type: 'say', text: 'hei?' }), 'in_lobby');
    assert.ok(!ilo.client.all().some((m) => m.type === 'message' || m.type === 'presence'), 'the lobby sees nothing of the room');

    // Only someone waiting can be admitted.
    expectError(await leader.request({ type: 'admit', member: Sol.member }), 'not_found');
    expectError(await leader.request({ type: 'admit', member: NO_SUCH_MEMBER }), 'not_found');
});

test('admit all lets everyone waiting in and writes one audit row with target all', async () => {
    const fx = await sessionFixture({ participants: ['Sol'] });
    const { leader, p: { Sol } } = fx;
    expectAck(await leader.request({ type: 'lock', on: true }), true);
    const kim = await fx.enter('Kim');
    const ilo = await fx.enter('Ilo');
    await lobbyWhere(leader, (w) => w.length === 2, 'two waiting');
    await fx.settle([leader, Sol]);
    expectError(await Sol.request({ type: 'admit', all: true }), 'forbidden');
    expectAck(await leader.request({ type: 'admit', all: true }));
    for (const c of [kim.client, ilo.client]) {
        const w = await c.next('welcome');
        assert.equal(w.state, 'open');
        assert.equal(w.token, null);
    }
    for (const c of [kim.client, ilo.client]) {
        await Sol.next((m) => m.type === 'presence' && m.state === 'joined' && m.member === c.member);
    }
    const rows = (await fx.audit()).filter((r) => r.action === 'admit');
    assert.equal(rows.length, 1, JSON.stringify(rows));
    assert.equal(rows[0].target, 'all');
    assert.equal(rows[0].actor, `leader:${fx.leaderName}`);
});

test('deny one and deny all: the connection is closed with 4403 "denied"; they may try again', async () => {
    const fx = await sessionFixture({ participants: ['Sol'] });
    const { leader, p: { Sol } } = fx;
    expectAck(await leader.request({ type: 'lock', on: true }), true);
    const kim = await fx.enter('Kim');
    const ilo = await fx.enter('Ilo');
    const vesa = await fx.enter('Vesa');
    await lobbyWhere(leader, (w) => w.length === 3, 'three waiting');
    await fx.settle([leader, Sol]);

    expectError(await Sol.request({ type: 'deny', member: kim.client.member }), 'forbidden');
    expectError(await leader.request({ type: 'deny', member: Sol.member }), 'not_found', {});
    await assertQuiet([leader, Sol, kim.client, ilo.client, vesa.client], 'refused denies');

    expectAck(await leader.request({ type: 'deny', member: kim.client.member }));
    assert.deepEqual(await within(kim.client.closed, 3000, 'Kim closed'), { code: 4403, reason: 'denied' });
    await lobbyWhere(leader, (w) => w.length === 2 && !w.some((x) => x.member === kim.client.member), 'Kim gone from the lobby');

    expectAck(await leader.request({ type: 'deny', all: true }));
    for (const c of [ilo.client, vesa.client]) {
        assert.deepEqual(await within(c.closed, 3000, `${c.label} closed`), { code: 4403, reason: 'denied' });
    }
    await assertQuiet([Sol], 'denying people in the lobby (the room sees nothing)');

    const again = await fx.enter('Kim', { label: 'Kim again' });
    assert.equal(again.reply.state, 'lobby', 'a denied participant may knock again');

    const rows = (await fx.audit()).filter((r) => r.action === 'deny');
    assert.deepEqual(rows.map((r) => r.target), [`member:${kim.client.member}`, 'all']);
});

test('admit and deny take exactly one of member and all', async () => {
    const fx = await sessionFixture({ participants: ['Sol'] });
    const { leader } = fx;
    for (const type of ['admit', 'deny']) {
        expectError(await leader.request({ type }), 'missing_field', { field: 'member' });
        expectError(await leader.request({ type, member: fx.p.Sol.member, all: true }), 'bad_field', { field: 'all' });
        expectError(await leader.request({ type, all: false }), 'bad_field', { field: 'all' });
        expectError(await leader.request({ type, member: 0 }), 'bad_field', { field: 'member' });
        expectError(await leader.request({ type, member: 2 ** 32 }), 'bad_field', { field: 'member' });
        expectError(await leader.request({ type, member: '2' }), 'bad_field', { field: 'member' });
        expectError(await leader.request({ type, member: 1, extra: 1 }), 'unknown_field', { field: 'extra' });
    }
});

test('to_lobby: presence left (reason lobby) to the room, a lobby welcome (token null) to them; admit brings them back', async () => {
    const fx = await sessionFixture({ participants: ['Sol', 'Kim'] });
    const { leader, p: { Sol, Kim } } = fx;
    expectError(await Kim.request({ type: 'to_lobby', member: Sol.member }), 'forbidden');
    expectError(await leader.request({ type: 'to_lobby', member: leader.member }), 'forbidden');
    expectError(await leader.request({ type: 'to_lobby', member: NO_SUCH_MEMBER }), 'not_found');
    await assertQuiet([leader, Sol, Kim], 'refused to_lobby');

    const ack = expectAck(await leader.request({ type: 'to_lobby', member: Sol.member }), true);
    const seqs = [];
    for (const c of [leader, Kim]) {
        const left = await c.next('presence');
        assert.deepEqual([left.member, left.state, left.reason], [Sol.member, 'left', 'lobby']);
        seqs.push(left.seq);
    }
    assert.equal(seqs[0], seqs[1]);
    assert.ok(ack.seq >= seqs[0], `the ack (${ack.seq}) names presence left (${seqs[0]}) or the lobby update after it`);
    const w = await Sol.next('welcome');
    assert.equal(w.state, 'lobby');
    assert.equal(w.token, null);
    assert.deepEqual(w.members, []);
    expectError(await Sol.request({ type: 'say', text: 'mitä?' }), 'in_lobby');
    await lobbyWhere(leader, (x) => x.some((y) => y.member === Sol.member), 'Sol waiting');

    // The room goes on without Sol seeing it.
    const said = expectAck(await Kim.request({ type: 'say', text: 'jatketaan' }), true);
    await fence(Sol);
    assert.ok(!Sol.all().some((m) => m.type === 'message' && m.seq === said.seq), 'the lobby does not get room messages');
    expectError(await leader.request({ type: 'to_lobby', member: Sol.member }), 'not_found', {});

    expectAck(await leader.request({ type: 'admit', member: Sol.member }), true);
    assert.equal((await Sol.next('welcome')).state, 'open');
    assert.deepEqual(await Kim.next('presence').then((x) => [x.member, x.state]), [Sol.member, 'joined']);
    expectAck(await Sol.request({ type: 'say', text: 'olen taas täällä' }), true);
});

test('lock: room event to everyone; arrivals wait; leaders still come straight in; unlock lets arrivals in', async () => {
    const fx = await sessionFixture({ participants: ['Sol'], leaders: 2 });
    const { leader, p: { Sol } } = fx;
    expectError(await Sol.request({ type: 'lock', on: true }), 'forbidden');
    await assertQuiet([leader, Sol], 'a participant lock');

    const ack = expectAck(await leader.request({ type: 'lock', on: true }), true);
    for (const c of [leader, Sol]) {
        const ev = await c.next('room');
        assert.equal(ev.seq, ack.seq);
        assert.equal(ev.by, leader.member);
        assert.deepEqual(
            { locked: ev.locked, paused: ev.paused, read_only: ev.read_only, slow_mode: ev.slow_mode, topic: ev.topic },
            { locked: true, paused: false, read_only: false, slow_mode: 0, topic: null },
        );
    }
    expectAck(await leader.request({ type: 'lock', on: true }), false);
    await assertQuiet([leader, Sol], 'locking a locked room');

    assert.equal((await fx.enter('Kim')).reply.state, 'lobby');
    const other = await fx.enterLeader(fx.leaders[1]);
    assert.equal(other.reply.state, 'open', 'a leader is never held in the lobby');
    assert.equal(other.reply.locked, true);

    const unlock = expectAck(await leader.request({ type: 'lock', on: false }), true);
    const ev = await Sol.next((m) => m.type === 'room' && m.seq === unlock.seq);
    assert.equal(ev.locked, false);
    const ilo = await fx.enter('Ilo');
    assert.equal(ilo.reply.state, 'open', 'an unlocked room lets arrivals straight in');
    assert.equal(ilo.reply.locked, false);

    const actions = (await fx.audit()).map((r) => r.action).filter((a) => a === 'lock' || a === 'unlock');
    assert.deepEqual(actions, ['lock', 'unlock']);
});

test('remove: presence left (removed), 4403 "removed", the token is dead; coming back they wait, knocked', async () => {
    // kamratd knows the person again by the participant key (or a personal invite).
    const fx = await sessionFixture({ participants: ['Sol', 'Kim'], keys: true });
    const { leader, p: { Sol, Kim } } = fx;
    expectError(await Kim.request({ type: 'remove', member: Sol.member }), 'forbidden');
    expectError(await leader.request({ type: 'remove', member: leader.member }), 'forbidden');
    expectError(await leader.request({ type: 'remove', member: NO_SUCH_MEMBER }), 'not_found');
    await assertQuiet([leader, Sol, Kim], 'refused removes');

    const ack = expectAck(await leader.request({ type: 'remove', member: Sol.member }), true);
    for (const c of [leader, Kim]) {
        const left = await c.next('presence');
        assert.deepEqual([left.member, left.state, left.reason, left.seq], [Sol.member, 'left', 'removed', ack.seq]);
    }
    assert.deepEqual(await within(Sol.closed, 3000, 'Sol closed'), { code: 4403, reason: 'removed' });
    const r = await resume(fx.server, { token: Sol.token, epoch: Sol.epoch, after_seq: 0, label: 'Sol resumes' });
    expectError(r.reply, 'resume_failed', { reason: 'expired' });

    // The room is open and not locked, yet a removed person knocks.
    const back = await fx.enter('Someone', { label: 'Sol again', agree: false, key: Sol.key });
    assert.equal(back.reply.state, 'lobby');
    const ev = await lobbyWhere(leader, (w) => w.some((x) => x.name === 'Someone'), 'Sol knocking');
    assert.deepEqual(ev.waiting.find((x) => x.name === 'Someone'), { member: back.client.member, name: 'Someone', knocked: true, agreed: false });
    const other = await fx.enter('Sol', { label: 'a new key', key: participantKey() });
    assert.equal(other.reply.state, 'open', 'a different person (key) comes straight in');
    expectAck(await leader.request({ type: 'admit', member: back.client.member }), true);
    assert.equal((await back.client.next('welcome')).state, 'open');

    const rows = (await fx.audit()).filter((x) => x.action === 'remove');
    assert.deepEqual(rows.map((x) => x.target), [`member:${Sol.member}`]);
});

test('a leader talks privately with a waiting person, who answers to the leaders; nobody else sees it', async () => {
    const fx = await sessionFixture({ participants: ['Sol'] });
    const { leader, p: { Sol } } = fx;
    expectAck(await leader.request({ type: 'lock', on: true }), true);
    const kim = await fx.enter('Kim');
    await fx.settle([leader, Sol]);

    const ack = expectAck(await leader.request({ type: 'say', text: 'Hei Kim, tervetuloa!', to: kim.client.member }), true);
    for (const c of [leader, kim.client]) {
        const m = await c.next('message');
        assert.equal(m.seq, ack.seq);
        assert.equal(m.scope, 'private');
        assert.equal(m.with, kim.client.member);
        assert.equal(m.member, leader.member);
        assert.equal(m.text, 'Hei Kim, tervetuloa!');
    }
    const reply = expectAck(await kim.client.request({ type: 'say', text: 'Kiitos, odotan', to: 'leaders' }), true);
    const got = await leader.next('message');
    assert.deepEqual([got.seq, got.scope, got.with, got.member, got.text], [reply.seq, 'private', kim.client.member, kim.client.member, 'Kiitos, odotan']);
    assert.equal((await kim.client.next('message')).seq, reply.seq, 'the sender gets its own message');
    await assertQuiet([Sol], 'a private conversation with the lobby');
    assert.ok(!Sol.all().some((m) => m.type === 'message'));
});

test('leaders are never held back: not by room_full, a locked room or the lobby before open', async () => {
    const fx = await sessionFixture({ participants: ['Sol', 'Kim'], max: 2, leaders: 3 });
    const { leader } = fx;
    expectError((await fx.enter('Ilo', { expect: null })).reply, 'room_full', {});
    const second = await fx.enterLeader(fx.leaders[1]);
    assert.equal(second.reply.state, 'open');
    expectAck(await leader.request({ type: 'lock', on: true }), true);
    const third = await fx.enterLeader(fx.leaders[2]);
    assert.equal(third.reply.state, 'open');
    assert.equal(third.reply.members.filter((m) => m.role === 'leader').length, 3, 'max_participants counts participants only');
});

// ---------------------------------------------------------------------------
// Mute

test('mute: event to the member and the leaders only; say gets muted (until null); private to leaders still goes; unmute', async () => {
    const fx = await sessionFixture({ participants: ['Sol', 'Kim'], leaders: 2 });
    const { leader, p: { Sol, Kim } } = fx;
    expectError(await Kim.request({ type: 'mute', member: Sol.member }), 'forbidden');
    expectError(await leader.request({ type: 'mute', member: leader.member }), 'forbidden');
    expectError(await leader.request({ type: 'mute', member: NO_SUCH_MEMBER }), 'not_found');
    expectError(await leader.request({ type: 'mute', member: Sol.member, minutes: 0 }), 'bad_field', { field: 'minutes' });
    expectError(await leader.request({ type: 'mute', member: Sol.member, minutes: 1441 }), 'bad_field', { field: 'minutes' });
    await assertQuiet([leader, Sol, Kim], 'refused mutes');

    const ack = expectAck(await leader.request({ type: 'mute', member: Sol.member }), true);
    for (const c of [leader, Sol]) {
        const ev = await c.next('mute');
        assert.deepEqual(
            { seq: ev.seq, member: ev.member, muted: ev.muted, until: ev.until, by: ev.by },
            { seq: ack.seq, member: Sol.member, muted: true, until: null, by: leader.member },
        );
    }
    await assertQuiet([Kim], 'muting Sol (the mute event is private)');

    const err = expectError(await Sol.request({ type: 'say', text: 'saanko puhua?' }), 'muted');
    assert.equal(err.until, null, 'until is always there: null until unmuted');
    expectAck(await Sol.request({ type: 'say', text: 'miksi?', to: 'leaders' }), true);
    await leader.next('message');
    await Sol.next('message');
    expectAck(await Kim.request({ type: 'say', text: 'minä voin' }), true);
    expectAck(await leader.request({ type: 'mute', member: Sol.member }), false);

    // A leader's snapshot shows who is muted; a participant's does not, except itself.
    const other = await fx.enterLeader(fx.leaders[1]);
    const byName = Object.fromEntries(other.reply.members.map((m) => [m.name, m]));
    assert.equal(byName.Sol.muted, true);
    assert.equal(byName.Kim.muted, false);
    const ilo = await fx.enter('Ilo');
    assert.ok(ilo.reply.members.every((m) => !('muted' in m)), 'a participant is not shown who is muted');
    assert.equal(ilo.reply.muted, null);

    const un = expectAck(await leader.request({ type: 'unmute', member: Sol.member }), true);
    const ev = await Sol.next((m) => m.type === 'mute' && m.seq === un.seq);
    assert.deepEqual([ev.muted, ev.until, ev.by], [false, null, leader.member]);
    expectAck(await Sol.request({ type: 'say', text: 'kiitos' }), true);
    expectAck(await leader.request({ type: 'unmute', member: Sol.member }), false);
    expectError(await Kim.request({ type: 'unmute', member: Sol.member }), 'forbidden');

    const rows = (await fx.audit()).filter((r) => r.action === 'mute' || r.action === 'unmute');
    assert.deepEqual(rows.map((r) => [r.action, r.target]), [['mute', `member:${Sol.member}`], ['unmute', `member:${Sol.member}`]]);
});

test('a muted participant resuming sees muted in its welcome; muted comes before paused', async () => {
    const fx = await sessionFixture({ participants: ['Sol'] });
    const { leader, p: { Sol } } = fx;
    const ack = expectAck(await leader.request({ type: 'mute', member: Sol.member }), true);
    await Sol.next('mute');
    expectAck(await leader.request({ type: 'pause', on: true }), true);
    expectError(await Sol.request({ type: 'say', text: 'x' }), 'muted');
    Sol.terminate();
    const r = await resume(fx.server, { token: Sol.token, epoch: Sol.epoch, after_seq: ack.seq, label: 'Sol back' });
    assert.equal(r.reply.type, 'welcome', JSON.stringify(r.reply));
    assert.deepEqual(r.reply.muted, { until: null });
    assert.equal(r.reply.paused, true);
});

test('a timed mute: until is minutes from now, in the event and in the muted error', async () => {
    const fx = await sessionFixture({ participants: ['Sol'], leaders: 2 });
    const { leader, p: { Sol } } = fx;
    const before = Date.now();
    expectAck(await leader.request({ type: 'mute', member: Sol.member, minutes: 1 }), true);
    const ev = await Sol.next('mute');
    assert.equal(ev.muted, true);
    assert.ok(Number.isSafeInteger(ev.until), JSON.stringify(ev));
    assert.ok(Math.abs(ev.until - (ev.ts + 60000)) <= 1000, `until ${ev.until} is a minute after ts ${ev.ts}`);
    assert.ok(Math.abs(ev.until - (before + 60000)) <= 5000, `until ${ev.until} is a minute from now`);
    const err = expectError(await Sol.request({ type: 'say', text: 'x' }), 'muted');
    assert.equal(err.until, ev.until);
    const r = await fx.enterLeader(fx.leaders[1]);
    assert.equal(r.reply.members.find((m) => m.member === Sol.member).muted, true);
});

// [testing] minute_seconds = 1 makes a mute's minute one second long.
test('a timed mute ends by itself: mute {muted:false, by:null}, and posting works again',
    async () => {
        const fx = await sessionFixture({ participants: ['Sol'], testing: { minute_seconds: 1 } });
        const { leader, p: { Sol } } = fx;
        expectAck(await leader.request({ type: 'mute', member: Sol.member, minutes: 1 }), true);
        const ev = await Sol.next('mute');
        assert.ok(Math.abs(ev.until - Date.now() - 1000) < 1000, 'until: one (testing) minute away');
        const end = await Sol.next((m) => m.type === 'mute' && m.muted === false, 5000);
        assert.equal(end.by, null, 'the server ended it');
        assert.ok(end.ts >= ev.until - 1000);
        await leader.next((m) => m.type === 'mute' && m.muted === false);
        expectAck(await Sol.request({ type: 'say', text: 'taas äänessä' }), true);
    });

// ---------------------------------------------------------------------------
// Sanctions follow the person (README §4a): by participant key, across leave,
// a new hello, a new name and a dropped connection, for the rest of the session.

test('a mute follows the person: leave, hello again with the same key and a new name: still muted', async () => {
    const fx = await sessionFixture({ participants: ['Sol', 'Kim'], keys: true, leaders: 2 });
    const { leader, p: { Sol } } = fx;
    expectAck(await leader.request({ type: 'mute', member: Sol.member }), true);
    await Sol.next('mute');
    expectAck(await Sol.request({ type: 'leave' }));

    const back = await fx.enter('Aurinko', { key: Sol.key, label: 'Sol as Aurinko' });
    assert.equal(back.reply.state, 'open');
    assert.notEqual(back.reply.member, Sol.member, 'a new membership');
    assert.deepEqual(back.reply.muted, { until: null }, 'the welcome says the person is muted');
    expectError(await back.client.request({ type: 'say', text: 'nyt saan puhua' }), 'muted', { until: null });
    expectAck(await back.client.request({ type: 'say', text: 'miksi?', to: 'leaders' }), true);

    // The leaders see the mute too: in a snapshot, and they can lift it.
    const other = await fx.enterLeader(fx.leaders[1]);
    assert.equal(other.reply.members.find((m) => m.member === back.reply.member).muted, true);
    await fx.settle([leader, back.client]);
    const un = expectAck(await leader.request({ type: 'unmute', member: back.reply.member }), true);
    const ev = await back.client.next((m) => m.type === 'mute' && m.seq === un.seq);
    assert.deepEqual([ev.member, ev.muted], [back.reply.member, false]);
    expectAck(await back.client.request({ type: 'say', text: 'kiitos' }), true);

    // Unmuted is unmuted: the next return is free too.
    expectAck(await back.client.request({ type: 'leave' }));
    const again = await fx.enter('Aurinko', { key: Sol.key, label: 'Sol once more' });
    assert.equal(again.reply.muted, null);
    expectAck(await again.client.request({ type: 'say', text: 'hei taas' }), true);
});

test('a mute follows the person across a dropped connection and a new hello (not resume)', async () => {
    const fx = await sessionFixture({ participants: ['Sol'], keys: true });
    const { leader, p: { Sol } } = fx;
    expectAck(await leader.request({ type: 'mute', member: Sol.member }), true);
    await Sol.next('mute');
    Sol.terminate();
    await within(Sol.closed, 3000, 'Sol dropped');

    // Still detached in the room (resume_grace) while the same person says hello anew.
    const back = await fx.enter('Sol toinen', { key: Sol.key, label: 'Sol anew' });
    assert.deepEqual(back.reply.muted, { until: null });
    expectError(await back.client.request({ type: 'say', text: 'uusi yhteys' }), 'muted');
});

// [testing] minute_seconds = 2: a mute's minute is two seconds long.
test('a timed mute follows the person and keeps running: the rejoin sees the same until, then it ends', async () => {
    const fx = await sessionFixture({ participants: ['Sol'], keys: true, testing: { minute_seconds: 2 } });
    const { leader, p: { Sol } } = fx;
    expectAck(await leader.request({ type: 'mute', member: Sol.member, minutes: 2 }), true);
    const ev = await Sol.next('mute');
    expectAck(await Sol.request({ type: 'leave' }));

    const back = await fx.enter('Uusi nimi', { key: Sol.key, label: 'Sol back' });
    assert.deepEqual(back.reply.muted, { until: ev.until }, 'the timeout did not start again');
    expectError(await back.client.request({ type: 'say', text: 'x' }), 'muted', { until: ev.until });
    const end = await back.client.next((m) => m.type === 'mute' && m.muted === false, 10000);
    assert.deepEqual([end.member, end.by], [back.reply.member, null]);
    expectAck(await back.client.request({ type: 'say', text: 'taas äänessä' }), true);
});

test('slow mode follows the person: a post right after coming back waits out the interval', async () => {
    const fx = await sessionFixture({ participants: ['Sol'], keys: true });
    const { leader, p: { Sol } } = fx;
    expectAck(await leader.request({ type: 'slow', seconds: 30 }), true);
    expectAck(await Sol.request({ type: 'say', text: 'yksi' }), true);
    expectAck(await Sol.request({ type: 'leave' }));

    const back = await fx.enter('Sol uudestaan', { key: Sol.key });
    const err = expectError(await back.client.request({ type: 'say', text: 'kaksi' }), 'slow_mode');
    assert.ok(err.retry_after_ms > 0 && err.retry_after_ms <= 30000, `retry_after_ms ${err.retry_after_ms}`);
    const fresh = await fx.enter('Kim', { key: participantKey() });
    expectAck(await fresh.client.request({ type: 'say', text: 'minä en odota' }), true, 'another person is not slowed');
});

test('another participant key is another person: not muted (the evasion README §4a names)', async () => {
    const fx = await sessionFixture({ participants: ['Sol'], keys: true });
    const { leader, p: { Sol } } = fx;
    expectAck(await leader.request({ type: 'mute', member: Sol.member }), true);
    await Sol.next('mute');
    expectAck(await Sol.request({ type: 'leave' }));
    const newKey = await fx.enter('Sol', { key: participantKey(), label: 'a new key' });
    assert.equal(newKey.reply.muted, null);
    expectAck(await newKey.client.request({ type: 'say', text: 'uusi avain' }), true);
    const noKey = await fx.enter('Ei avainta', { key: false, label: 'no key' });
    assert.equal(noKey.reply.muted, null);
    expectAck(await noKey.client.request({ type: 'say', text: 'ei avainta' }), true);
});

// ---------------------------------------------------------------------------
// Ban

test('ban by participant key: 4403 "banned", the same key is refused banned, another key comes in', async () => {
    const fx = await sessionFixture({ participants: 0 });
    const { leader } = fx;
    const key = participantKey();
    const sol = await fx.enter('Sol', { key });
    const kim = await fx.enter('Kim', { key: participantKey() });
    await fx.settle([leader, sol.client, kim.client]);
    expectError(await kim.client.request({ type: 'ban', member: sol.client.member }), 'forbidden');
    expectError(await leader.request({ type: 'ban', member: leader.member }), 'forbidden');
    expectError(await leader.request({ type: 'ban', member: NO_SUCH_MEMBER }), 'not_found');
    await assertQuiet([leader, sol.client, kim.client], 'refused bans');

    const ack = expectAck(await leader.request({ type: 'ban', member: sol.client.member }), true);
    assert.ok(Number.isSafeInteger(ack.ban) && ack.ban >= 1, `the ack carries the ban id: ${JSON.stringify(ack)}`);
    for (const c of [leader, kim.client]) {
        const left = await c.next('presence');
        assert.deepEqual([left.member, left.state, left.reason, left.seq], [sol.client.member, 'left', 'removed', ack.seq]);
    }
    assert.deepEqual(await within(sol.client.closed, 3000, 'Sol closed'), { code: 4403, reason: 'banned' });
    const r = await resume(fx.server, { token: sol.client.token, epoch: sol.client.epoch, after_seq: 0, label: 'Sol resumes' });
    expectError(r.reply, 'resume_failed', { reason: 'expired' });

    const again = await fx.enter('Someone else', { key, expect: null });
    expectError(again.reply, 'banned');
    const fresh = await fx.enter('Sol', { key: participantKey(), label: 'Sol, new key' });
    assert.equal(fresh.reply.state, 'open', 'a ban is bound to the key, not the pseudonym');

    const rows = (await fx.audit()).filter((x) => x.action === 'ban');
    assert.deepEqual(rows.map((x) => [x.actor, x.target]), [[`leader:${fx.leaderName}`, `ban:${ack.ban}`]]);
});

test('ban by personal invite: the holder may not come back with it', async () => {
    const fx = await sessionFixture({ participants: 0 });
    const { leader } = fx;
    const personal = await createInvite(fx.cfg, fx.group, { personal: true });
    const pia = await fx.enter('Pia', { invite: personal, key: false });
    await fx.settle([leader, pia.client]);
    const ack = expectAck(await leader.request({ type: 'ban', member: pia.client.member }), true);
    assert.ok(Number.isSafeInteger(ack.ban), `a personal invite gives the ban something to bind to: ${JSON.stringify(ack)}`);
    assert.deepEqual(await within(pia.client.closed, 3000, 'Pia closed'), { code: 4403, reason: 'banned' });
    const again = await fx.enter('Pia', { invite: personal, key: participantKey(), expect: null });
    expectError(again.reply, 'banned');
});

test('ban with neither a personal invite nor a key: ack ban null, closed 4403, nothing stored', async () => {
    const fx = await sessionFixture({ participants: ['Sol'], keys: false });
    const { leader, p: { Sol } } = fx;
    const ack = expectAck(await leader.request({ type: 'ban', member: Sol.member }), true);
    assert.ok('ban' in ack, `the ack to ban always has ban: ${JSON.stringify(ack)}`);
    assert.equal(ack.ban, null);
    const closed = await within(Sol.closed, 3000, 'Sol closed');
    assert.equal(closed.code, 4403);
    // Nothing tells kamratd it is the same person: they are not refused.
    const back = await fx.enter('Sol', { label: 'Sol again', key: false });
    assert.equal(back.reply.type, 'welcome');
    const bans = await leader.request({ type: 'bans' });
    assert.deepEqual(bans.bans, [], 'nothing was stored');
});

test('bans lists the active bans newest first; unban lifts one; only leaders may ask', async () => {
    const fx = await sessionFixture({ participants: 0, leaders: 1 });
    const { leader } = fx;
    const keys = { Sol: participantKey(), Kim: participantKey() };
    const sol = await fx.enter('Sol', { key: keys.Sol });
    const kim = await fx.enter('Kim', { key: keys.Kim });
    const ilo = await fx.enter('Ilo', { key: participantKey() });
    await fx.settle([leader, sol.client, kim.client, ilo.client]);

    const empty = await leader.request({ type: 'bans' });
    assert.equal(empty.type, 'bans', JSON.stringify(empty));
    assert.deepEqual(empty.bans, []);
    expectError(await ilo.client.request({ type: 'bans' }), 'forbidden');

    const t0 = Date.now();
    const b1 = expectAck(await leader.request({ type: 'ban', member: sol.client.member }), true).ban;
    const b2 = expectAck(await leader.request({ type: 'ban', member: kim.client.member }), true).ban;
    assert.notEqual(b1, b2);
    const list = await leader.request({ type: 'bans', id: 'list-1' });
    assert.equal(list.ref, 'list-1');
    assert.deepEqual(list.bans.map((b) => [b.id, b.name, b.by]), [[b2, 'Kim', `leader:${fx.leaderName}`], [b1, 'Sol', `leader:${fx.leaderName}`]]);
    for (const b of list.bans) assert.ok(Math.abs(b.created_at - t0) < 60000, `created_at ${b.created_at} is in ms`);

    expectError(await ilo.client.request({ type: 'unban', ban: b1 }), 'forbidden');
    expectError(await leader.request({ type: 'unban', ban: 999999 }), 'not_found');
    expectError(await leader.request({ type: 'unban', ban: 0 }), 'bad_field', { field: 'ban' });
    expectError(await leader.request({ type: 'unban' }), 'missing_field', { field: 'ban' });
    expectAck(await leader.request({ type: 'unban', ban: b1 }));
    expectError(await leader.request({ type: 'unban', ban: b1 }), 'not_found', {});
    assert.deepEqual((await leader.request({ type: 'bans' })).bans.map((b) => b.id), [b2]);

    const back = await fx.enter('Sol', { key: keys.Sol, label: 'Sol unbanned' });
    assert.equal(back.reply.type, 'welcome', 'after unban the key may enter');
    expectError((await fx.enter('Kim', { key: keys.Kim, expect: null })).reply, 'banned');

    const rows = (await fx.audit()).filter((x) => x.action === 'unban');
    assert.deepEqual(rows.map((x) => x.target), [`ban:${b1}`]);
});

test('a ban is stored: after a kamratd restart the same key is still refused', async () => {
    const fx = await sessionFixture({ participants: 0 });
    const key = participantKey();
    const sol = await fx.enter('Sol', { key });
    await fx.settle([fx.leader, sol.client]);
    const ack = expectAck(await fx.leader.request({ type: 'ban', member: sol.client.member }), true);
    await fx.restart();
    expectError((await fx.enter('Sol', { key, expect: null })).reply, 'banned');
    const l = await fx.enterLeader();
    const bans = await l.client.request({ type: 'bans' });
    assert.deepEqual(bans.bans.map((b) => [b.id, b.name]), [[ack.ban, 'Sol']]);
    assert.equal((await fx.enter('Kim', { key: participantKey() })).reply.type, 'welcome');
});

// ---------------------------------------------------------------------------
// Delete

test('delete: a tombstone for everyone; a resume replays the message without its text', async () => {
    const fx = await sessionFixture({ participants: ['Sol', 'Kim', 'Ilo'] });
    const { leader, p: { Sol, Kim, Ilo } } = fx;
    const said = expectAck(await Sol.request({ type: 'say', text: 'tämä on liikaa' }), true);
    for (const c of [leader, Sol, Kim, Ilo]) assert.equal((await c.next('message')).seq, said.seq);

    // Ilo drops before the delete and resumes after it.
    Ilo.terminate();
    await leader.next((m) => m.type === 'alert' && m.kind === 'disconnected');
    const del = expectAck(await leader.request({ type: 'delete', seq: said.seq }), true);
    for (const c of [leader, Sol, Kim]) {
        const ev = await c.next('deleted');
        assert.deepEqual([ev.seq, ev.target, ev.by], [del.seq, said.seq, leader.member]);
    }
    const r = await resume(fx.server, { token: Ilo.token, epoch: Ilo.epoch, after_seq: said.seq - 1, label: 'Ilo back' });
    assert.equal(r.reply.type, 'welcome', JSON.stringify(r.reply));
    assert.equal(r.reply.gap, false);
    const tomb = await r.client.next((m) => m.type === 'message' && m.seq === said.seq);
    assert.equal(tomb.deleted, true);
    assert.ok(!('text' in tomb), `a tombstone has no text: ${JSON.stringify(tomb)}`);
    assert.equal(tomb.member, Sol.member);
    const ev = await r.client.next('deleted');
    assert.equal(ev.target, said.seq);
    assert.ok(!JSON.stringify(r.client.all()).includes('tämä on liikaa'));

    expectError(await leader.request({ type: 'delete', seq: said.seq + 1000 }), 'not_found');
    const rows = (await fx.audit()).filter((x) => x.action === 'delete');
    assert.deepEqual(rows.map((x) => x.target), [`seq:${said.seq}`]);
});

test("delete: a participant deletes its own message, not another's; a co-leader may delete any", async () => {
    const fx = await sessionFixture({ participants: ['Sol', 'Kim'] });
    const { leader, p: { Sol, Kim } } = fx;
    const mine = expectAck(await Sol.request({ type: 'say', text: 'oho, väärä ketju' }), true);
    const theirs = expectAck(await Kim.request({ type: 'say', text: 'Kimin viesti' }), true);
    await fx.settle();

    expectError(await Sol.request({ type: 'delete', seq: theirs.seq }), 'forbidden');
    await assertQuiet([leader, Sol, Kim], "a participant deleting another's message");
    const own = expectAck(await Sol.request({ type: 'delete', seq: mine.seq }), true);
    for (const c of [leader, Sol, Kim]) {
        const ev = await c.next('deleted');
        assert.deepEqual([ev.seq, ev.target, ev.by], [own.seq, mine.seq, Sol.member]);
    }
    expectError(await Sol.request({ type: 'delete', seq: 0 }), 'bad_field', { field: 'seq' });
    // A seq that is not a message (the presence of someone joining) is not found.
    expectError(await leader.request({ type: 'delete', seq: Kim.welcome.seq + 1 }), 'not_found');

    expectAck(await leader.request({ type: 'promote', member: Kim.member }), true);
    const byCo = expectAck(await Kim.request({ type: 'delete', seq: theirs.seq }), true);
    assert.ok(byCo.seq > own.seq);
    const mine2 = expectAck(await leader.request({ type: 'say', text: 'vetäjän viesti' }), true);
    expectError(await Sol.request({ type: 'delete', seq: mine2.seq }), 'forbidden');
});

// ---------------------------------------------------------------------------
// Pause, slow mode, topic

test('pause: participants get paused, leaders post, private messages go; unpause', async () => {
    const fx = await sessionFixture({ participants: ['Sol', 'Kim'] });
    const { leader, p: { Sol, Kim } } = fx;
    expectError(await Sol.request({ type: 'pause', on: true }), 'forbidden');
    await assertQuiet([leader, Sol, Kim], 'a participant pause');

    const ack = expectAck(await leader.request({ type: 'pause', on: true }), true);
    for (const c of [leader, Sol, Kim]) {
        const ev = await c.next('room');
        assert.deepEqual([ev.seq, ev.paused, ev.locked, ev.by], [ack.seq, true, false, leader.member]);
    }
    expectAck(await leader.request({ type: 'pause', on: true }), false);
    expectError(await Sol.request({ type: 'say', text: 'hei' }), 'paused');
    expectAck(await Sol.request({ type: 'say', text: 'tarvitsen apua', to: 'leaders' }), true);
    expectAck(await leader.request({ type: 'say', text: 'Pidetään tauko.' }), true);
    assert.equal((await fx.enter('Ilo')).reply.paused, true, 'the welcome shows the pause');

    const un = expectAck(await leader.request({ type: 'pause', on: false }), true);
    assert.equal((await Kim.next((m) => m.type === 'room' && m.seq === un.seq)).paused, false);
    expectAck(await Sol.request({ type: 'say', text: 'hei taas' }), true);
    const actions = (await fx.audit()).map((r) => r.action).filter((a) => a === 'pause' || a === 'unpause');
    assert.deepEqual(actions, ['pause', 'unpause']);
});

test('slow mode: slow_mode with retry_after_ms per participant; leaders are not slowed; 0 turns it off', async () => {
    const fx = await sessionFixture({ participants: ['Sol', 'Kim'] });
    const { leader, p: { Sol, Kim } } = fx;
    expectError(await Sol.request({ type: 'slow', seconds: 30 }), 'forbidden');
    expectError(await leader.request({ type: 'slow', seconds: 3601 }), 'bad_field', { field: 'seconds' });
    expectError(await leader.request({ type: 'slow' }), 'missing_field', { field: 'seconds' });
    await assertQuiet([leader, Sol, Kim], 'refused slow requests');

    const ack = expectAck(await leader.request({ type: 'slow', seconds: 30 }), true);
    const ev = await Sol.next('room');
    assert.deepEqual([ev.seq, ev.slow_mode, ev.by], [ack.seq, 30, leader.member]);
    expectAck(await leader.request({ type: 'slow', seconds: 30 }), false);

    expectAck(await Sol.request({ type: 'say', text: 'yksi' }), true);
    const err = expectError(await Sol.request({ type: 'say', text: 'kaksi' }), 'slow_mode');
    assert.ok(Number.isSafeInteger(err.retry_after_ms) && err.retry_after_ms > 25000 && err.retry_after_ms <= 30000,
        `retry_after_ms ${err.retry_after_ms}`);
    expectAck(await Sol.request({ type: 'say', text: 'vetäjille', to: 'leaders' }), true);
    expectAck(await Kim.request({ type: 'say', text: 'minun vuoroni' }), true, 'slow mode is per participant');
    expectAck(await leader.request({ type: 'say', text: 'vetäjä 1' }), true);
    expectAck(await leader.request({ type: 'say', text: 'vetäjä 2' }), true);
    assert.equal((await fx.enter('Ilo')).reply.slow_mode, 30);

    expectAck(await leader.request({ type: 'slow', seconds: 0 }), true);
    expectAck(await Sol.request({ type: 'say', text: 'kaksi' }), true);
    const rows = (await fx.audit()).filter((r) => r.action === 'slow_mode');
    assert.deepEqual(rows.map((r) => r.target), ['30', '0']);
});

test('topic: room event, in every welcome; "" clears it to null; the same topic changes nothing', async () => {
    const fx = await sessionFixture({ participants: ['Sol'] });
    const { leader, p: { Sol } } = fx;
    expectError(await Sol.request({ type: 'topic', text: 'minun aiheeni' }), 'forbidden');
    expectError(await leader.request({ type: 'topic', text: 'x'.repeat(501) }), 'text_too_long', { field: 'text' });
    expectError(await leader.request({ type: 'topic', text: 'a\u0001b' }), 'bad_field', { field: 'text' });
    await assertQuiet([leader, Sol], 'refused topics');

    const topic = 'Tänään: jaksaminen\narjessa';
    const ack = expectAck(await leader.request({ type: 'topic', text: topic }), true);
    for (const c of [leader, Sol]) {
        const ev = await c.next('room');
        assert.deepEqual([ev.seq, ev.topic, ev.by], [ack.seq, topic, leader.member]);
    }
    expectAck(await leader.request({ type: 'topic', text: topic }), false);
    assert.equal((await fx.enter('Kim')).reply.topic, topic);
    expectAck(await leader.request({ type: 'topic', text: 'ä'.repeat(500) }), true);
    const cleared = expectAck(await leader.request({ type: 'topic', text: '' }), true);
    assert.equal((await Sol.next((m) => m.type === 'room' && m.seq === cleared.seq)).topic, null);
    assert.equal((await fx.enter('Ilo')).reply.topic, null);
    const rows = (await fx.audit()).filter((r) => r.action === 'topic');
    assert.equal(rows.length, 3);
    assert.ok(!JSON.stringify(rows).includes('jaksaminen'), 'the topic text is not audited');
});

// ---------------------------------------------------------------------------
// Promote, demote, co-leaders

test('promote: role event; a co-leader moderates participants but may not promote, ban, end or open', async () => {
    const fx = await sessionFixture({ participants: ['Sol', 'Kim', 'Ilo'] });
    const { leader, p: { Sol, Kim, Ilo } } = fx;
    expectError(await Sol.request({ type: 'promote', member: Kim.member }), 'forbidden');
    expectError(await leader.request({ type: 'promote', member: NO_SUCH_MEMBER }), 'not_found');
    await assertQuiet([leader, Sol, Kim, Ilo], 'refused promotions');

    const ack = expectAck(await leader.request({ type: 'promote', member: Sol.member }), true);
    for (const c of [leader, Sol, Kim, Ilo]) {
        const ev = await c.next('role');
        assert.deepEqual([ev.member, ev.role, ev.by], [Sol.member, 'co_leader', leader.member]);
        // The ack names the role event, or an event for the leaders right after it (kamratd
        // sends the new co-leader the lobby).
        assert.ok(ev.seq <= ack.seq, `role seq ${ev.seq}, ack seq ${ack.seq}`);
    }
    await fx.settle();
    expectAck(await leader.request({ type: 'promote', member: Sol.member }), false);
    await assertQuiet([leader, Sol, Kim, Ilo], 'promoting a co-leader');

    // What a co-leader may do.
    const muted = expectAck(await Sol.request({ type: 'mute', member: Kim.member }), true);
    assert.equal((await Kim.next('mute')).by, Sol.member);
    assert.equal((await leader.next('mute')).seq, muted.seq);
    assert.equal((await Sol.next('mute')).seq, muted.seq, 'a co-leader is one of the leaders');
    expectAck(await Sol.request({ type: 'lock', on: true }), true);
    const vesa = await fx.enter('Vesa');
    assert.equal(vesa.reply.state, 'lobby');
    await Sol.next((m) => m.type === 'lobby' && m.waiting.some((w) => w.member === vesa.client.member));
    expectAck(await Sol.request({ type: 'admit', member: vesa.client.member }), true);
    assert.equal((await vesa.client.next('welcome')).state, 'open');
    expectAck(await Sol.request({ type: 'slow', seconds: 5 }), true);
    expectAck(await Sol.request({ type: 'topic', text: 'co-leader topic' }), true);
    expectAck(await Sol.request({ type: 'say', text: 'vertaisohjaaja puhuu' }), true);
    expectAck(await Sol.request({ type: 'say', text: 'and again, not slowed' }), true);

    // What only a leader may do.
    for (const req of [
        { type: 'promote', member: Ilo.member },
        { type: 'demote', member: Sol.member },
        { type: 'ban', member: Ilo.member },
        { type: 'unban', ban: 1 },
        { type: 'bans' },
        { type: 'open' },
        { type: 'end' },
    ]) {
        expectError(await Sol.request(req), 'forbidden');
    }
    // Moderation targets must be participants.
    expectError(await Sol.request({ type: 'mute', member: leader.member }), 'forbidden');
    expectError(await Sol.request({ type: 'remove', member: leader.member }), 'forbidden');
    expectAck(await leader.request({ type: 'promote', member: Ilo.member }), true);
    expectError(await Sol.request({ type: 'mute', member: Ilo.member }), 'forbidden', {});
    expectError(await leader.request({ type: 'remove', member: Ilo.member }), 'forbidden', {});

    const rows = (await fx.audit()).filter((r) => r.actor === `co_leader:m${Sol.member}`);
    assert.deepEqual(rows.map((r) => r.action), ['mute', 'lock', 'admit', 'slow_mode', 'topic']);
});

test('moderation targets must be participants: every action on a leader is forbidden and changes nothing', async () => {
    const fx = await sessionFixture({ participants: ['Sol'], leaders: 2 });
    const { leader, p: { Sol } } = fx;
    const other = await fx.enterLeader(fx.leaders[1]);
    await fx.settle([leader, other.client, Sol]);
    const target = other.client.member;
    const refused = [];
    for (const type of ['mute', 'unmute', 'remove', 'ban', 'to_lobby', 'promote', 'demote']) {
        const r = await leader.request({ type, member: target });
        if (r.type !== 'error' || r.code !== 'forbidden') refused.push(`${type}: ${JSON.stringify(r)}`);
    }
    assert.deepEqual(refused, [], 'answers that were not forbidden');
    await assertQuiet([leader, other.client, Sol], 'actions on a leader');
    assert.equal(other.client.isClosed, false);
});

test('demote: role participant again, with participant rights; a co-leader sees leader events until then', async () => {
    const fx = await sessionFixture({ participants: ['Sol', 'Kim'] });
    const { leader, p: { Sol, Kim } } = fx;
    expectAck(await leader.request({ type: 'promote', member: Sol.member }), true);
    await fx.settle();
    const pm = expectAck(await Kim.request({ type: 'say', text: 'vain vetäjille', to: 'leaders' }), true);
    assert.equal((await Sol.next('message')).seq, pm.seq, 'a co-leader gets private messages to the leaders');
    assert.equal((await leader.next('message')).seq, pm.seq);
    await Kim.next('message');

    expectError(await Kim.request({ type: 'demote', member: Sol.member }), 'forbidden');
    const ack = expectAck(await leader.request({ type: 'demote', member: Sol.member }), true);
    for (const c of [leader, Sol, Kim]) {
        const ev = await c.next('role');
        assert.deepEqual([ev.seq, ev.member, ev.role, ev.by], [ack.seq, Sol.member, 'participant', leader.member]);
    }
    expectAck(await leader.request({ type: 'demote', member: Sol.member }), false);
    expectError(await Sol.request({ type: 'lock', on: true }), 'forbidden');
    const pm2 = expectAck(await Kim.request({ type: 'say', text: 'taas vetäjille', to: 'leaders' }), true);
    await leader.next('message');
    await fence(Sol);
    assert.ok(!Sol.all().some((m) => m.type === 'message' && m.seq === pm2.seq), 'a demoted member no longer gets the leaders\u2019 messages');
    const rows = (await fx.audit()).filter((r) => r.action === 'promote' || r.action === 'demote');
    assert.deepEqual(rows.map((r) => [r.action, r.target]), [['promote', `member:${Sol.member}`], ['demote', `member:${Sol.member}`]]);
});

// ---------------------------------------------------------------------------
// End

test('end: state ended to everyone (the lobby too), close 4410; only a leader may end', async () => {
    const fx = await sessionFixture({ participants: ['Sol', 'Kim'] });
    const { leader, p: { Sol, Kim } } = fx;
    expectAck(await leader.request({ type: 'lock', on: true }), true);
    const waiting = await fx.enter('Ilo');
    expectAck(await leader.request({ type: 'promote', member: Kim.member }), true);
    await fx.settle([leader, Sol, Kim, waiting.client]);
    expectError(await Sol.request({ type: 'end' }), 'forbidden');
    expectError(await Kim.request({ type: 'end' }), 'forbidden');
    expectError(await leader.request({ type: 'end', now: true }), 'unknown_field', { field: 'now' });
    await assertQuiet([leader, Sol, Kim, waiting.client], 'refused ends');

    const ack = expectAck(await leader.request({ type: 'end' }), true);
    for (const c of [leader, Sol, Kim, waiting.client]) {
        const st = await c.next('state');
        assert.deepEqual([st.state, st.seq], ['ended', ack.seq]);
        assert.equal((await within(c.closed, 3000, `${c.label} closed`)).code, 4410);
    }
    const rows = (await fx.audit()).filter((r) => r.action === 'session_end');
    assert.deepEqual(rows.map((r) => [r.actor, r.session_id]), [[`leader:${fx.leaderName}`, fx.session]]);
});

test('after end the session is over: neither a participant nor a leader can enter it again', async () => {
    const fx = await sessionFixture({ participants: ['Sol'] });
    expectAck(await fx.leader.request({ type: 'end' }), true);
    await within(fx.p.Sol.closed, 3000, 'Sol closed');
    expectError((await fx.enter('Sol', { expect: null, label: 'Sol after end' })).reply, 'no_session');
    const l = await fx.login();
    expectError((await enter(fx.server, { token: l, session: fx.session }, { label: 'leader after end' })).reply, 'no_session');
});

// ---------------------------------------------------------------------------
// Audit

test('audit: exactly one row per change (none for no-ops or participant tools), without names or text', async () => {
    const fx = await sessionFixture({ participants: ['Sol', 'Kim', 'Ilo'], keys: true });
    const { leader, p: { Sol, Kim, Ilo } } = fx;
    const before = (await fx.audit()).length;
    const topicText = 'AIHE-KANARIA jaksaminen';
    const msg = expectAck(await Sol.request({ type: 'say', text: 'VIESTI-KANARIA' }), true);
    // Refused requests write nothing.
    for (const req of [{ type: 'lock', on: true }, { type: 'mute', member: Sol.member }, { type: 'remove', member: Sol.member },
        { type: 'delete', seq: msg.seq }, { type: 'topic', text: 'x' }, { type: 'end' }]) {
        expectError(await Kim.request(req), 'forbidden');
    }
    expectError(await leader.request({ type: 'mute', member: 4000000000 }), 'not_found');
    // Participant tools are not audited.
    expectAck(await Sol.request({ type: 'hand', up: true }), true);
    expectAck(await Sol.request({ type: 'not_ok' }));
    expectAck(await Kim.request({ type: 'report', seq: msg.seq }));
    const steps = [
        { type: 'lock', on: true }, { type: 'lock', on: true }, { type: 'lock', on: false },
        { type: 'pause', on: true }, { type: 'pause', on: false }, { type: 'pause', on: false },
        { type: 'slow', seconds: 10 }, { type: 'slow', seconds: 10 }, { type: 'slow', seconds: 0 },
        { type: 'topic', text: topicText }, { type: 'topic', text: topicText },
        { type: 'mute', member: Kim.member }, { type: 'unmute', member: Kim.member }, { type: 'unmute', member: Kim.member },
        { type: 'promote', member: Ilo.member }, { type: 'demote', member: Ilo.member },
        { type: 'round_start', kind: 'check_in' }, { type: 'round_skip' },
        { type: 'round_order', order: [Ilo.member] }, { type: 'round_end' },
        { type: 'delete', seq: msg.seq },
        { type: 'to_lobby', member: Kim.member }, { type: 'admit', member: Kim.member },
    ];
    for (const req of steps) expectAck(await leader.request(req));
    const banned = expectAck(await leader.request({ type: 'ban', member: Sol.member }), true);
    expectAck(await leader.request({ type: 'unban', ban: banned.ban }));
    expectAck(await leader.request({ type: 'remove', member: Ilo.member }), true);
    expectAck(await leader.request({ type: 'end' }), true);

    const rows = (await fx.audit()).slice(before);
    assert.deepEqual(rows.map((r) => r.action), [
        'lock', 'unlock', 'pause', 'unpause', 'slow_mode', 'slow_mode', 'topic',
        'mute', 'unmute', 'promote', 'demote', 'round_start', 'round_skip', 'round_order', 'round_end',
        'delete', 'to_lobby', 'admit', 'ban', 'unban', 'remove', 'session_end',
    ], 'one row per change, in order, none for no-ops or participant tools');
    const target = (action) => rows.filter((r) => r.action === action).map((r) => r.target);
    const m = (c) => `member:${c.member}`;
    assert.deepEqual(target('slow_mode'), ['10', '0']);
    assert.deepEqual(target('mute'), [m(Kim)]);
    assert.deepEqual(target('unmute'), [m(Kim)]);
    assert.deepEqual(target('promote'), [m(Ilo)]);
    assert.deepEqual(target('demote'), [m(Ilo)]);
    assert.deepEqual(target('delete'), [`seq:${msg.seq}`]);
    assert.deepEqual(target('to_lobby'), [m(Kim)]);
    assert.deepEqual(target('admit'), [m(Kim)]);
    assert.deepEqual(target('ban'), [`ban:${banned.ban}`]);
    assert.deepEqual(target('unban'), [`ban:${banned.ban}`]);
    assert.deepEqual(target('remove'), [m(Ilo)]);
    for (const r of rows) {
        assert.equal(r.actor, `leader:${fx.leaderName}`);
        assert.equal(r.group, fx.group);
        assert.equal(r.session_id, fx.session);
    }
    const text = JSON.stringify(rows);
    for (const secret of ['Sol', 'Kim', 'Ilo', 'KANARIA', 'jaksaminen']) {
        assert.ok(!text.includes(secret), `the audit log holds "${secret}": ${text}`);
    }
});
