// The coordinators' console API against the real kamratd (protocol/README.md
// §12): coordinator accounts from kamratctl, the login's role, the Origin
// rule on changes, tokens of the wrong kind, input checks and their codes,
// groups made on either side seen on the other, and the audit rows'
// actor "coordinator:<name>". A coordinator's token enters no room.

import assert from 'node:assert/strict';
import {
    LEADER_PASSWORD,
    ctl,
    ctlJson,
    enter,
    expectError,
    httpRequest,
    leaderLogin,
    serverFixture,
    setUpGroup,
    test,
    uid,
} from './lib/harness.mjs';
import { admin, coordinator } from './lib/console.mjs';

const server = serverFixture({
    limits: { max_conns_per_address: 100, rate_per_sec: 1000, rate_burst: 10000 },
});

test('a coordinator logs in with the role; kamratctl lists coordinators apart from leaders', async () => {
    const s = await server();
    const { username } = await coordinator(s);
    const r = await httpRequest(s, {
        method: 'POST',
        path: '/api/login',
        headers: { 'Content-Type': 'application/json', Origin: s.origin },
        body: JSON.stringify({ username, password: LEADER_PASSWORD }),
    });
    assert.equal(r.status, 200, r.body);
    assert.equal(JSON.parse(r.body).role, 'coordinator');
    const coords = await ctlJson(s, ['coordinator', 'list']);
    assert.ok(coords.some((c) => c.username === username));
    const leaders = await ctlJson(s, ['leader', 'list']);
    assert.ok(!leaders.some((l) => l.username === username), 'a coordinator is no leader');
    // One name, one account, whichever kind.
    const dup = await ctl(s, ['leader', 'add', username, '--password-stdin'], { input: `${LEADER_PASSWORD}\n` }).catch((e) => e);
    assert.match(String(dup), /already exists/);
});

test('every endpoint wants a coordinator\'s token; changes want the Origin', async () => {
    const s = await server();
    const { token } = await coordinator(s);
    const { leaders } = await setUpGroup(s);
    const leaderToken = await leaderLogin(s, leaders[0]);
    const endpoints = [
        ['GET', '/api/admin/health'],
        ['GET', '/api/admin/groups'],
        ['POST', '/api/admin/groups', { name: uid('G '), language: 'fi' }],
        ['PATCH', '/api/admin/groups/1', { description: 'x' }],
        ['GET', '/api/admin/audit'],
    ];
    for (const [method, path, json] of endpoints) {
        const none = await admin(s, path, { method, json });
        assert.equal(none.status, 401, `${method} ${path} without a token: ${none.body}`);
        assert.deepEqual(none.json, { error: 'token_invalid' });
        const bad = await admin(s, path, { method, json, token: 'A'.repeat(43) });
        assert.equal(bad.status, 401, `${method} ${path} with a made-up token`);
        const leader = await admin(s, path, { method, json, token: leaderToken });
        assert.equal(leader.status, 403, `${method} ${path} with a leader's token: ${leader.body}`);
        assert.deepEqual(leader.json, { error: 'forbidden' });
        if (method !== 'GET') {
            for (const origin of [null, 'https://evil.example']) {
                const r = await admin(s, path, { method, json, token, origin });
                assert.equal(r.status, 403, `${method} ${path} from origin ${origin}: ${r.body}`);
                assert.deepEqual(r.json, { error: 'forbidden' });
            }
        }
    }
    const wrong = await admin(s, '/api/admin/health', { method: 'POST', token, json: {} });
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.allow, 'GET');
    const unknown = await admin(s, '/api/admin/nothing', { token });
    assert.equal(unknown.status, 404);
    // A leader's own list stays closed to a coordinator.
    const sessions = await admin(s, '/api/sessions', { token });
    assert.equal(sessions.status, 401);
});

test('the health box', async () => {
    const s = await server();
    const { token } = await coordinator(s);
    const r = await admin(s, '/api/admin/health', { token });
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(Object.keys(r.json).sort(), ['cluster', 'connections', 'logins', 'rooms', 'store', 'version']);
    assert.equal(r.json.store, 'ok');
    assert.equal(r.json.cluster, null);
    assert.ok(r.json.logins >= 1);
});

test('a group added by the API is kamratctl\'s, one kamratctl added is the API\'s, audited with the actor', async () => {
    const s = await server();
    const { username, token } = await coordinator(s);
    const name = uid('Tukiryhmä ');
    const add = await admin(s, '/api/admin/groups', {
        method: 'POST',
        token,
        json: { name, language: 'sv', description: 'Onsdagar', max_participants: 9 },
    });
    assert.equal(add.status, 201, add.body);
    assert.equal(add.json.name, name);
    assert.equal(add.json.history, 'since_admitted');
    const listed = (await ctlJson(s, ['group', 'list'])).find((g) => g.name === name);
    assert.ok(listed, 'kamratctl lists the group the API added');
    assert.equal(listed.language, 'sv');

    const edit = await admin(s, `/api/admin/groups/${add.json.id}`, {
        method: 'PATCH',
        token,
        json: { language: 'en', agreement: 'Line one.\nLine two.', history: 'whole_session', private_messages: 'off' },
    });
    assert.equal(edit.status, 200, edit.body);
    assert.equal(edit.json.description, 'Onsdagar', 'what the PATCH left out stays');
    const after = (await ctlJson(s, ['group', 'list'])).find((g) => g.name === name);
    assert.equal(after.language, 'en');

    const byCtl = uid('Ctl group ');
    await ctl(s, ['group', 'add', byCtl, '--language', 'fi']);
    const all = [];
    for (let cursor = ''; ; ) {
        const page = await admin(s, `/api/admin/groups?limit=1&cursor=${cursor}`, { token });
        assert.equal(page.status, 200, page.body);
        assert.ok(page.json.groups.length <= 1);
        all.push(...page.json.groups);
        if (page.json.next_cursor === null) break;
        cursor = page.json.next_cursor;
    }
    assert.ok(all.some((g) => g.name === byCtl), 'the API lists the group kamratctl added');
    assert.ok(all.every((g) => !('password_hash' in g)));

    const actor = `coordinator:${username}`;
    const audit = await admin(s, `/api/admin/audit?actor=${encodeURIComponent(actor)}`, { token });
    assert.equal(audit.status, 200, audit.body);
    assert.deepEqual(
        audit.json.entries.map((e) => [e.action, e.target]),
        [['group_edit', name], ['group_add', name]],
        'newest first',
    );
    assert.ok(audit.json.entries.every((e) => e.actor === actor && e.group_id === add.json.id));
    const rows = await ctlJson(s, ['audit', '--group', name]);
    assert.ok(rows.some((r) => r.actor === actor && r.action === 'group_add'), 'kamratctl sees the same rows');

    // Paging: one at a time, following next_cursor, finds both rows.
    const first = await admin(s, `/api/admin/audit?limit=1&group=${add.json.id}`, { token });
    assert.equal(first.json.entries.length, 1);
    assert.equal(first.json.entries[0].action, 'group_edit');
    const second = await admin(s, `/api/admin/audit?limit=1&group=${add.json.id}&cursor=${first.json.next_cursor}`, { token });
    assert.equal(second.json.entries[0].action, 'group_add');
    const byAction = await admin(s, `/api/admin/audit?action=group_add&group=${add.json.id}`, { token });
    assert.deepEqual(byAction.json.entries.map((e) => e.action), ['group_add']);
});

test('bad input gets its code: types, sizes, unknown fields, duplicate keys, names taken', async () => {
    const s = await server();
    const { token } = await coordinator(s);
    const post = (json, body) => admin(s, '/api/admin/groups', { method: 'POST', token, json, body });
    const cases = [
        [{ name: 'X', language: 'fi', extra: 1 }, 'unknown_field'],
        [{ name: 'X', language: 'de' }, 'invalid', 'language'],
        [{ name: 'X' }, 'invalid', 'language'],
        [{ language: 'fi' }, 'invalid', 'name'],
        [{ name: 7, language: 'fi' }, 'invalid', 'name'],
        [{ name: 'X', language: 'fi', max_participants: '9' }, 'invalid', 'max_participants'],
        [{ name: 'X', language: 'fi', max_participants: 501 }, 'invalid', 'max_participants'],
        [{ name: 'x'.repeat(81), language: 'fi' }, 'invalid', 'name'],
        [{ name: 'X', language: 'fi', description: 'd'.repeat(2001) }, 'invalid', 'description'],
        [{ name: 'X', language: 'fi', history: 'forever' }, 'invalid', 'history'],
        [[1, 2], 'bad_json'],
    ];
    for (const [json, code, field] of cases) {
        const r = await post(json);
        assert.equal(r.status, 400, `${JSON.stringify(json).slice(0, 80)}: ${r.body}`);
        assert.equal(r.json.error, code, JSON.stringify(json).slice(0, 80));
        if (field) assert.equal(r.json.field, field);
    }
    const dup = await post(undefined, '{"name":"A","name":"B","language":"fi"}');
    assert.equal(dup.status, 400);
    assert.equal(dup.json.error, 'bad_json');
    const broken = await post(undefined, '{"name":');
    assert.equal(broken.json.error, 'bad_json');
    const big = await post(undefined, `{"name":"${'x'.repeat(140 * 1024)}"}`);
    assert.equal(big.status, 413);
    const text = await admin(s, '/api/admin/groups', { method: 'POST', token, body: 'name=x', headers: { 'Content-Type': 'text/plain' } });
    assert.equal(text.status, 415);

    const name = uid('Taken ');
    assert.equal((await post({ name, language: 'fi' })).status, 201);
    const taken = await post({ name: name.toUpperCase(), language: 'fi' });
    assert.equal(taken.status, 409);
    assert.deepEqual(taken.json, { error: 'exists', field: 'name' });

    const patchName = await admin(s, '/api/admin/groups/1', { method: 'PATCH', token, json: { name: 'Y' } });
    assert.equal(patchName.status, 400);
    assert.equal(patchName.json.error, 'unknown_field');
    const missing = await admin(s, '/api/admin/groups/999999', { method: 'PATCH', token, json: { description: 'x' } });
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.json, { error: 'not_found' });
    const badId = await admin(s, '/api/admin/groups/01', { method: 'PATCH', token, json: { description: 'x' } });
    assert.equal(badId.status, 404);

    for (const q of ['limit=0', 'limit=1000', 'cursor=x', 'group=-1', 'sort=name']) {
        const r = await admin(s, `/api/admin/audit?${q}`, { token });
        assert.equal(r.status, 400, `audit?${q}: ${r.body}`);
        assert.equal(r.json.error, q.startsWith('sort') ? 'unknown_field' : 'invalid');
    }
    const groupsFilter = await admin(s, '/api/admin/groups?actor=x', { token });
    assert.equal(groupsFilter.json.error, 'unknown_field');
});

test('a disabled coordinator\'s login ends; a coordinator cannot lead a group nor enter a room', async () => {
    const s = await server();
    const { username, token } = await coordinator(s);
    const { group, session } = await setUpGroup(s);
    const link = await ctl(s, ['group', 'leader', 'add', group, username]).catch((e) => e);
    assert.match(String(link), /no leader named/);

    const { reply } = await enter(s, { session, token });
    expectError(reply, 'token_invalid');

    await ctl(s, ['coordinator', 'disable', username]);
    const r = await admin(s, '/api/admin/health', { token });
    assert.equal(r.status, 401);
    const rows = await ctlJson(s, ['audit', '--limit', '5']);
    assert.ok(rows.some((x) => x.action === 'coordinator_disable' && x.target === username));
});
