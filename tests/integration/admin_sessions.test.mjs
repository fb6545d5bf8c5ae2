// The console's schedules, sessions and bans (protocol/README.md §12) and the
// leaders' self-service (start now, a session now, who waits) against the
// real kamratd: who may call what, the Origin rule, kamratctl's input rules,
// and the console and kamratctl seeing each other's changes live.

import assert from 'node:assert/strict';
import {
    LEADER_PASSWORD,
    ctl,
    ctlJson,
    enter,
    expectError,
    httpRequest,
    participantKey,
    serverFixture,
    setUpGroup,
    test,
    uid,
    utcStamp,
} from './lib/harness.mjs';
import { admin as call } from './lib/console.mjs';

const server = serverFixture({
    limits: { max_conns_per_address: 100, rate_per_sec: 1000, rate_burst: 10000, early_start: 15 },
});

let logins = 0;

/** POST /api/login from a loopback address of its own (at most 10 logins a
 * minute come from one address); resolves the token. */
async function leaderLogin(s, username) {
    const r = await httpRequest(s, {
        method: 'POST',
        path: '/api/login',
        headers: { 'Content-Type': 'application/json', Origin: s.origin },
        body: JSON.stringify({ username, password: LEADER_PASSWORD }),
        localAddress: `127.0.1.${(logins++ % 250) + 1}`,
    });
    assert.equal(r.status, 200, `login ${username}: ${r.body}`);
    return JSON.parse(r.body).token;
}

async function coordinator(s) {
    const username = uid('coord').toLowerCase();
    await ctl(s, ['coordinator', 'add', username, '--password-stdin'], { input: `${LEADER_PASSWORD}\n` });
    return leaderLogin(s, username);
}

/** A group (kamratctl) with one leader and a session far ahead; resolves ids and the leader's token. */
async function group(s, opts = {}) {
    const g = await setUpGroup(s, { start: 600, ...opts });
    const shown = await ctlJson(s, ['group', 'show', g.group]);
    return { ...g, id: shown.id, token: await leaderLogin(s, g.leaders[0]) };
}

const schedule = { weekday: 'thu', time: '18:00', duration_min: 90, tz: 'Europe/Helsinki' };

test('who may call which endpoint; changes want the Origin', async () => {
    const s = await server();
    const coord = await coordinator(s);
    const a = await group(s);
    const b = await group(s);
    const coordinatorOnly = [
        ['GET', `/api/admin/groups/${a.id}/schedules`],
        ['POST', `/api/admin/groups/${a.id}/schedules`, schedule],
        ['DELETE', `/api/admin/groups/${a.id}/schedules/1`],
        ['GET', `/api/admin/groups/${a.id}/bans`],
        ['POST', `/api/admin/groups/${a.id}/bans/1/lift`],
    ];
    for (const [method, path, json] of coordinatorOnly) {
        const r = await call(s, path, { method, json, token: a.token });
        assert.equal(r.status, 403, `${method} ${path} with a leader's token: ${r.body}`);
        assert.deepEqual(r.json, { error: 'forbidden' });
        assert.equal((await call(s, path, { method, json })).status, 401);
    }
    const start = await call(s, `/api/admin/groups/${a.id}/sessions/${a.session}/start`, { method: 'POST', token: coord });
    assert.equal(start.status, 403, 'a coordinator starts no session: they enter no room');
    // A leader acts on their own group's sessions only; another group's answer alike.
    const both = [
        ['GET', `/api/admin/groups/${b.id}/sessions`],
        ['POST', `/api/admin/groups/${b.id}/sessions`, { start: utcStamp(120), duration_min: 60, tz: 'UTC' }],
        ['POST', `/api/admin/groups/${b.id}/sessions/${b.session}/cancel`],
        ['POST', `/api/admin/groups/${b.id}/sessions/${b.session}/start`],
        ['POST', `/api/admin/groups/999999/sessions/${b.session}/start`],
    ];
    for (const [method, path, json] of both) {
        const r = await call(s, path, { method, json, token: a.token });
        assert.equal(r.status, 403, `${method} ${path} on another group: ${r.body}`);
    }
    // Every change wants the configured Origin.
    const changes = [
        ['POST', `/api/admin/groups/${a.id}/schedules`, schedule, coord],
        ['DELETE', `/api/admin/groups/${a.id}/schedules/1`, undefined, coord],
        ['POST', `/api/admin/groups/${a.id}/sessions`, { start: utcStamp(120), duration_min: 60, tz: 'UTC' }, a.token],
        ['POST', `/api/admin/groups/${a.id}/sessions/${a.session}/cancel`, undefined, a.token],
        ['POST', `/api/admin/groups/${a.id}/sessions/${a.session}/start`, undefined, a.token],
        ['POST', `/api/admin/groups/${a.id}/bans/1/lift`, undefined, coord],
    ];
    for (const [method, path, json, token] of changes) {
        for (const origin of [null, 'https://evil.example']) {
            const r = await call(s, path, { method, json, token, origin });
            assert.equal(r.status, 403, `${method} ${path} from ${origin}: ${r.body}`);
        }
    }
    assert.equal((await call(s, `/api/admin/groups/999999/schedules`, { token: coord })).status, 404);
    const wrong = await call(s, `/api/admin/groups/${a.id}/sessions/${a.session}/start`, { token: a.token });
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.allow, 'POST');
    // Nothing changed: the session is still planned.
    const [se] = await ctlJson(s, ['session', 'list', a.group]);
    assert.equal(se.state, 'scheduled');
});

test('schedules: kamratctl\'s rules, sessions planned at once, the same instants as kamratctl across DST', async () => {
    const s = await server();
    const coord = await coordinator(s);
    const a = await group(s);
    const b = await group(s);
    const path = `/api/admin/groups/${a.id}/schedules`;
    const bad = [
        [{ ...schedule, weekday: 'thursday' }, 'invalid', 'weekday'],
        [{ ...schedule, time: '24:00' }, 'invalid', 'time'],
        [{ ...schedule, time: 1800 }, 'invalid', 'time'],
        [{ ...schedule, tz: 'Mars/Olympus' }, 'invalid', 'tz'],
        [{ ...schedule, tz: '../../etc/passwd' }, 'invalid', 'tz'],
        [{ ...schedule, duration_min: 14 }, 'invalid', 'duration_min'],
        [{ ...schedule, duration_min: 601 }, 'invalid', 'duration_min'],
        [{ ...schedule, lobby_min: 121 }, 'invalid', 'lobby_min'],
        [{ ...schedule, from: '2030-02-30' }, 'invalid', 'from'],
        [{ ...schedule, from: '2030-03-01', until: '2030-02-01' }, 'invalid', 'until'],
        [{ ...schedule, until: '2001-01-01' }, 'invalid', 'until'],
        [{ weekday: 'thu', time: '18:00', tz: 'UTC' }, 'invalid', 'duration_min'],
        [{ ...schedule, colour: 'red' }, 'unknown_field', undefined],
    ];
    for (const [json, error, field] of bad) {
        const r = await call(s, path, { method: 'POST', json, token: coord });
        assert.equal(r.status, 400, `${JSON.stringify(json)}: ${r.body}`);
        assert.equal(r.json.error, error);
        if (field) assert.equal(r.json.field, field);
    }
    const dup = await call(s, path, { method: 'POST', body: '{"weekday":"thu","weekday":"fri"}', token: coord });
    assert.deepEqual(dup.json, { error: 'bad_json' });
    assert.deepEqual(await ctlJson(s, ['schedule', 'list', a.group]), [], 'nothing was added');

    // The console adds; kamratctl lists it and its sessions at once.
    const made = await call(s, path, { method: 'POST', json: { ...schedule, lobby_min: 10 }, token: coord });
    assert.equal(made.status, 201, made.body);
    assert.equal(made.json.weekday, 'thu');
    assert.equal(made.json.time, '18:00');
    assert.ok(made.json.sessions_added >= 8, `8 weeks planned: ${made.body}`);
    const listed = await ctlJson(s, ['schedule', 'list', a.group]);
    assert.equal(listed.length, 1);
    assert.equal(listed[0].id, made.json.id);
    const viaConsole = (await ctlJson(s, ['session', 'list', a.group])).filter((x) => x.schedule_id === made.json.id);
    assert.equal(viaConsole.length, made.json.sessions_added);
    // kamratctl adds the same on another group: the same instants, DST
    // changes (Helsinki keeps 18:00 local) included.
    await ctl(s, ['schedule', 'add', b.group, '--weekday', 'thu', '--time', '18:00', '--duration', '90', '--tz', 'Europe/Helsinki']);
    const viaCtl = (await ctlJson(s, ['session', 'list', b.group])).filter((x) => x.schedule_id !== null);
    assert.deepEqual(viaConsole.map((x) => x.starts_at), viaCtl.map((x) => x.starts_at));
    for (const x of viaConsole) assert.match(x.local_start, / 18:00 EE[S]?T$/);
    const fromCtl = await call(s, `/api/admin/groups/${b.id}/schedules`, { token: coord });
    assert.equal(fromCtl.json.schedules.length, 1);
    assert.equal(fromCtl.json.schedules[0].tz, 'Europe/Helsinki');
    assert.equal(fromCtl.json.next_cursor, null);

    // Paging.
    await call(s, path, { method: 'POST', json: { ...schedule, weekday: 'mon' }, token: coord });
    const p1 = await call(s, `${path}?limit=1`, { token: coord });
    assert.equal(p1.json.schedules.length, 1);
    assert.equal(typeof p1.json.next_cursor, 'string');
    const p2 = await call(s, `${path}?limit=1&cursor=${p1.json.next_cursor}`, { token: coord });
    assert.equal(p2.json.schedules.length, 1);
    assert.notEqual(p2.json.schedules[0].id, p1.json.schedules[0].id);
    assert.equal(p2.json.next_cursor, null);

    // Another group's schedule is not found here; the removal takes its sessions.
    const other = fromCtl.json.schedules[0].id;
    assert.equal((await call(s, `${path}/${other}`, { method: 'DELETE', token: coord })).status, 404);
    const gone = await call(s, `${path}/${made.json.id}`, { method: 'DELETE', token: coord });
    assert.equal(gone.status, 200, gone.body);
    assert.equal((await ctlJson(s, ['schedule', 'list', a.group])).length, 1);
    const left = (await ctlJson(s, ['session', 'list', a.group])).filter((x) => x.schedule_id === made.json.id);
    assert.deepEqual(left, []);
    const audit = await call(s, `/api/admin/audit?group=${a.id}&action=schedule_add`, { token: coord });
    assert.equal(audit.json.entries[0].actor.startsWith('coordinator:'), true);
});

test('one-off sessions: add, list upcoming and past, cancel; kamratctl agrees', async () => {
    const s = await server();
    const coord = await coordinator(s);
    const a = await group(s);
    const path = `/api/admin/groups/${a.id}/sessions`;
    for (const [json, field] of [
        [{ start: utcStamp(-5), duration_min: 60, tz: 'UTC' }, 'start'],
        [{ start: '2030-13-01 10:00', duration_min: 60, tz: 'UTC' }, 'start'],
        [{ start: utcStamp(60), duration_min: 10, tz: 'UTC' }, 'duration_min'],
        [{ start: utcStamp(60), duration_min: 60, tz: 'Nowhere' }, 'tz'],
        [{ duration_min: 60, tz: 'UTC' }, 'start'],
        [{ now: false, duration_min: 60, tz: 'UTC' }, 'now'],
        [{ now: true, start: utcStamp(60), duration_min: 60, tz: 'UTC' }, 'now'],
        [{ start: utcStamp(60), duration_min: '60', tz: 'UTC' }, 'duration_min'],
    ]) {
        const r = await call(s, path, { method: 'POST', json, token: coord });
        assert.equal(r.status, 400, `${JSON.stringify(json)}: ${r.body}`);
        assert.deepEqual(r.json, { error: 'invalid', field });
    }
    const made = await call(s, path, { method: 'POST', json: { start: utcStamp(120), duration_min: 45, tz: 'UTC', lobby_min: 5 }, token: a.token });
    assert.equal(made.status, 201, made.body);
    assert.equal(made.json.state, 'scheduled');
    assert.equal(made.json.schedule_id, null);
    const ctlList = await ctlJson(s, ['session', 'list', a.group]);
    assert.ok(ctlList.some((x) => x.id === made.json.id && x.lobby_min === 5));

    const upcoming = await call(s, path, { token: coord });
    assert.deepEqual(upcoming.json.sessions.map((x) => x.id).sort(), [a.session, made.json.id].sort());
    const page = await call(s, `${path}?limit=1`, { token: a.token });
    assert.equal(page.json.sessions.length, 1);
    assert.equal(page.json.next_cursor, '1');
    assert.equal((await call(s, `${path}?when=soon`, { token: coord })).json.field, 'when');

    // kamratctl cancels; the console sees it; a second cancel is refused.
    await ctl(s, ['session', 'cancel', String(made.json.id)]);
    const after = await call(s, path, { token: coord });
    assert.equal(after.json.sessions.find((x) => x.id === made.json.id).state, 'cancelled');
    const again = await call(s, `${path}/${made.json.id}/cancel`, { method: 'POST', token: coord });
    assert.equal(again.status, 409);
    assert.deepEqual(again.json, { error: 'wrong_state' });
    const cancelled = await call(s, `${path}/${a.session}/cancel`, { method: 'POST', token: a.token });
    assert.equal(cancelled.status, 200, cancelled.body);
    assert.equal(cancelled.json.state, 'cancelled');
    assert.equal((await ctlJson(s, ['session', 'list', a.group])).find((x) => x.id === a.session).state, 'cancelled');
    const past = await call(s, `${path}?when=past`, { token: coord });
    assert.deepEqual(past.json.sessions, []);
});

test('a leader starts a session within early_start, sees who waits, holds it; ended early it was held', async () => {
    const s = await server();
    const a = await group(s, { start: 10, lobby: 0 });
    const far = await group(s, { start: 60, lobby: 0 });
    const before = await call(s, '/api/sessions', { token: a.token });
    const listed = before.json.sessions.find((x) => x.id === a.session);
    assert.equal(listed.state, 'scheduled');
    assert.equal(listed.startable, true);
    assert.equal(listed.waiting, 0);
    assert.equal(listed.group_id, a.id);
    assert.deepEqual(before.json.groups, [{ id: a.id, name: a.group, adhoc_sessions: false }]);
    // Not yet: the lobby is closed.
    expectError((await enter(s, { token: a.token, session: a.session })).reply, 'no_session');

    const farToken = far.token;
    const early = await call(s, `/api/admin/groups/${far.id}/sessions/${far.session}/start`, { method: 'POST', token: farToken });
    assert.equal(early.status, 409, early.body);
    assert.equal(early.json.error, 'too_early');
    assert.equal(typeof early.json.start_from, 'number');
    assert.equal((await call(s, '/api/sessions', { token: farToken })).json.sessions[0].startable, false);

    const started = await call(s, `/api/admin/groups/${a.id}/sessions/${a.session}/start`, { method: 'POST', token: a.token });
    assert.equal(started.status, 200, started.body);
    assert.equal(started.json.state, 'lobby');
    // A participant waits; the leader's list counts them before opening.
    const { client: p, reply } = await enter(s, { invite: a.code, name: 'Ilona', key: participantKey() });
    assert.equal(reply.type, 'welcome', JSON.stringify(reply));
    assert.equal(reply.state, 'lobby');
    const waiting = await call(s, '/api/sessions', { token: a.token });
    assert.equal(waiting.json.sessions.find((x) => x.id === a.session).waiting, 1);
    const { client: leader, reply: lw } = await enter(s, { token: a.token, session: a.session });
    assert.equal(lw.type, 'welcome', JSON.stringify(lw));
    assert.equal((await leader.request({ type: 'open' })).type, 'ack');
    await p.next((m) => m.type === 'welcome' && m.state === 'open', 3000);
    assert.equal((await leader.request({ type: 'end' })).type, 'ack');
    // Held, not cancelled: in the console's past list and kamratctl's.
    const coord = await coordinator(s);
    const past = await call(s, `/api/admin/groups/${a.id}/sessions?when=past`, { token: coord });
    const held = past.json.sessions.find((x) => x.id === a.session);
    assert.equal(held.state, 'ended');
    assert.equal(held.held, true);
    assert.equal(held.cancelled_at, null);
    assert.ok(held.ended_at < held.starts_at, 'ended before its planned start');
    assert.equal((await ctlJson(s, ['session', 'list', a.group, '--all'])).find((x) => x.id === a.session).state, 'ended');
    assert.ok(!(await call(s, '/api/sessions', { token: a.token })).json.sessions.some((x) => x.id === a.session));
    const audit = await call(s, `/api/admin/audit?group=${a.id}&action=session_start`, { token: coord });
    assert.equal(audit.json.entries.length, 1);
    assert.match(audit.json.entries[0].actor, /^leader:/);
});

test('a session now: only where the group allows it, one at a time', async () => {
    const s = await server();
    const a = await group(s);
    const path = `/api/admin/groups/${a.id}/sessions`;
    const now = { now: true, duration_min: 60, tz: 'Europe/Helsinki' };
    const off = await call(s, path, { method: 'POST', json: now, token: a.token });
    assert.equal(off.status, 403, off.body);
    assert.deepEqual(off.json, { error: 'adhoc_off' });
    await ctl(s, ['group', 'edit', a.group, '--adhoc-sessions', 'yes']);
    assert.equal((await ctlJson(s, ['group', 'show', a.group])).adhoc_sessions, true);
    assert.equal((await call(s, '/api/sessions', { token: a.token })).json.groups[0].adhoc_sessions, true);
    const made = await call(s, path, { method: 'POST', json: now, token: a.token });
    assert.equal(made.status, 201, made.body);
    assert.equal(made.json.state, 'running');
    const { client: leader, reply } = await enter(s, { token: a.token, session: made.json.id });
    assert.equal(reply.type, 'welcome', JSON.stringify(reply));
    const twice = await call(s, path, { method: 'POST', json: now, token: a.token });
    assert.equal(twice.status, 409);
    assert.deepEqual(twice.json, { error: 'session_open' });
    leader.close();
});

test('a coordinator allows a session now from the console: adhoc_sessions in the group\'s JSON and PATCH; kamratctl agrees', async () => {
    const s = await server();
    const coord = await coordinator(s);
    const a = await group(s);
    const listed = await call(s, '/api/admin/groups?limit=50', { token: coord });
    assert.equal(listed.json.groups.find((g) => g.id === a.id).adhoc_sessions, false);
    const path = `/api/admin/groups/${a.id}`;
    for (const bad of ['yes', 1, null]) {
        const r = await call(s, path, { method: 'PATCH', json: { adhoc_sessions: bad }, token: coord });
        assert.equal(r.status, 400, `${bad}: ${r.body}`);
        assert.deepEqual(r.json, { error: 'invalid', field: 'adhoc_sessions' });
    }
    const byLeader = await call(s, path, { method: 'PATCH', json: { adhoc_sessions: true }, token: a.token });
    assert.equal(byLeader.status, 403);
    const on = await call(s, path, { method: 'PATCH', json: { adhoc_sessions: true }, token: coord });
    assert.equal(on.status, 200, on.body);
    assert.equal(on.json.adhoc_sessions, true);
    assert.equal((await ctlJson(s, ['group', 'show', a.group])).adhoc_sessions, true);
    const now = { now: true, duration_min: 60, tz: 'Europe/Helsinki' };
    const made = await call(s, `${path}/sessions`, { method: 'POST', json: now, token: a.token });
    assert.equal(made.status, 201, made.body);
    const audit = await call(s, `/api/admin/audit?group=${a.id}&action=group_edit`, { token: coord });
    assert.match(audit.json.entries[0].actor, /^coordinator:/, 'the newest group_edit is the console\'s');
    await ctl(s, ['group', 'edit', a.group, '--adhoc-sessions', 'no']);
    assert.equal((await call(s, '/api/admin/groups?limit=50', { token: coord })).json.groups.find((g) => g.id === a.id).adhoc_sessions, false);
    const added = await call(s, '/api/admin/groups', { method: 'POST', json: { name: uid('Ad hoc '), language: 'sv', adhoc_sessions: true }, token: coord });
    assert.equal(added.status, 201, added.body);
    assert.equal(added.json.adhoc_sessions, true);
});

test('bans: listed per group with what the ban keeps, lifted from the console; kamratctl agrees', async () => {
    const s = await server();
    const coord = await coordinator(s);
    const a = await group(s, { start: 5 });
    const b = await group(s);
    const { client: leader } = await enter(s, { token: a.token, session: a.session });
    assert.equal((await leader.request({ type: 'open' })).type, 'ack');
    const ids = [];
    for (const name of ['Sol', 'Kim']) {
        const { client, reply } = await enter(s, { invite: a.code, name, key: participantKey() });
        assert.equal(reply.type, 'welcome', JSON.stringify(reply));
        const ban = await leader.request({ type: 'ban', member: client.member });
        assert.equal(ban.type, 'ack', JSON.stringify(ban));
        ids.push(ban.ban);
    }
    const path = `/api/admin/groups/${a.id}/bans`;
    const list = await call(s, path, { token: coord });
    assert.equal(list.status, 200, list.body);
    assert.deepEqual(list.json.bans.map((x) => x.id), [...ids].reverse());
    assert.deepEqual(Object.keys(list.json.bans[0]).sort(), ['bound_to', 'created_at', 'created_by', 'id', 'lifted_at', 'name']);
    assert.equal(list.json.bans[0].name, 'Kim');
    assert.equal(list.json.bans[0].bound_to, 'key');
    assert.doesNotMatch(list.body, /key_hash|invite_id/);
    const p1 = await call(s, `${path}?limit=1`, { token: coord });
    assert.equal(p1.json.bans[0].id, ids[1]);
    const p2 = await call(s, `${path}?limit=1&cursor=${p1.json.next_cursor}`, { token: coord });
    assert.equal(p2.json.bans[0].id, ids[0]);
    assert.equal(p2.json.next_cursor, null);
    assert.deepEqual((await call(s, `/api/admin/groups/${b.id}/bans`, { token: coord })).json.bans, []);
    assert.equal((await call(s, `${path}?all=maybe`, { token: coord })).json.field, 'all');

    // Another group's path finds no such ban; the lift shows in kamratctl.
    assert.equal((await call(s, `/api/admin/groups/${b.id}/bans/${ids[0]}/lift`, { method: 'POST', token: coord })).status, 404);
    const lifted = await call(s, `${path}/${ids[0]}/lift`, { method: 'POST', token: coord });
    assert.equal(lifted.status, 200, lifted.body);
    assert.equal((await call(s, `${path}/${ids[0]}/lift`, { method: 'POST', token: coord })).status, 404);
    const active = await ctlJson(s, ['ban', 'list', '--group', a.group]);
    assert.deepEqual(active.map((x) => x.id), [ids[1]]);
    const all = await call(s, `${path}?all=yes`, { token: coord });
    assert.equal(typeof all.json.bans.find((x) => x.id === ids[0]).lifted_at, 'number');
    // kamratctl lifts the other; the console no longer lists it.
    await ctl(s, ['ban', 'lift', String(ids[1])]);
    assert.deepEqual((await call(s, path, { token: coord })).json.bans, []);
    const audit = await call(s, `/api/admin/audit?group=${a.id}&action=unban`, { token: coord });
    assert.equal(audit.json.entries.length, 2);
    leader.close();
});
