// Rooms are sessions of groups (protocol/README.md §4): participants enter with
// an invite and wait in the lobby until a leader of the group opens the session;
// they must accept the agreement before posting; the room closes at the end.
// Everything is set up with the real kamratctl and a leader login over HTTPS.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO, assertConsecutive, connect, httpRequest, prepareConfig, resume, sessionFixture, startServer, test, uid, within } from './lib/harness.mjs';

const KAMRATCTL = process.env.KAMRATCTL ?? path.join(REPO, 'build/tools/kamratctl');
const PASSWORD = 'lived experience 2026';

/** Runs kamratctl on cfg's configuration, input (if any) on its stdin. */
function ctl(cfg, args, input) {
    return new Promise((resolve, reject) => {
        const child = spawn(KAMRATCTL, ['-c', cfg.configPath, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (err += d));
        child.on('error', reject);
        child.stdin.on('error', () => {}); // it may exit before reading: its status tells
        child.on('close', (code) => {
            if (code === 0) resolve(out);
            else reject(new Error(`kamratctl ${args.join(' ')} exited ${code}: ${err}`));
        });
        child.stdin.end(input ?? '');
    });
}

/** "YYYY-MM-DD HH:MM" in UTC, minutes from now (rounded down). */
function utcStamp(minutesFromNow) {
    const d = new Date(Date.now() + minutesFromNow * 60000);
    return d.toISOString().slice(0, 16).replace('T', ' ');
}

/** A group with a leader, a session whose lobby is open now, and a group invite. */
async function setUpGroup(cfg, group, leader, { start = 5, duration = 60, personal = false } = {}) {
    await ctl(cfg, ['group', 'add', group, '--language', 'fi', '--description', 'Vertaistukea', '--max', '4']);
    fs.writeFileSync(path.join(cfg.dir, 'agreement.txt'), 'What is said here stays here.\n');
    await ctl(cfg, ['group', 'edit', group, '--agreement-file', path.join(cfg.dir, 'agreement.txt')]);
    await ctl(cfg, ['leader', 'add', leader, '--password-stdin'], PASSWORD);
    await ctl(cfg, ['group', 'leader', 'add', group, leader]);
    await ctl(cfg, ['session', 'add', group, '--start', utcStamp(start), '--duration', String(duration), '--tz', 'UTC', '--lobby', '15']);
    const sessions = JSON.parse(await ctl(cfg, ['--json', 'session', 'list', group]));
    const link = await ctl(cfg, ['invite', 'create', group, ...(personal ? ['--personal'] : [])]);
    const code = link.match(/\/j\/([A-Za-z0-9_-]{22})/)[1];
    return { session: sessions[0].id, code };
}

async function login(server, username, password = PASSWORD) {
    const r = await httpRequest(server, {
        method: 'POST',
        path: '/api/login',
        headers: { 'Content-Type': 'application/json', Origin: server.origin },
        body: JSON.stringify({ username, password }),
    });
    assert.equal(r.status, 200, `login: ${r.status} ${r.body}`);
    return JSON.parse(r.body).token;
}

async function hello(server, fields, label) {
    const client = await connect(server, { label });
    client.send({ type: 'hello', id: uid('h'), ...fields });
    const reply = await client.nextReply(5000);
    return { client, reply };
}

test('invite -> lobby -> agree -> a leader opens -> chat; the lobby sees nothing before', async () => {
    const cfg = await prepareConfig({ openRooms: false });
    const { session, code } = await setUpGroup(cfg, 'Torstairyhmä', 'aino');
    const s = await startServer({ config: cfg });

    const p = await hello(s, { invite: code, name: 'Sol' }, 'Sol');
    assert.equal(p.reply.type, 'welcome', JSON.stringify(p.reply));
    assert.equal(p.reply.state, 'lobby');
    assert.deepEqual(p.reply.members, [], 'the lobby shows nobody');
    assert.equal(p.reply.session.group, 'Torstairyhmä');
    assert.equal(p.reply.session.agreement, 'What is said here stays here.\n');
    assert.equal(p.reply.agreed, false);

    p.client.send({ type: 'say', id: 'early', text: 'hello?' });
    assert.equal((await p.client.next({ type: 'error' })).code, 'in_lobby');
    p.client.send({ type: 'open', id: 'not-mine' });
    assert.equal((await p.client.next({ type: 'error' })).code, 'forbidden');
    p.client.send({ type: 'agree', id: 'ok' });
    const agreed = await p.client.next({ type: 'ack' });
    assert.equal(agreed.ref, 'ok');
    assert.equal(agreed.seq, undefined);

    const token = await login(s, 'aino');
    const l = await hello(s, { token, session }, 'Aino');
    assert.equal(l.reply.type, 'welcome', JSON.stringify(l.reply));
    assert.equal(l.reply.role, 'leader');
    assert.equal(l.reply.name, 'aino');
    assert.equal(l.reply.state, 'lobby');
    assert.deepEqual(l.reply.members.map((m) => m.name), ['aino'], 'the leader does not see the lobby as members');

    l.client.send({ type: 'open', id: 'open' });
    const opened = await l.client.next({ type: 'ack' });
    const state = await l.client.next({ type: 'state' });
    assert.equal(state.state, 'open');
    assert.equal(opened.seq, state.seq);
    const audit = JSON.parse(await ctl(cfg, ['--json', 'audit', '--group', 'Torstairyhmä']));
    assert.ok(audit.some((row) => row.action === 'session_open' && row.actor === 'leader:aino'), JSON.stringify(audit));

    const snapshot = await p.client.next({ type: 'welcome' });
    assert.equal(snapshot.state, 'open');
    assert.equal(snapshot.token, null);
    assert.deepEqual(snapshot.members.map((m) => m.name).sort(), ['Sol', 'aino']);
    await p.client.next((m) => m.type === 'presence' && m.name === 'Sol');
    await l.client.next((m) => m.type === 'presence' && m.name === 'Sol');

    p.client.send({ type: 'say', id: 'hi', text: 'Kiitos että olette täällä' });
    const ack = await p.client.next({ type: 'ack' });
    const seen = await l.client.next({ type: 'message' });
    assert.equal(seen.seq, ack.seq);
    assert.equal(seen.text, 'Kiitos että olette täällä');
    const canary = `KMRT-CANARY-${uid('c')}`;
    p.client.send({ type: 'say', id: 'canary', text: canary });
    await l.client.next((m) => m.type === 'message' && m.text === canary);

    // Someone who has not agreed may not post.
    const q = await hello(s, { invite: code, name: 'Kim' }, 'Kim');
    assert.equal(q.reply.state, 'open');
    q.client.send({ type: 'say', id: 'x', text: 'hi' });
    assert.equal((await q.client.next({ type: 'error' })).code, 'agreement_required');

    // Message text never reaches the disk: not the database, its WAL, or anything else.
    for (const f of fs.readdirSync(cfg.dataDir)) {
        const bytes = fs.readFileSync(path.join(cfg.dataDir, f));
        assert.equal(bytes.indexOf(canary), -1, `${f} holds message text`);
        assert.equal(bytes.indexOf('Kiitos että'), -1, `${f} holds message text`);
    }
});

test('invites: personal ones work once; revoked and unknown ones are refused alike', async () => {
    const cfg = await prepareConfig({ openRooms: false });
    const { code } = await setUpGroup(cfg, 'Stödgruppen', 'britt', { personal: true });
    const s = await startServer({ config: cfg });
    const first = await hello(s, { invite: code, name: 'Ada' }, 'Ada');
    assert.equal(first.reply.type, 'welcome');
    const again = await hello(s, { invite: code, name: 'Bea' }, 'Bea');
    assert.equal(again.reply.code, 'invite_invalid', 'a personal invite is used up');

    const link = await ctl(cfg, ['invite', 'create', 'Stödgruppen']);
    const group = link.match(/\/j\/([A-Za-z0-9_-]{22})/)[1];
    assert.equal((await hello(s, { invite: group, name: 'Cy' }, 'Cy')).reply.type, 'welcome');
    const list = JSON.parse(await ctl(cfg, ['--json', 'invite', 'list']));
    const active = list.find((i) => i.kind === 'group');
    await ctl(cfg, ['invite', 'revoke', String(active.id)]);
    const revoked = await hello(s, { invite: group, name: 'Dee' }, 'Dee');
    const unknown = await hello(s, { invite: 'A'.repeat(22), name: 'Eve' }, 'Eve');
    assert.equal(revoked.reply.code, 'invite_invalid', 'a revoked invite is refused at once');
    assert.equal(unknown.reply.code, 'invite_invalid');
    assert.equal(revoked.reply.message, unknown.reply.message);
});

test('outside a session: no_session with the next start; leaders of other groups are refused', async () => {
    const cfg = await prepareConfig({ openRooms: false });
    const later = await setUpGroup(cfg, 'Later', 'lena', { start: 120 });
    const now = await setUpGroup(cfg, 'Now', 'nils');
    const s = await startServer({ config: cfg });
    const early = await hello(s, { invite: later.code, name: 'Ola' }, 'Ola');
    assert.equal(early.reply.code, 'no_session');
    assert.equal(typeof early.reply.next_start, 'number');
    assert.ok(early.reply.next_start > Date.now() + 60 * 60000, 'next_start is the session in two hours');
    // It was only early: the personal-or-group invite still works once the lobby opens (not consumed).

    const lenaToken = await login(s, 'lena');
    const other = await hello(s, { token: lenaToken, session: now.session }, 'lena');
    assert.equal(other.reply.code, 'forbidden', "a leader cannot enter another group's session");
    const none = await hello(s, { token: lenaToken, session: 999999 }, 'lena2');
    assert.equal(none.reply.code, 'forbidden', 'a missing session answers the same');
    const bogus = await hello(s, { token: 'x'.repeat(43), session: now.session }, 'nobody');
    assert.equal(bogus.reply.code, 'token_invalid');
    const noRoom = await hello(s, { room: 'lobby', name: 'Old' }, 'old');
    assert.equal(noRoom.reply.code, 'forbidden', 'rooms by name are for the testing mode only');
});

test('the session ends: everyone gets state ended and close 4410', async () => {
    const cfg = await prepareConfig({ openRooms: false, limits: { session_grace: 0 } });
    // A 15-minute session; kamratd's clock is set 3 s before its end.
    const { session, code } = await setUpGroup(cfg, 'Ending', 'erik', { start: 1, duration: 15 });
    const sessions = JSON.parse(await ctl(cfg, ['--json', 'session', 'list', 'Ending']));
    const endsAt = Date.parse(sessions[0].ends_at) / 1000;
    assert.ok(Number.isFinite(endsAt), `session list gives the end: ${JSON.stringify(sessions[0])}`);
    const offset = Math.floor(endsAt - 3 - Date.now() / 1000);
    fs.writeFileSync(cfg.configPath, fs.readFileSync(cfg.configPath, 'utf8') + `\n[testing]\nclock_offset = ${offset}\n`);
    const s = await startServer({ config: cfg });
    const p = await hello(s, { invite: code, name: 'Pia' }, 'Pia');
    assert.equal(p.reply.type, 'welcome', JSON.stringify(p.reply));
    const l = await hello(s, { token: await login(s, 'erik'), session }, 'erik');
    assert.equal(l.reply.type, 'welcome', JSON.stringify(l.reply));
    const ended = await l.client.next({ type: 'state' }, 8000);
    assert.equal(ended.state, 'ended');
    assert.equal((await p.client.next({ type: 'state' }, 2000)).state, 'ended', 'the lobby hears it too');
    assert.equal((await within(l.client.closed, 3000, 'leader closed')).code, 4410);
    assert.equal((await within(p.client.closed, 3000, 'participant closed')).code, 4410);
    const audit = JSON.parse(await ctl(cfg, ['--json', 'audit', '--group', 'Ending']));
    assert.ok(audit.some((row) => row.action === 'session_end' && row.actor === 'kamratd'), JSON.stringify(audit));
});

test('the invite link serves the client and a calendar; a leader lists their sessions', async () => {
    const cfg = await prepareConfig({ openRooms: false });
    const { session, code } = await setUpGroup(cfg, 'Kalender', 'kaisa');
    const s = await startServer({ config: cfg });

    const page = await httpRequest(s, { path: `/j/${code}` });
    assert.equal(page.status, 200);
    assert.match(page.headers['content-type'], /text\/html/);
    assert.match(page.headers['referrer-policy'], /no-referrer/, 'the code never leaks in a Referer');

    const cal = await httpRequest(s, { path: `/j/${code}/calendar.ics` });
    assert.equal(cal.status, 200);
    assert.match(cal.headers['content-type'], /^text\/calendar/);
    const lines = cal.body.split('\r\n');
    assert.equal(lines[0], 'BEGIN:VCALENDAR');
    assert.ok(lines.includes('SUMMARY:Kalender'), cal.body);
    assert.ok(lines.some((l) => /^DTSTART:\d{8}T\d{6}Z$/.test(l)), 'a session with a UTC start');
    assert.ok(!/ORGANIZER|ATTENDEE/.test(cal.body), 'no personal data');
    assert.equal((await httpRequest(s, { path: `/j/${'B'.repeat(22)}/calendar.ics` })).status, 404);

    const unauthorised = await httpRequest(s, { path: '/api/sessions' });
    assert.equal(unauthorised.status, 401);
    const token = await login(s, 'kaisa');
    const mine = await httpRequest(s, { path: '/api/sessions', headers: { Authorization: `Bearer ${token}` } });
    assert.equal(mine.status, 200, mine.body);
    const list = JSON.parse(mine.body).sessions;
    assert.deepEqual(list.map((x) => x.id), [session]);
    assert.equal(list[0].group, 'Kalender');
    assert.equal(list[0].state, 'lobby');
});

test('kamratctl changes reach a running kamratd: a cancelled session ends, a disabled leader is cut off', async () => {
    const cfg = await prepareConfig({ openRooms: false });
    const a = await setUpGroup(cfg, 'Peruttu', 'pekka');
    const b = await setUpGroup(cfg, 'Jatkuu', 'jonna');
    const s = await startServer({ config: cfg });
    const p = await hello(s, { invite: a.code, name: 'Pia' }, 'Pia');
    assert.equal(p.reply.state, 'lobby');
    const l = await hello(s, { token: await login(s, 'jonna'), session: b.session }, 'jonna');
    assert.equal(l.reply.role, 'leader');

    await ctl(cfg, ['session', 'cancel', String(a.session)]);
    assert.equal((await p.client.next({ type: 'state' }, 4000)).state, 'ended');
    assert.equal((await within(p.client.closed, 3000, 'cancelled session closed')).code, 4410);

    await ctl(cfg, ['leader', 'disable', 'jonna']);
    assert.equal((await within(l.client.closed, 4000, 'disabled leader cut off')).code, 4401);
    const again = await hello(s, { invite: a.code, name: 'Pia' }, 'Pia again');
    assert.equal(again.reply.code, 'no_session', 'the cancelled session is gone for good');
});

// kamratd gathers what a connection gets during a pass of its loop and writes
// it as one write (bench/README.md: writes gathered per pass). A burst far
// larger than one write and than the socket's buffer, then the end of the
// session in the same packet: the member gets every message whole, in order,
// then state ended, then the close frame, over TLS.
test('a burst then the end: every message in order, then state ended, then close 4410', async () => {
    const fx = await sessionFixture({ participants: ['Sol'], limits: { rate_per_sec: 1000, rate_burst: 1000 } });
    const { leader } = fx;
    const sol = fx.p.Sol;
    const BURST = 150;
    const filler = 'x'.repeat(1000); // 150 frames of about 1.1 KB: 2.5 gathered writes, more than SO_SNDBUF
    // One write on the leader's socket: kamratd reads the burst and the end
    // back to back, in as few passes as its reads allow.
    leader.ws._socket.cork();
    for (let i = 0; i < BURST; i++) leader.send({ type: 'say', id: `b${i}`, text: `${i} ${filler}` });
    leader.send({ type: 'end', id: 'end' });
    process.nextTick(() => leader.ws._socket.uncork());

    assert.equal((await within(sol.closed, 5000, 'Sol closed')).code, 4410);
    const got = sol.all();
    const said = got.filter((m) => m.type === 'message');
    assert.deepEqual(said.map((m) => Number(m.text.split(' ')[0])), [...Array(BURST).keys()], 'every message once, in order');
    assert.ok(said.every((m) => m.text.endsWith(filler)), 'every message whole');
    assertConsecutive(said, 'the burst');
    const last = got[got.length - 1];
    assert.equal(last.type, 'state', `the last frame before the close: ${JSON.stringify(last)}`);
    assert.equal(last.state, 'ended');
    assert.ok(last.seq > said[said.length - 1].seq, 'state ended after the burst');
    assert.deepEqual(sol.violations, [], 'every frame well formed');
    // The leader got an ack for each, the end's last.
    assert.equal((await within(leader.closed, 5000, 'leader closed')).code, 4410);
    const acks = leader.all().filter((m) => m.type === 'ack' && typeof m.ref === 'string' && /^b\d+$/.test(m.ref));
    assert.equal(acks.length, BURST);
    assert.ok(leader.all().some((m) => m.type === 'ack' && m.ref === 'end'), 'end was acknowledged');
});

test('a group removed during its live session: the room ends (4410) and its session_end row is kept', async () => {
    const cfg = await prepareConfig({ openRooms: false });
    const g = await setUpGroup(cfg, 'Poistuva', 'paula');
    const s = await startServer({ config: cfg });
    const l = await hello(s, { token: await login(s, 'paula'), session: g.session }, 'paula');
    l.client.send({ type: 'open', id: 'o' });
    await l.client.next({ type: 'state' });
    const p = await hello(s, { invite: g.code, name: 'Pia' }, 'Pia');
    assert.equal(p.reply.state, 'open');
    const groupId = JSON.parse(await ctl(cfg, ['--json', 'group', 'show', 'Poistuva'])).id;

    // The store removes the group with its sessions in one transaction; the
    // room's own session_end row must not depend on the session row.
    await ctl(cfg, ['group', 'remove', 'Poistuva', '--yes']);
    for (const c of [l.client, p.client]) {
        assert.equal((await c.next({ type: 'state' }, 4000)).state, 'ended');
        assert.equal((await within(c.closed, 3000, `${c.label} closed`)).code, 4410);
    }
    const audit = JSON.parse(await ctl(cfg, ['--json', 'audit']));
    const row = audit.find((r) => r.action === 'session_end' && r.session_id === g.session);
    assert.ok(row, `a session_end row for session ${g.session}: ${JSON.stringify(audit)}`);
    assert.equal(row.actor, 'kamratd');
    assert.equal(row.group, `#${groupId}`, 'the row names the removed group by its id');
    assert.ok(audit.some((r) => r.action === 'group_remove'), JSON.stringify(audit));
    assert.doesNotMatch(s.stderr(), /audit_failed/);
});

test('history: since_admitted by default; whole_session lets a late joiner read the session so far', async () => {
    const cfg = await prepareConfig({ openRooms: false });
    const quiet = await setUpGroup(cfg, 'Hiljainen', 'hanna');
    const open = await setUpGroup(cfg, 'Avoin', 'oskar');
    await ctl(cfg, ['group', 'edit', 'Avoin', '--history', 'whole_session']);
    const s = await startServer({ config: cfg });
    for (const [g, leader, expectHistory] of [[quiet, 'hanna', false], [open, 'oskar', true]]) {
        const l = await hello(s, { token: await login(s, leader), session: g.session }, leader);
        l.client.send({ type: 'open', id: 'o' });
        await l.client.next({ type: 'state' });
        l.client.send({ type: 'say', id: 'early', text: `said before anyone came (${leader})` });
        const early = await l.client.next({ type: 'ack', ref: 'early' });
        const p = await hello(s, { invite: g.code, name: `Late ${leader}` }, `late-${leader}`);
        assert.equal(p.reply.type, 'welcome', JSON.stringify(p.reply));
        // The joiner's own presence comes after any history.
        await p.client.next((m) => m.type === 'presence' && m.member === p.reply.member);
        const got = p.client.all().filter((m) => m.type === 'message');
        if (expectHistory) {
            assert.deepEqual(got.map((m) => m.seq), [early.seq], 'the late joiner reads the session so far');
            assert.ok(got[0].seq <= p.reply.seq, 'history is up to the welcome snapshot');
        } else {
            assert.deepEqual(got, [], 'nothing from before the joiner came');
        }
    }
});

test('a participant who resumes while still in the lobby gets nothing of the room', async () => {
    const cfg = await prepareConfig({ openRooms: false });
    const g = await setUpGroup(cfg, 'Odotus', 'olli');
    const s = await startServer({ config: cfg });
    const p = await hello(s, { invite: g.code, name: 'Waiting' }, 'waiting');
    const l = await hello(s, { token: await login(s, 'olli'), session: g.session }, 'olli');
    l.client.send({ type: 'say', id: 'private', text: 'leaders only, before opening' });
    await l.client.next({ type: 'ack', ref: 'private' });
    p.client.terminate();
    const back = await resume(s, { token: p.reply.token, epoch: p.reply.epoch, after_seq: p.reply.seq, label: 'back' });
    assert.equal(back.reply.type, 'welcome', JSON.stringify(back.reply));
    assert.equal(back.reply.state, 'lobby');
    assert.deepEqual(back.reply.members, []);
    assert.equal(back.reply.gap, false);
    // Anything the server sends now would arrive before this answer.
    back.client.send({ type: 'agree', id: 'fence' });
    await back.client.next({ type: 'ack', ref: 'fence' });
    const leaked = back.client.all().filter((m) => m.type === 'message' || m.type === 'presence');
    assert.deepEqual(leaked, [], 'the lobby sees nothing of the room');
});

test('a leader who logs out is cut off at once (4401) and the token no longer works', async () => {
    const cfg = await prepareConfig({ openRooms: false });
    const g = await setUpGroup(cfg, 'Uloskirjaus', 'ulla');
    const s = await startServer({ config: cfg });
    const token = await login(s, 'ulla');
    const l = await hello(s, { token, session: g.session }, 'ulla');
    assert.equal(l.reply.role, 'leader');
    const out = await httpRequest(s, {
        method: 'POST',
        path: '/api/logout',
        headers: { Authorization: `Bearer ${token}`, Origin: s.origin },
    });
    assert.equal(out.status, 204);
    assert.equal((await within(l.client.closed, 2000, 'the leader socket to close')).code, 4401);
    const again = await hello(s, { token, session: g.session }, 'ulla again');
    assert.equal(again.reply.code, 'token_invalid');
});
