// Leadership is live (protocol/README.md §4a "Roles", §7 4401, §11): when the
// store says someone no longer leads a group (taken off the group, account
// disabled, a new password, account removed), every seat they hold in that group's rooms ends at
// once: the socket closes with 4401, the resume token stops working, the room
// goes read-only unless another leader is there; a disabled account or a new
// password ends every login of the leader too, while one taken off a group keeps
// the login for the groups they still lead. kamratctl makes each change from its
// own process, as an admin does.

import assert from 'node:assert/strict';
import {
    enter,
    expectAck,
    expectError,
    fence,
    httpRequest,
    leaderLogin,
    resume,
    sessionFixture,
    test,
} from './lib/harness.mjs';

const CUT_MS = 4000; // kamratd looks at the store every second
const NEW_PASSWORD = 'a brand new passphrase';

/** GET /api/sessions with token: {status, ids}. */
async function sessionsOf(server, token) {
    const r = await httpRequest(server, { path: '/api/sessions', headers: { Authorization: `Bearer ${token}` } });
    return { status: r.status, ids: r.status === 200 ? JSON.parse(r.body).sessions.map((s) => s.id) : null };
}

/** The participant sees the leader leave, and the room turn read-only. */
async function leaderGone(participant, leader) {
    await participant.next((m) => m.type === 'presence' && m.state === 'left' && m.member === leader.member, CUT_MS);
    const room = await participant.next('room', CUT_MS);
    assert.equal(room.read_only, true, 'no leader: the room is read-only');
    expectError(await participant.request({ type: 'say', text: 'onko ketään?' }), 'read_only');
}

const TRIGGERS = [
    {
        what: 'taken off the group',
        args: (fx) => ['group', 'leader', 'remove', fx.group, fx.leaderName],
        hello: 'forbidden', // the login stays: the leader may lead other groups
        sessions: 200,
    },
    {
        what: 'disabled',
        args: (fx) => ['leader', 'disable', fx.leaderName],
        hello: 'token_invalid',
        sessions: 401,
    },
    {
        what: 'given a new password',
        args: (fx) => ['leader', 'passwd', fx.leaderName, '--password-stdin'],
        input: `${NEW_PASSWORD}\n`,
        hello: 'token_invalid',
        sessions: 401,
    },
    {
        what: 'whose account was removed',
        args: (fx) => ['leader', 'remove', fx.leaderName, '--yes'],
        hello: 'token_invalid',
        sessions: 401,
    },
];

for (const t of TRIGGERS) {
    test(`a leader ${t.what} loses the seat at once: 4401, no resume, no moderation, the room read-only`, async () => {
        const fx = await sessionFixture({ participants: ['Sol'] });
        const { leader, p: { Sol } } = fx;
        const seen = expectAck(await leader.request({ type: 'say', text: 'tervetuloa' }), true).seq;
        await fx.settle();

        await fx.ctl(t.args(fx), t.input);
        assert.equal((await leader.expectClose(CUT_MS)).code, 4401);
        await leaderGone(Sol, leader);

        const back = await resume(fx.server, { token: leader.token, epoch: leader.epoch, after_seq: seen, label: 'leader back' });
        expectError(back.reply, 'resume_failed');
        expectError(await back.client.request({ type: 'mute', member: Sol.member }), 'not_joined');

        const again = await enter(fx.server, { token: fx.token, session: fx.session }, { label: 'leader again' });
        expectError(again.reply, t.hello);
        const listed = await sessionsOf(fx.server, fx.token);
        assert.equal(listed.status, t.sessions);
        if (listed.status === 200) assert.ok(!listed.ids.includes(fx.session), `${listed.ids} lists the group's session`);
    });
}

test('a leader whose connection dropped cannot resume once taken off the group', async () => {
    const fx = await sessionFixture({ participants: ['Sol'] });
    const { leader, p: { Sol } } = fx;
    leader.terminate();
    assert.equal((await Sol.next('room', CUT_MS)).read_only, true);

    await fx.ctl(['group', 'leader', 'remove', fx.group, fx.leaderName]);
    await Sol.next((m) => m.type === 'presence' && m.state === 'left' && m.member === leader.member, CUT_MS);
    const back = await resume(fx.server, { token: leader.token, epoch: leader.epoch, after_seq: 0, label: 'leader back' });
    expectError(back.reply, 'resume_failed');
});

test('another leader keeps the room going when one is taken off the group', async () => {
    const fx = await sessionFixture({ participants: ['Sol'], leaders: 2 });
    const { leader, p: { Sol } } = fx;
    const second = await fx.enterLeader(fx.leaders[1]);
    await fx.settle([leader, Sol, second.client]);

    await fx.ctl(['group', 'leader', 'remove', fx.group, fx.leaderName]);
    assert.equal((await leader.expectClose(CUT_MS)).code, 4401);
    for (const c of [Sol, second.client]) {
        await c.next((m) => m.type === 'presence' && m.state === 'left' && m.member === leader.member, CUT_MS);
    }
    expectAck(await Sol.request({ type: 'say', text: 'jatketaan' }), true);
    assert.ok(!Sol.all().some((m) => m.type === 'room' && m.read_only), 'the room never went read-only');
    expectAck(await second.client.request({ type: 'mute', member: Sol.member }));
});

test('a new password ends every login: the old token is refused, also at logout; the new one works', async () => {
    const fx = await sessionFixture({ participants: ['Sol'] });
    const { leader, p: { Sol } } = fx;
    const other = await fx.login(); // a second device
    await fx.ctl(['leader', 'passwd', fx.leaderName, '--password-stdin'], `${NEW_PASSWORD}\n`);
    assert.equal((await leader.expectClose(CUT_MS)).code, 4401);
    for (const token of [fx.token, other]) {
        assert.equal((await sessionsOf(fx.server, token)).status, 401);
        const again = await enter(fx.server, { token, session: fx.session }, { label: 'old login' });
        expectError(again.reply, 'token_invalid');
    }
    await assert.rejects(leaderLogin(fx.server, fx.leaderName), /401/, 'the old password is refused');

    const token = await leaderLogin(fx.server, fx.leaderName, NEW_PASSWORD);
    const back = await enter(fx.server, { token, session: fx.session }, { label: 'leader, new login' });
    assert.equal(back.reply.role, 'leader');
    await Sol.next((m) => m.type === 'room' && m.read_only === false, CUT_MS);
    // Whoever kept an old token cannot log the leader out of the room with it.
    const out = await httpRequest(fx.server, {
        method: 'POST',
        path: '/api/logout',
        headers: { Authorization: `Bearer ${other}`, Origin: fx.server.origin },
    });
    assert.equal(out.status, 204);
    await fence(back.client);
    assert.equal(back.client.isClosed, false, 'the leader is still in the room');
    expectAck(await back.client.request({ type: 'mute', member: Sol.member }));
});
