// The console's invites against the real kamratd (protocol/README.md §12,
// Invites): who may make, list and revoke them (coordinators; leaders for the
// groups they lead), the link and its QR code answered once and never again,
// the same invites in kamratctl both ways, the audit's actor, input checks and
// paging, and a participant joining with a link the API made.

import assert from 'node:assert/strict';
import {
    addGroupLeader,
    ctl,
    ctlJson,
    enter,
    expectError,
    leaderLogin,
    participantKey,
    serverFixture,
    setUpGroup,
    test,
    uid,
} from './lib/harness.mjs';
import { admin, coordinator } from './lib/console.mjs';

const server = serverFixture({
    limits: { max_conns_per_address: 100, rate_per_sec: 1000, rate_burst: 10000 },
});

const DAY = 86400000;

/** The id of group `name` as the API knows it. */
async function groupId(s, token, name) {
    const r = await admin(s, '/api/admin/invites/groups?limit=50', { token });
    assert.equal(r.status, 200, r.body);
    const g = r.json.groups.find((x) => x.name === name);
    assert.ok(g, `the API lists ${name}`);
    return g.id;
}

/** A well-formed QR code's SVG as §12 describes it: one light rect and one dark
 * path on a square viewBox, nothing else. Returns its size in modules. */
function checkSvg(svg) {
    assert.ok(svg.length < 64 * 1024, `the SVG is ${svg.length} bytes`);
    const m = svg.match(
        /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" viewBox="0 0 (\d+) (\d+)" shape-rendering="crispEdges"><rect width="(\d+)" height="(\d+)" fill="#fff"\/><path fill="#000" d="((?:M\d+ \d+h\d+v1h-\d+z)+)"\/><\/svg>$/,
    );
    assert.ok(m, `the SVG has the expected shape: ${svg.slice(0, 200)}`);
    const size = Number(m[1]);
    assert.ok([m[2], m[3], m[4]].every((v) => Number(v) === size), 'a square, all light underneath');
    // Version 1 is 21 modules, each version 4 more; with the quiet zone of 4 on
    // both sides. A link of ~60 characters at level M takes version 4 or 5.
    assert.equal((size - 8 - 21) % 4, 0, `size ${size} is a QR version's`);
    assert.ok(size >= 29 && size <= 8 + 57, `size ${size} is sane for a link`);
    for (const [, x, y, w1, w2] of m[5].matchAll(/M(\d+) (\d+)h(\d+)v1h-(\d+)z/g)) {
        assert.equal(w1, w2);
        assert.ok(Number(x) >= 4 && Number(y) >= 4 && Number(x) + Number(w1) <= size - 4 && Number(y) < size - 4,
            'the quiet zone stays light');
    }
    assert.doesNotMatch(svg, /script|style|href|on\w+=/i);
    return size;
}

test('a coordinator makes, lists and revokes invites; kamratctl sees them, and the other way round', async () => {
    const s = await server();
    const { username, token } = await coordinator(s);
    const { group } = await setUpGroup(s); // with a group invite made by kamratctl
    const id = await groupId(s, token, group);
    const made = await admin(s, `/api/admin/groups/${id}/invites`, { method: 'POST', token, json: { kind: 'personal', expires_days: 3 } });
    assert.equal(made.status, 201, made.body);
    const inv = made.json;
    assert.deepEqual(Object.keys(inv).sort(),
        ['created_at', 'created_by', 'expires_at', 'group_id', 'id', 'kind', 'link', 'qr_svg', 'revoked_at', 'state', 'used_at']);
    assert.equal(inv.kind, 'personal');
    assert.equal(inv.state, 'active');
    assert.equal(inv.group_id, id);
    assert.equal(inv.created_by, `coordinator:${username}`);
    assert.equal(inv.expires_at - inv.created_at, 3 * DAY);
    const m = inv.link.match(/^(.*)\/j\/([A-Za-z0-9_-]{22})$/);
    assert.ok(m, inv.link);
    assert.equal(m[1], s.origin);
    const code = m[2];
    checkSvg(inv.qr_svg);

    // Listed by both, without the code.
    const listed = await admin(s, `/api/admin/groups/${id}/invites`, { token });
    assert.equal(listed.status, 200, listed.body);
    assert.equal(listed.json.invites.length, 2);
    assert.deepEqual(listed.json.invites[0], Object.fromEntries(Object.entries(inv).filter(([k]) => k !== 'link' && k !== 'qr_svg')));
    assert.match(listed.json.invites[1].created_by, /^admin:/, 'kamratctl\'s invite names its maker');
    assert.ok(!listed.body.includes(code));
    const ctlList = await ctlJson(s, ['invite', 'list', group]);
    assert.deepEqual(ctlList.map((i) => [i.id, i.kind, i.state, i.created_by]),
        [[inv.id, 'personal', 'active', `coordinator:${username}`], [listed.json.invites[1].id, 'group', 'active', listed.json.invites[1].created_by]]);

    // kamratctl revokes what the API made; the API revokes what kamratctl made.
    await ctl(s, ['invite', 'revoke', String(inv.id)]);
    const after = await admin(s, `/api/admin/groups/${id}/invites`, { token });
    assert.equal(after.json.invites[0].state, 'revoked');
    const again = await admin(s, `/api/admin/groups/${id}/invites/${inv.id}`, { method: 'DELETE', token });
    assert.equal(again.status, 409, again.body);
    assert.deepEqual(again.json, { error: 'revoked' });
    const other = listed.json.invites[1].id;
    const rev = await admin(s, `/api/admin/groups/${id}/invites/${other}`, { method: 'DELETE', token });
    assert.equal(rev.status, 200, rev.body);
    assert.equal(rev.json.state, 'revoked');
    assert.ok(rev.json.revoked_at > 0);
    assert.deepEqual((await ctlJson(s, ['invite', 'list', group])).map((i) => i.state), ['revoked', 'revoked']);

    // Audited with the actor; the audit never holds the code.
    const audit = await admin(s, `/api/admin/audit?actor=coordinator:${username}`, { token });
    assert.deepEqual(audit.json.entries.map((e) => [e.action, e.target, e.group_id]),
        [['invite_revoke', `invite:${other}`, id], ['invite_create', `invite:${inv.id}`, id]]);
    assert.ok(!audit.body.includes(code));
    const ctlAudit = await ctlJson(s, ['audit', '--group', group]);
    assert.ok(!JSON.stringify(ctlAudit).includes(code));
});

test('a leader makes an invite for their group; a participant joins with its link, once', async () => {
    const s = await server();
    const { group, leaders } = await setUpGroup(s);
    const token = await leaderLogin(s, leaders[0]);
    const id = await groupId(s, token, group);
    const made = await admin(s, `/api/admin/groups/${id}/invites`, { method: 'POST', token, json: { kind: 'personal' } });
    assert.equal(made.status, 201, made.body);
    assert.equal(made.json.created_by, `leader:${leaders[0]}`);
    assert.equal(made.json.expires_at - made.json.created_at, 7 * DAY, 'kamratctl\'s default');
    const code = made.json.link.slice(-22);
    const p = await enter(s, { invite: code, name: uid('P'), key: participantKey() });
    assert.equal(p.reply.type, 'welcome', JSON.stringify(p.reply));
    const used = await admin(s, `/api/admin/groups/${id}/invites`, { token });
    assert.equal(used.json.invites[0].state, 'used');
    const second = await enter(s, { invite: code, name: uid('Q'), key: participantKey() });
    expectError(second.reply, 'invite_invalid');
    p.client.close();
    second.client.close();
});

test('a leader acts only on the groups they lead, and on any invite of those', async () => {
    const s = await server();
    const a = await setUpGroup(s);
    const b = await setUpGroup(s);
    const coLeader = uid('co').toLowerCase();
    await addGroupLeader(s, a.group, coLeader);
    const token = await leaderLogin(s, a.leaders[0]);
    const coToken = await leaderLogin(s, coLeader);
    const { token: coord } = await coordinator(s);
    const idA = await groupId(s, token, a.group);
    const idB = await groupId(s, coord, b.group);

    // Only their own groups are offered.
    const offered = await admin(s, '/api/admin/invites/groups', { token });
    assert.deepEqual(offered.json.groups.map((g) => g.name), [a.group]);

    for (const [method, path, json] of [
        ['GET', `/api/admin/groups/${idB}/invites`],
        ['POST', `/api/admin/groups/${idB}/invites`, { kind: 'group' }],
        ['DELETE', `/api/admin/groups/${idB}/invites/1`],
    ]) {
        const r = await admin(s, path, { method, token, json });
        assert.equal(r.status, 403, `${method} ${path}: ${r.body}`);
        assert.deepEqual(r.json, { error: 'forbidden' });
    }
    // An invite of group B named under group A is not found there.
    const bInvite = (await admin(s, `/api/admin/groups/${idB}/invites`, { token: coord })).json.invites[0].id;
    const cross = await admin(s, `/api/admin/groups/${idA}/invites/${bInvite}`, { method: 'DELETE', token });
    assert.equal(cross.status, 404, cross.body);
    assert.equal((await admin(s, `/api/admin/groups/${idB}/invites`, { token: coord })).json.invites[0].state, 'active');

    // A co-leader revokes the invite the other leader made; so does the leader kamratctl's.
    const made = await admin(s, `/api/admin/groups/${idA}/invites`, { method: 'POST', token, json: { kind: 'group' } });
    const rev = await admin(s, `/api/admin/groups/${idA}/invites/${made.json.id}`, { method: 'DELETE', token: coToken });
    assert.equal(rev.status, 200, rev.body);
    const ctlMade = (await admin(s, `/api/admin/groups/${idA}/invites`, { token })).json.invites.find((i) => i.created_by?.startsWith('admin:'));
    const rev2 = await admin(s, `/api/admin/groups/${idA}/invites/${ctlMade.id}`, { method: 'DELETE', token });
    assert.equal(rev2.status, 200, rev2.body);
    const rows = await ctlJson(s, ['audit', '--group', a.group]);
    assert.ok(rows.some((r) => r.action === 'invite_revoke' && r.actor === `leader:${coLeader}` && r.target === `invite:${made.json.id}`));

    // Without the group's leadership the leader's token opens nothing more.
    await ctl(s, ['group', 'leader', 'remove', a.group, a.leaders[0]]);
    const gone = await admin(s, `/api/admin/groups/${idA}/invites`, { token });
    assert.equal(gone.status, 403, gone.body);
});

test('the endpoints want a token and, on changes, the Origin', async () => {
    const s = await server();
    const { group, leaders } = await setUpGroup(s);
    const token = await leaderLogin(s, leaders[0]);
    const id = await groupId(s, token, group);
    const inv = (await admin(s, `/api/admin/groups/${id}/invites`, { token })).json.invites[0].id;
    const endpoints = [
        ['GET', '/api/admin/invites/groups'],
        ['GET', `/api/admin/groups/${id}/invites`],
        ['POST', `/api/admin/groups/${id}/invites`, { kind: 'group' }],
        ['DELETE', `/api/admin/groups/${id}/invites/${inv}`],
    ];
    for (const [method, path, json] of endpoints) {
        const none = await admin(s, path, { method, json });
        assert.equal(none.status, 401, `${method} ${path} without a token`);
        assert.deepEqual(none.json, { error: 'token_invalid' });
        if (method === 'GET') continue;
        for (const origin of [null, 'https://evil.example']) {
            const r = await admin(s, path, { method, json, token, origin });
            assert.equal(r.status, 403, `${method} ${path} from origin ${origin}: ${r.body}`);
        }
    }
    // Nothing was made or revoked by the refused requests.
    const list = await admin(s, `/api/admin/groups/${id}/invites`, { token });
    assert.deepEqual(list.json.invites.map((i) => i.state), ['active']);
    const put = await admin(s, `/api/admin/groups/${id}/invites`, { method: 'PATCH', token, json: {} });
    assert.equal(put.status, 405);
    assert.equal(put.headers.allow, 'GET, POST');
});

test('bad input gets its code; lists are paged newest first', async () => {
    const s = await server();
    const { token } = await coordinator(s);
    const { group } = await setUpGroup(s);
    const id = await groupId(s, token, group);
    const path = `/api/admin/groups/${id}/invites`;
    const cases = [
        [{ kind: 'group', extra: 1 }, 'unknown_field'],
        [{}, 'invalid', 'kind'],
        [{ kind: 'everyone' }, 'invalid', 'kind'],
        [{ kind: 7 }, 'invalid', 'kind'],
        [{ kind: 'group', expires_days: 0 }, 'invalid', 'expires_days'],
        [{ kind: 'group', expires_days: 91 }, 'invalid', 'expires_days'],
        [{ kind: 'group', expires_days: '7' }, 'invalid', 'expires_days'],
        [{ kind: 'group', expires_days: 1.5 }, 'invalid', 'expires_days'],
        [['group'], 'bad_json'],
    ];
    for (const [json, code, field] of cases) {
        const r = await admin(s, path, { method: 'POST', token, json });
        assert.equal(r.status, 400, `${JSON.stringify(json)}: ${r.body}`);
        assert.equal(r.json.error, code, JSON.stringify(json));
        if (field) assert.equal(r.json.field, field);
    }
    const dup = await admin(s, path, { method: 'POST', token, body: '{"kind":"group","kind":"personal"}' });
    assert.equal(dup.json.error, 'bad_json');
    const missing = await admin(s, '/api/admin/groups/999999/invites', { method: 'POST', token, json: { kind: 'group' } });
    assert.equal(missing.status, 404);
    assert.equal((await admin(s, '/api/admin/groups/999999/invites', { token })).status, 404);
    assert.equal((await admin(s, `${path}/999999`, { method: 'DELETE', token })).status, 404);
    for (const q of ['limit=0', 'limit=101', 'cursor=x', 'group=1']) {
        const r = await admin(s, `${path}?${q}`, { token });
        assert.equal(r.status, 400, `${q}: ${r.body}`);
        assert.equal(r.json.error, q.startsWith('group') ? 'unknown_field' : 'invalid');
    }
    // Nothing above made an invite: only kamratctl's is there. Four more, then pages of two.
    assert.equal((await admin(s, path, { token })).json.invites.length, 1);
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push((await admin(s, path, { method: 'POST', token, json: { kind: 'group', expires_days: 90 } })).json.id);
    const seen = [];
    for (let cursor = ''; ;) {
        const page = await admin(s, `${path}?limit=2&cursor=${cursor}`, { token });
        assert.equal(page.status, 200, page.body);
        assert.ok(page.json.invites.length <= 2);
        seen.push(...page.json.invites.map((i) => i.id));
        if (page.json.next_cursor === null) break;
        cursor = page.json.next_cursor;
    }
    assert.equal(seen.length, 5);
    assert.deepEqual(seen.slice(0, 4), ids.reverse(), 'newest first');
    assert.deepEqual([...seen].sort((x, y) => y - x), seen);
});
