// Rounds (protocol/README.md §4a "Rounds"): a check-in, check-out or plain round
// gives each participant a turn. round_start (default and explicit order,
// exclusive or not), round_pass/round_done by the speaker or a leader for them,
// round_skip, round_order, round_end, the automatic end after the last speaker,
// members leaving, not_your_turn and wrong_state, against the real kamratd.

import assert from 'node:assert/strict';
import { assertQuiet, expectAck, expectError, sessionFixture, test, within } from './lib/harness.mjs';

const NO_SUCH_MEMBER = 4000000000;

/** The round event with seq (or the next one) on client; returns its `round`. */
async function roundEvent(client, seq) {
    const ev = await client.next((m) => m.type === 'round' && (seq === undefined || m.seq === seq));
    assert.ok(Number.isSafeInteger(ev.ts), JSON.stringify(ev));
    return ev.round;
}

const ids = (...clients) => clients.map((c) => c.member);

test('round_start with the default order: every admitted participant by member id, exclusive', async () => {
    const fx = await sessionFixture({ participants: ['Sol', 'Kim', 'Ilo'] });
    const { leader, p: { Sol, Kim, Ilo } } = fx;
    expectError(await Sol.request({ type: 'round_start', kind: 'check_in' }), 'forbidden');
    await assertQuiet([leader, Sol, Kim, Ilo], 'a participant round_start');

    const ack = expectAck(await leader.request({ type: 'round_start', kind: 'check_in' }), true);
    const sorted = [Sol, Kim, Ilo].sort((a, b) => a.member - b.member);
    for (const c of [leader, Sol, Kim, Ilo]) {
        assert.deepEqual(await roundEvent(c, ack.seq), {
            kind: 'check_in',
            speaker: sorted[0].member,
            queue: ids(sorted[1], sorted[2]),
            done: [],
            passed: [],
            exclusive: true,
        });
    }
    const [speaker, other] = sorted;
    expectError(await other.request({ type: 'say', text: 'saanko minäkin?' }), 'not_your_turn');
    expectAck(await speaker.request({ type: 'say', text: 'Minulle kuuluu hyvää' }), true);
    expectAck(await leader.request({ type: 'say', text: 'Kiitos!' }), true);
    expectAck(await other.request({ type: 'say', text: 'vain vetäjille', to: 'leaders' }), true, 'private messages always go');

    // The round is in every snapshot.
    const late = await fx.enter('Vesa');
    assert.equal(late.reply.round.speaker, sorted[0].member);
    assert.equal(late.reply.round.kind, 'check_in');
    assert.deepEqual(late.reply.round.queue, ids(sorted[1], sorted[2]), 'a newcomer is not added to a running round');
    expectError(await late.client.request({ type: 'say', text: 'hei' }), 'not_your_turn');
});

test('an explicit order; round_done and round_pass move on; the round ends by itself after the last', async () => {
    const fx = await sessionFixture({ participants: ['Sol', 'Kim', 'Ilo'] });
    const { leader, p: { Sol, Kim, Ilo } } = fx;
    const ack = expectAck(await leader.request({ type: 'round_start', kind: 'check_out', order: [Ilo.member, Sol.member] }), true);
    assert.deepEqual(await roundEvent(Kim, ack.seq),
        { kind: 'check_out', speaker: Ilo.member, queue: [Sol.member], done: [], passed: [], exclusive: true });
    await fx.settle();

    expectError(await Kim.request({ type: 'say', text: 'en ole vuorossa' }), 'not_your_turn');
    expectError(await Sol.request({ type: 'round_done' }), 'not_your_turn');
    expectError(await Kim.request({ type: 'round_pass' }), 'not_your_turn');
    await assertQuiet([leader, Sol, Kim, Ilo], 'round actions by members not speaking');

    const done = expectAck(await Ilo.request({ type: 'round_done' }), true);
    for (const c of [leader, Sol, Kim, Ilo]) {
        assert.deepEqual(await roundEvent(c, done.seq),
            { kind: 'check_out', speaker: Sol.member, queue: [], done: [Ilo.member], passed: [], exclusive: true });
    }
    expectError(await Ilo.request({ type: 'say', text: 'vielä yksi asia' }), 'not_your_turn');
    expectAck(await Sol.request({ type: 'round_pass' }), true);
    for (const c of [leader, Sol, Kim, Ilo]) {
        const ended = await c.next((m) => m.type === 'round' && m.round === null);
        assert.ok(ended.seq > done.seq);
    }
    expectAck(await Kim.request({ type: 'say', text: 'nyt saa puhua' }), true);
    expectError(await Sol.request({ type: 'round_pass' }), 'wrong_state');
    assert.equal((await fx.enter('Vesa')).reply.round, null);
});

test('round_skip by a leader; a leader may pass or finish for the speaker; participants may not skip', async () => {
    const fx = await sessionFixture({ participants: ['Sol', 'Kim', 'Ilo', 'Vesa'] });
    const { leader, p: { Sol, Kim, Ilo, Vesa } } = fx;
    const order = ids(Sol, Kim, Ilo, Vesa);
    expectAck(await leader.request({ type: 'round_start', kind: 'round', order }), true);
    await fx.settle();

    expectError(await Kim.request({ type: 'round_skip' }), 'forbidden');
    expectError(await Sol.request({ type: 'round_skip' }), 'forbidden', {});
    await assertQuiet([leader, Sol, Kim, Ilo, Vesa], 'participants trying round_skip');

    const skip = expectAck(await leader.request({ type: 'round_skip' }), true);
    let r = await roundEvent(Ilo, skip.seq);
    assert.deepEqual([r.speaker, r.queue, r.done, r.passed], [Kim.member, ids(Ilo, Vesa), [], [Sol.member]]);
    const forDone = expectAck(await leader.request({ type: 'round_done' }), true);
    r = await roundEvent(Ilo, forDone.seq);
    assert.deepEqual([r.speaker, r.queue, r.done, r.passed], [Ilo.member, [Vesa.member], [Kim.member], [Sol.member]]);
    const forPass = expectAck(await leader.request({ type: 'round_pass' }), true);
    r = await roundEvent(Vesa, forPass.seq);
    assert.deepEqual([r.speaker, r.queue, r.done, r.passed], [Vesa.member, [], [Kim.member], [Sol.member, Ilo.member]]);
    const rows = (await fx.audit()).filter((x) => x.action.startsWith('round_'));
    assert.deepEqual(rows.map((x) => x.action), ['round_start', 'round_skip'],
        'round_skip is audited; round_done/round_pass (even by a leader) are not in the list of actions');

    expectAck(await leader.request({ type: 'round_skip' }), true);
    await Vesa.next((m) => m.type === 'round' && m.round === null);
    expectError(await leader.request({ type: 'round_skip' }), 'wrong_state');
});

test('round_order replaces those still to speak; it may not name the speaker or someone not admitted', async () => {
    const fx = await sessionFixture({ participants: ['Sol', 'Kim', 'Ilo'] });
    const { leader, p: { Sol, Kim, Ilo } } = fx;
    expectAck(await leader.request({ type: 'lock', on: true }), true);
    const waiting = await fx.enter('Vesa');
    assert.equal(waiting.reply.state, 'lobby');
    expectAck(await leader.request({ type: 'round_start', kind: 'round', order: ids(Sol, Kim, Ilo) }), true);
    await fx.settle();

    expectError(await Kim.request({ type: 'round_order', order: ids(Ilo, Kim) }), 'forbidden');
    expectError(await leader.request({ type: 'round_order', order: ids(Sol, Kim) }), 'not_found', {});
    expectError(await leader.request({ type: 'round_order', order: [NO_SUCH_MEMBER] }), 'not_found');
    expectError(await leader.request({ type: 'round_order', order: [waiting.client.member] }), 'not_found');
    expectError(await leader.request({ type: 'round_order', order: [] }), 'bad_field', { field: 'order' });
    expectError(await leader.request({ type: 'round_order', order: [Kim.member, Kim.member] }), 'bad_field', { field: 'order' });
    expectError(await leader.request({ type: 'round_order', order: [Kim.member, 'x'] }), 'bad_field', { field: 'order' });
    expectError(await leader.request({ type: 'round_order' }), 'missing_field', { field: 'order' });
    await assertQuiet([leader, Sol, Kim, Ilo], 'refused round_order requests');

    const re = expectAck(await leader.request({ type: 'round_order', order: ids(Ilo, Kim) }), true);
    let r = await roundEvent(Sol, re.seq);
    assert.deepEqual([r.speaker, r.queue], [Sol.member, ids(Ilo, Kim)]);
    const cut = expectAck(await leader.request({ type: 'round_order', order: [Ilo.member] }), true);
    r = await roundEvent(Sol, cut.seq);
    assert.deepEqual([r.speaker, r.queue], [Sol.member, [Ilo.member]]);
    expectAck(await Sol.request({ type: 'round_done' }), true);
    expectAck(await Ilo.request({ type: 'round_done' }), true);
    const ended = await Kim.next((m) => m.type === 'round' && m.round === null);
    assert.ok(ended.seq > cut.seq, 'Kim was taken out of the order, so the round ends after Ilo');
});

test('round_end; round actions without a round are wrong_state, and so is a second round_start', async () => {
    const fx = await sessionFixture({ participants: ['Sol', 'Kim'] });
    const { leader, p: { Sol, Kim } } = fx;
    for (const type of ['round_pass', 'round_done', 'round_skip', 'round_end']) {
        expectError(await leader.request({ type }), 'wrong_state');
    }
    expectError(await leader.request({ type: 'round_order', order: [Kim.member] }), 'wrong_state');
    expectError(await leader.request({ type: 'round_start', kind: 'round', order: [NO_SUCH_MEMBER] }), 'not_found');
    await assertQuiet([leader, Sol, Kim], 'round actions with no round');

    expectAck(await leader.request({ type: 'round_start', kind: 'round' }), true);
    expectError(await leader.request({ type: 'round_start', kind: 'check_out' }), 'wrong_state');
    expectError(await Kim.request({ type: 'round_end' }), 'forbidden');
    await fx.settle();
    const end = expectAck(await leader.request({ type: 'round_end' }), true);
    for (const c of [leader, Sol, Kim]) {
        const ev = await c.next('round');
        assert.deepEqual([ev.seq, ev.round], [end.seq, null]);
    }
    expectError(await leader.request({ type: 'round_end' }), 'wrong_state');
    expectAck(await Kim.request({ type: 'say', text: 'vapaata puhetta' }), true);
    const rows = (await fx.audit()).filter((x) => x.action.startsWith('round_'));
    assert.deepEqual(rows.map((x) => x.action), ['round_start', 'round_end']);
});

test('a non-exclusive round lets everyone post', async () => {
    const fx = await sessionFixture({ participants: ['Sol', 'Kim'] });
    const { leader, p: { Sol, Kim } } = fx;
    const ack = expectAck(await leader.request({ type: 'round_start', kind: 'round', order: ids(Sol, Kim), exclusive: false }), true);
    const r = await roundEvent(Kim, ack.seq);
    assert.equal(r.exclusive, false);
    expectAck(await Kim.request({ type: 'say', text: 'kommentti väliin' }), true);
    expectAck(await Sol.request({ type: 'say', text: 'puheenvuoroni' }), true);
    expectError(await Kim.request({ type: 'round_done' }), 'not_your_turn', {});
});

test('members who leave are taken out of the order; a speaker who leaves counts as passed', async () => {
    const fx = await sessionFixture({ participants: ['Sol', 'Kim', 'Ilo'] });
    const { leader, p: { Sol, Kim, Ilo } } = fx;
    expectAck(await leader.request({ type: 'round_start', kind: 'check_in', order: ids(Sol, Kim, Ilo) }), true);
    await fx.settle();

    expectAck(await Kim.request({ type: 'leave' }), true);
    assert.equal((await within(Kim.closed, 3000, 'Kim closed')).code, 1000);
    let r = (await leader.next('round')).round;
    assert.deepEqual([r.speaker, r.queue, r.passed], [Sol.member, [Ilo.member], []]);

    expectAck(await Sol.request({ type: 'leave' }), true);
    r = (await leader.next((m) => m.type === 'round' && m.round?.speaker === Ilo.member)).round;
    assert.deepEqual([r.speaker, r.queue, r.done, r.passed], [Ilo.member, [], [], [Sol.member]]);
    const seen = (await Ilo.next((m) => m.type === 'round' && m.round?.speaker === Ilo.member)).round;
    assert.deepEqual(seen, r);
    expectAck(await Ilo.request({ type: 'say', text: 'minun vuoroni' }), true);
});

test('which error a post gets in an exclusive round: muted and paused first, then not_your_turn, then slow_mode', async () => {
    const fx = await sessionFixture({ participants: ['Sol', 'Kim'] });
    const { leader, p: { Sol, Kim } } = fx;
    expectAck(await Kim.request({ type: 'say', text: 'ennen hidastusta' }), true);
    expectAck(await leader.request({ type: 'slow', seconds: 600 }), true);
    expectAck(await leader.request({ type: 'round_start', kind: 'round', order: [Sol.member] }), true);
    expectError(await Kim.request({ type: 'say', text: 'x' }), 'not_your_turn');
    expectAck(await leader.request({ type: 'pause', on: true }), true);
    expectError(await Kim.request({ type: 'say', text: 'x' }), 'paused');
    expectAck(await leader.request({ type: 'mute', member: Kim.member }), true);
    expectError(await Kim.request({ type: 'say', text: 'x' }), 'muted');
    expectAck(await leader.request({ type: 'pause', on: false }), true);
    expectAck(await leader.request({ type: 'unmute', member: Kim.member }), true);
    expectAck(await leader.request({ type: 'round_end' }), true);
    expectError(await Kim.request({ type: 'say', text: 'x' }), 'slow_mode');
});

test('round requests check their fields', async () => {
    const fx = await sessionFixture({ participants: ['Sol', 'Kim'] });
    const { leader, p: { Sol, Kim } } = fx;
    expectError(await leader.request({ type: 'round_start' }), 'missing_field', { field: 'kind' });
    expectError(await leader.request({ type: 'round_start', kind: 'talk' }), 'bad_field', { field: 'kind' });
    expectError(await leader.request({ type: 'round_start', kind: 'round', order: [] }), 'bad_field', { field: 'order' });
    expectError(await leader.request({ type: 'round_start', kind: 'round', order: [Sol.member, Sol.member] }), 'bad_field', { field: 'order' });
    expectError(await leader.request({ type: 'round_start', kind: 'round', order: [0] }), 'bad_field', { field: 'order' });
    expectError(await leader.request({ type: 'round_start', kind: 'round', order: Sol.member }), 'bad_field', { field: 'order' });
    expectError(await leader.request({ type: 'round_start', kind: 'round', exclusive: 'yes' }), 'bad_field', { field: 'exclusive' });
    expectError(await leader.request({ type: 'round_start', kind: 'round', order: Array.from({ length: 501 }, (_, i) => i + 1) }),
        'bad_field', { field: 'order' });
    expectError(await leader.request({ type: 'round_pass', member: Sol.member }), 'unknown_field', { field: 'member' });
    expectError(await leader.request({ type: 'round_end', all: true }), 'unknown_field', { field: 'all' });
    await assertQuiet([leader, Sol, Kim], 'malformed round requests');
});

test('a co-leader may run a round', async () => {
    const fx = await sessionFixture({ participants: ['Sol', 'Kim', 'Ilo'] });
    const { leader, p: { Sol, Kim, Ilo } } = fx;
    expectAck(await leader.request({ type: 'promote', member: Sol.member }), true);
    const ack = expectAck(await Sol.request({ type: 'round_start', kind: 'check_in', order: ids(Kim, Ilo) }), true);
    assert.equal((await roundEvent(Ilo, ack.seq)).speaker, Kim.member);
    expectAck(await Sol.request({ type: 'say', text: 'vertaisohjaaja saa puhua' }), true);
    expectAck(await Sol.request({ type: 'round_skip' }), true);
    expectAck(await Sol.request({ type: 'round_end' }), true);
    const rows = (await fx.audit()).filter((x) => x.action.startsWith('round_'));
    assert.deepEqual(rows.map((x) => [x.action, x.actor]), [
        ['round_start', `co_leader:m${Sol.member}`], ['round_skip', `co_leader:m${Sol.member}`], ['round_end', `co_leader:m${Sol.member}`],
    ]);
});
