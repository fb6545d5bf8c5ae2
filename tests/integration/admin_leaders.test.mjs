// The console's accounts and archived groups against the real kamratd
// (protocol/README.md §12): leaders added by a one-time setup link that the
// leader opens to choose a password (POST /api/setup), a new link to reset,
// disable and enable, the groups a leader leads, kamratctl and the console
// agreeing, every step audited; a group archived takes no new sessions or
// invites and leaves the default list.

import assert from 'node:assert/strict';
import {
    LEADER_PASSWORD,
    ctl,
    ctlJson,
    httpRequest,
    leaderLogin,
    runKamratctl,
    serverFixture,
    setUpGroup,
    test,
    uid,
    utcStamp,
} from './lib/harness.mjs';
import { admin, coordinator } from './lib/console.mjs';

const server = serverFixture({
    limits: { max_conns_per_address: 100, rate_per_sec: 1000, rate_burst: 10000 },
});

// Setup requests and logins count against one window per client address
// (§11): each test sends its own from an address of its own.
let from = '127.0.0.1';

/** POST /api/setup or /api/setup/check with json; resolves {status, json}. */
async function setup(s, json, { check = false, origin = s.origin } = {}) {
    const headers = { 'Content-Type': 'application/json' };
    if (origin !== null) headers.Origin = origin;
    const r = await httpRequest(s, {
        method: 'POST',
        path: check ? '/api/setup/check' : '/api/setup',
        headers,
        body: typeof json === 'string' ? json : JSON.stringify(json),
        localAddress: from,
    });
    return { status: r.status, json: JSON.parse(r.body) };
}

const codeOf = (url) => url.match(/\/setup#([A-Za-z0-9_-]{22})$/)[1];

async function login(s, username, password = LEADER_PASSWORD) {
    return httpRequest(s, {
        method: 'POST',
        path: '/api/login',
        headers: { 'Content-Type': 'application/json', Origin: s.origin },
        body: JSON.stringify({ username, password }),
        localAddress: from,
    });
}

test('a leader added by a setup link chooses a password once; kamratctl sees each step', async () => {
    from = '127.0.1.1';
    const s = await server();
    const { username: coord, token } = await coordinator(s);
    const username = uid('aino').toLowerCase();
    const add = await admin(s, '/api/admin/leaders', { method: 'POST', token, json: { username } });
    assert.equal(add.status, 201, add.body);
    assert.equal(add.json.state, 'awaiting_setup');
    assert.equal(add.json.role, 'leader');
    assert.ok(add.json.setup_url.startsWith(`${s.origin}/setup#`), add.json.setup_url);
    const week = add.json.setup_expires_at - Date.now();
    assert.ok(week > 6.9 * 86400e3 && week <= 7 * 86400e3 + 60e3, 'good for 7 days');
    const code = codeOf(add.json.setup_url);

    // Listed on both sides, never with the code or a hash.
    const listed = (await admin(s, '/api/admin/leaders', { token })).json.leaders.find((l) => l.username === username);
    assert.equal(listed.state, 'awaiting_setup');
    assert.equal(listed.setup_expires_at, add.json.setup_expires_at);
    assert.ok(!JSON.stringify(listed).includes(code) && !('setup_url' in listed) && !('password_hash' in listed));
    const byCtl = (await ctlJson(s, ['leader', 'list'])).find((l) => l.username === username);
    assert.equal(byCtl.state, 'awaiting_setup');

    // No password works before the setup.
    assert.equal((await login(s, username, '')).status, 400);
    assert.equal((await login(s, username, 'anything at all')).status, 401);

    const check = await setup(s, { code }, { check: true });
    assert.equal(check.status, 200, JSON.stringify(check.json));
    assert.deepEqual(check.json, { username, role: 'leader', expires_at: add.json.setup_expires_at });
    const short = await setup(s, { code, password: 'too short' });
    assert.deepEqual([short.status, short.json], [400, { error: 'invalid', field: 'password' }]);
    const long = await setup(s, { code, password: 'x'.repeat(129) });
    assert.equal(long.status, 400);
    const done = await setup(s, { code, password: LEADER_PASSWORD });
    assert.deepEqual([done.status, done.json], [200, { username, role: 'leader' }]);
    assert.equal((await login(s, username)).status, 200, 'the chosen password logs in');

    // Spent: the link says so, and changes nothing.
    const again = await setup(s, { code, password: 'another password 1' });
    assert.deepEqual([again.status, again.json], [410, { error: 'setup_used' }]);
    assert.deepEqual((await setup(s, { code }, { check: true })).json, { error: 'setup_used' });
    assert.equal((await login(s, username, 'another password 1')).status, 401);
    const unknown = await setup(s, { code: 'A'.repeat(22) }, { check: true });
    assert.deepEqual([unknown.status, unknown.json], [404, { error: 'setup_unknown' }]);
    assert.deepEqual((await setup(s, { code: 'short' }, { check: true })).json, { error: 'setup_unknown' });

    const after = (await ctlJson(s, ['leader', 'list'])).find((l) => l.username === username);
    assert.equal(after.state, 'enabled');
    assert.equal(after.setup_expires_at, null);
    const rows = await ctlJson(s, ['audit']);
    assert.ok(rows.some((r) => r.actor === `coordinator:${coord}` && r.action === 'leader_add' && r.target === username));
    assert.ok(rows.some((r) => r.actor === `leader:${username}` && r.action === 'leader_setup' && r.target === username));
});

test('a new setup link ends the logins and the old password; disable, enable, groups', async () => {
    from = '127.0.1.2';
    const s = await server();
    const { username: coord, token } = await coordinator(s);
    const { group, leaders } = await setUpGroup(s);
    const username = leaders[0];
    const leaderToken = await leaderLogin(s, username);
    const id = (await admin(s, '/api/admin/leaders', { token })).json.leaders.find((l) => l.username === username).id;

    const reset = await admin(s, `/api/admin/leaders/${id}/setup`, { method: 'POST', token });
    assert.equal(reset.status, 200, reset.body);
    assert.equal(reset.json.state, 'awaiting_setup');
    const sessions = await httpRequest(s, { path: '/api/sessions', headers: { Authorization: `Bearer ${leaderToken}` } });
    assert.equal(sessions.status, 401, 'the leader\'s login ended');
    assert.equal((await login(s, username)).status, 401, 'the old password no longer works');
    // A newer link replaces the older.
    const newer = await admin(s, `/api/admin/leaders/${id}/setup`, { method: 'POST', token });
    assert.deepEqual((await setup(s, { code: codeOf(reset.json.setup_url) }, { check: true })).json, { error: 'setup_expired' });
    assert.equal((await setup(s, { code: codeOf(newer.json.setup_url), password: 'a brand new one' })).status, 200);
    assert.equal((await login(s, username, 'a brand new one')).status, 200);

    // Disable and enable; kamratctl agrees at once.
    const off = await admin(s, `/api/admin/leaders/${id}`, { method: 'PATCH', token, json: { disabled: true } });
    assert.equal(off.json.state, 'disabled');
    assert.equal((await ctlJson(s, ['leader', 'list'])).find((l) => l.username === username).state, 'disabled');
    const linkWhileOff = await admin(s, `/api/admin/leaders/${id}/setup`, { method: 'POST', token });
    assert.deepEqual([linkWhileOff.status, linkWhileOff.json], [409, { error: 'disabled' }]);
    await ctl(s, ['leader', 'enable', username]);
    const listed = (await admin(s, '/api/admin/leaders', { token })).json.leaders.find((l) => l.id === id);
    assert.equal(listed.state, 'enabled');
    assert.deepEqual(listed.groups.map((g) => g.name), [group]);

    // Groups: unlink, link, twice.
    const gid = listed.groups[0].id;
    const unlink = await admin(s, `/api/admin/leaders/${id}/groups/${gid}`, { method: 'DELETE', token });
    assert.deepEqual(unlink.json.groups, []);
    assert.deepEqual((await ctlJson(s, ['leader', 'list'])).find((l) => l.username === username).groups, []);
    const link = await admin(s, `/api/admin/leaders/${id}/groups/${gid}`, { method: 'POST', token });
    assert.deepEqual(link.json.groups.map((g) => g.id), [gid]);
    const twice = await admin(s, `/api/admin/leaders/${id}/groups/${gid}`, { method: 'POST', token });
    assert.deepEqual([twice.status, twice.json], [409, { error: 'exists' }]);
    const none = await admin(s, `/api/admin/leaders/${id}/groups/999999`, { method: 'DELETE', token });
    assert.equal(none.status, 404);

    // A coordinator leads nothing and does not lock themselves out.
    const me = (await admin(s, '/api/admin/leaders', { token })).json.leaders.find((l) => l.username === coord);
    assert.equal(me.role, 'coordinator');
    const lead = await admin(s, `/api/admin/leaders/${me.id}/groups/${gid}`, { method: 'POST', token });
    assert.deepEqual([lead.status, lead.json], [400, { error: 'invalid', field: 'role' }]);
    const self = await admin(s, `/api/admin/leaders/${me.id}`, { method: 'PATCH', token, json: { disabled: true } });
    assert.deepEqual([self.status, self.json], [409, { error: 'own_account' }]);

    const actions = (await ctlJson(s, ['audit'])).filter((r) => r.actor === `coordinator:${coord}`).map((r) => r.action);
    for (const a of ['leader_setup_link', 'leader_disable', 'group_leader_remove', 'group_leader_add'])
        assert.ok(actions.includes(a), `audited: ${a}`);
});

test('kamratctl makes setup links too, and the console lists them', async () => {
    from = '127.0.1.3';
    const s = await server();
    const { token } = await coordinator(s);
    const username = uid('bertil').toLowerCase();
    const made = await ctlJson(s, ['leader', 'add', username, '--setup-link']);
    assert.equal(made.username, username);
    const listed = (await admin(s, '/api/admin/leaders', { token })).json.leaders.find((l) => l.username === username);
    assert.equal(listed.state, 'awaiting_setup');
    assert.equal((await setup(s, { code: codeOf(made.setup_url), password: LEADER_PASSWORD })).status, 200);
    assert.equal((await login(s, username)).status, 200);
    const text = await runKamratctl(['-c', s.configPath, 'leader', 'setup-link', username]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^https:\/\/.+\/setup#[A-Za-z0-9_-]{22}\n$/);
    assert.match(text.stderr, /shown only this once/);
    const both = await runKamratctl(['-c', s.configPath, 'leader', 'add', 'x' + username, '--setup-link', '--password-stdin']);
    assert.equal(both.code, 64);
});

test('every endpoint wants a coordinator, the Origin on changes, and well-formed input', async () => {
    from = '127.0.1.4';
    const s = await server();
    const { token } = await coordinator(s);
    const { leaders } = await setUpGroup(s);
    const leaderToken = await leaderLogin(s, leaders[0]);
    const id = (await admin(s, '/api/admin/leaders', { token })).json.leaders.find((l) => l.username === leaders[0]).id;
    const endpoints = [
        ['GET', '/api/admin/leaders'],
        ['POST', '/api/admin/leaders', { username: uid('c').toLowerCase() }],
        ['PATCH', `/api/admin/leaders/${id}`, { disabled: false }],
        ['POST', `/api/admin/leaders/${id}/setup`],
        ['POST', `/api/admin/leaders/${id}/groups/1`],
        ['DELETE', `/api/admin/leaders/${id}/groups/1`],
    ];
    for (const [method, path, json] of endpoints) {
        const none = await admin(s, path, { method, json });
        assert.equal(none.status, 401, `${method} ${path} without a token`);
        const leader = await admin(s, path, { method, json, token: leaderToken });
        assert.deepEqual([leader.status, leader.json], [403, { error: 'forbidden' }], `${method} ${path}, a leader`);
        if (method !== 'GET') {
            for (const origin of [null, 'https://evil.example']) {
                const r = await admin(s, path, { method, json, token, origin });
                assert.deepEqual([r.status, r.json], [403, { error: 'forbidden' }], `${method} ${path} from ${origin}`);
            }
        }
    }
    const post = (json, body) => admin(s, '/api/admin/leaders', { method: 'POST', token, json, body });
    const cases = [
        [{ username: 'ok-name', extra: 1 }, 400, { error: 'unknown_field' }],
        [{}, 400, { error: 'invalid', field: 'username' }],
        [{ username: 7 }, 400, { error: 'invalid', field: 'username' }],
        [{ username: 'No Spaces' }, 400, { error: 'invalid', field: 'username' }],
        [{ username: 'x'.repeat(33) }, 400, { error: 'invalid', field: 'username' }],
        [{ username: 'ok-name', role: 'admin' }, 400, { error: 'invalid', field: 'role' }],
        [{ username: leaders[0] }, 409, { error: 'exists', field: 'username' }],
        [undefined, 400, { error: 'bad_json' }, '{"username":"a1b","username":"a2b"}'],
    ];
    for (const [json, status, want, body] of cases) {
        const r = await post(json, body);
        assert.deepEqual([r.status, r.json], [status, want], JSON.stringify(json ?? body));
    }
    const patch = await admin(s, `/api/admin/leaders/${id}`, { method: 'PATCH', token, json: { disabled: 'yes' } });
    assert.deepEqual(patch.json, { error: 'invalid', field: 'disabled' });
    const missing = await admin(s, '/api/admin/leaders/999999/setup', { method: 'POST', token });
    assert.equal(missing.status, 404);
    // Setup requests: the Origin rule and the body's shape.
    assert.equal((await setup(s, { code: 'A'.repeat(22) }, { check: true, origin: null })).status, 403);
    assert.deepEqual((await setup(s, { code: 'A'.repeat(22), more: 1 }, { check: true })).json, { error: 'bad_request' });
    assert.deepEqual((await setup(s, '{"code":"a","code":"b"}', { check: true })).json, { error: 'bad_request' });
    // Paging: one at a time finds every account.
    const seen = [];
    for (let cursor = ''; ;) {
        const page = await admin(s, `/api/admin/leaders?limit=1&cursor=${cursor}`, { token });
        assert.ok(page.json.leaders.length <= 1);
        seen.push(...page.json.leaders.map((l) => l.username));
        if (page.json.next_cursor === null) break;
        cursor = page.json.next_cursor;
    }
    assert.ok(seen.includes(leaders[0]));
    assert.equal((await admin(s, '/api/admin/leaders?limit=101', { token })).status, 400);
});

test('an archived group leaves the default list and takes no new sessions or invites', async () => {
    from = '127.0.1.5';
    const s = await server();
    const { username: coord, token } = await coordinator(s);
    const { group } = await setUpGroup(s);
    const gid = (await ctlJson(s, ['group', 'list'])).find((g) => g.name === group).id;
    const arch = await admin(s, `/api/admin/groups/${gid}`, { method: 'PATCH', token, json: { archived: true } });
    assert.equal(arch.status, 200, arch.body);
    assert.ok(arch.json.archived_at > 0);
    const active = await admin(s, '/api/admin/groups?limit=50', { token });
    assert.ok(!active.json.groups.some((g) => g.id === gid), 'hidden from the default list');
    const archived = await admin(s, '/api/admin/groups?archived=true', { token });
    assert.ok(archived.json.groups.some((g) => g.id === gid));
    assert.equal((await admin(s, '/api/admin/groups?archived=maybe', { token })).status, 400);
    assert.ok(!(await ctlJson(s, ['group', 'list'])).some((g) => g.name === group));
    assert.ok((await ctlJson(s, ['group', 'list', '--archived'])).some((g) => g.name === group));

    const invite = await runKamratctl(['-c', s.configPath, 'invite', 'create', group]);
    assert.equal(invite.code, 1);
    assert.match(invite.stderr, /archived/);
    const session = await runKamratctl(['-c', s.configPath, 'session', 'add', group, '--start', utcStamp(120), '--duration', '60', '--tz', 'UTC']);
    assert.equal(session.code, 1);
    assert.match(session.stderr, /archived/);
    assert.ok((await ctlJson(s, ['audit', '--group', group])).length > 0, 'its audit stays');

    const twice = await runKamratctl(['-c', s.configPath, 'group', 'archive', group]);
    assert.match(twice.stderr, /archived already/);
    await ctl(s, ['group', 'unarchive', group]);
    assert.ok((await admin(s, '/api/admin/groups?limit=50', { token })).json.groups.some((g) => g.id === gid));
    await ctl(s, ['invite', 'create', group]);
    const actions = (await ctlJson(s, ['audit', '--group', group])).map((r) => [r.actor, r.action]);
    assert.ok(actions.some(([a, x]) => a === `coordinator:${coord}` && x === 'group_archive'));
    assert.ok(actions.some(([, x]) => x === 'group_unarchive'));
});
