// The association's look ([branding]) and the join page's facts about an invite
// (protocol/README.md §10): /branding.json, /branding.css and the logo are files of
// the web client; GET /j/<code>/info.json tells the group, its language and its next
// session, one answer for every invite that does not work, throttled per address,
// and the code never reaches the log.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after } from 'node:test';
import { httpRequest, makeTempDir, prepareConfig, runKamratd, sessionFixture, test } from './lib/harness.mjs';

const LOGO = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle cx="5" cy="5" r="5" fill="#1f5130"/></svg>\n';
const CONTACT = 'Kirjoita info@yhdistys.fi tai soita 010 123 4567';

function branding(dir, keys = {}) {
    const logo = path.join(dir, 'logo.svg');
    fs.writeFileSync(logo, LOGO);
    const all = { name: 'Mielenterveysyhdistys Tuki ry', logo, accent: '#1f5130', welcome: 'Tervetuloa!', contact: CONTACT, ...keys };
    return ['[branding]', ...Object.entries(all).map(([k, v]) => `${k} = ${v}`)].join('\n');
}

// One installation for the file: a group with a session in its lobby and an invite.
let fixture = null;
after(async () => (await fixture?.catch(() => null))?.server.stop());
const fx = () => (fixture ??= sessionFixture({ participants: 0, leaderEnters: false, extra: branding(makeTempDir('kamrat-brand-')) }).then((f) => {
    f.server.fixture = true; // lives for the whole file
    return f;
}));

let addr = 0;
/** GET path from a loopback address of its own (the throttle counts per address). */
function get(s, p, localAddress = `127.0.8.${++addr}`) {
    return httpRequest(s, { path: p, localAddress });
}

test('branding.json, branding.css and the logo are served as the web client\'s files', async () => {
    const { server } = await fx();
    const json = await get(server, '/branding.json');
    assert.equal(json.status, 200);
    assert.deepEqual(JSON.parse(json.body), {
        name: 'Mielenterveysyhdistys Tuki ry', welcome: 'Tervetuloa!', contact: CONTACT, logo: 'branding/logo.svg',
    });
    const css = await get(server, '/branding.css');
    assert.equal(css.status, 200);
    assert.match(css.headers['content-type'], /^text\/css/);
    assert.match(css.body, /--accent: #1f5130;/);
    const logo = await get(server, '/branding/logo.svg');
    assert.equal(logo.status, 200);
    assert.equal(logo.body, LOGO);
    // The logo, an SVG, may be opened as a page of its own: it carries the
    // page's headers; the others only a sub-resource's (tls.test.mjs).
    assert.match(logo.headers['content-security-policy'], /default-src 'none'/);
    for (const r of [json, css, logo]) {
        assert.equal(r.headers['x-content-type-options'], 'nosniff');
        assert.equal(r.headers['cache-control'], 'no-cache');
        assert.match(r.headers.etag, /^"[0-9a-f]{32}"$/);
    }
    // The page links the versioned copy, which browsers keep for good.
    const page = await get(server, '/');
    const href = /href="(\/v\/[0-9a-f]{16}\/branding\.css)"/.exec(page.body)?.[1];
    assert.ok(href, 'index.html links the versioned /branding.css');
    assert.equal((await get(server, href)).headers['cache-control'], 'max-age=31536000, immutable');
});

test('info.json: the group, its language and the next session of a live invite', async () => {
    const f = await fx();
    const r = await get(f.server, `/j/${f.code}/info.json`);
    assert.equal(r.status, 200, r.body);
    assert.match(r.headers['content-type'], /^application\/json/);
    assert.equal(r.headers['cache-control'], 'no-store');
    assert.match(r.headers['content-security-policy'], /frame-ancestors 'none'/);
    assert.equal(r.headers['referrer-policy'], 'no-referrer');
    const info = JSON.parse(r.body);
    assert.deepEqual(Object.keys(info).sort(), ['group', 'language', 'next_session', 'state']);
    assert.equal(info.group, f.group);
    assert.equal(info.language, 'fi');
    assert.equal(info.state, 'lobby', 'the fixture\'s session is in its lobby');
    assert.ok(info.next_session.starts_at > Date.now() - 60000 && info.next_session.ends_at > info.next_session.starts_at, r.body);
    const head = await httpRequest(f.server, { method: 'HEAD', path: `/j/${f.code}/info.json`, localAddress: `127.0.8.${++addr}` });
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
});

test('info.json: unknown, revoked and used-up invites get one answer', async () => {
    const f = await fx();
    const codeOf = (out) => /\/j\/([A-Za-z0-9_-]{22})/.exec(out)[1];
    const revoked = codeOf(await f.ctl(['invite', 'create', f.group]));
    const newest = JSON.parse(await f.ctl(['--json', 'invite', 'list']))[0]; // newest first
    await f.ctl(['invite', 'revoke', String(newest.id)]);
    const personal = codeOf(await f.ctl(['invite', 'create', f.group, '--personal']));
    await f.enter('Sol', { invite: personal }); // used up
    const answers = [];
    for (const code of ['A'.repeat(22), revoked, personal]) answers.push(await get(f.server, `/j/${code}/info.json`));
    for (const a of answers) {
        assert.equal(a.status, 404);
        assert.equal(a.body, '{"error":"invite_invalid"}\n');
        assert.equal(a.headers['content-length'], answers[0].headers['content-length']);
    }
    // The fixture's own invite still works.
    assert.equal((await get(f.server, `/j/${f.code}/info.json`)).status, 200);
});

test('info.json: at most 10 lookups a minute from one address, then 429', async () => {
    const f = await fx();
    const from = '127.0.9.7';
    const statuses = [];
    for (let i = 0; i < 10; i++) statuses.push((await get(f.server, `/j/${i % 2 ? f.code : 'B'.repeat(22)}/info.json`, from)).status);
    assert.deepEqual(statuses, [404, 200, 404, 200, 404, 200, 404, 200, 404, 200]);
    const over = await get(f.server, `/j/${f.code}/info.json`, from);
    assert.equal(over.status, 429);
    assert.ok(JSON.parse(over.body).retry_after_ms > 0, over.body);
    assert.match(over.headers['content-security-policy'], /default-src 'none'/);
    // Another address is not held up.
    assert.equal((await get(f.server, `/j/${f.code}/info.json`, '127.0.9.8')).status, 200);
});

test('invite codes never reach the log', async () => {
    const f = await fx();
    await get(f.server, `/j/${f.code}/info.json`);
    await get(f.server, `/j/${'C'.repeat(22)}/info.json`);
    const log = f.server.logs();
    assert.ok(!log.includes(f.code), 'the live code is in the log');
    assert.ok(!log.includes('C'.repeat(22)), 'the unknown code is in the log');
});

test('kamratd -t refuses an accent without AA contrast, a bad colour and a missing logo', async () => {
    const dir = makeTempDir('kamrat-brand-t-');
    const cases = [
        [{ accent: '#ffcc00' }, /\[branding\] accent: #ffcc00 fails WCAG AA contrast for white button text/],
        [{ accent: 'green' }, /\[branding\] accent = green: use #rrggbb/],
        [{ accent_dark: '#225e8c' }, /\[branding\] accent_dark: #225e8c fails WCAG AA contrast/],
        [{ logo: path.join(dir, 'missing.svg') }, /\[branding\] logo .*missing\.svg: No such file/],
    ];
    for (const [keys, want] of cases) {
        const cfg = await prepareConfig({ openRooms: false, extra: branding(dir, keys) });
        const r = await runKamratd(['-t', '-c', cfg.configPath]);
        assert.equal(r.code, 78, `${JSON.stringify(keys)}: ${r.stderr}`);
        assert.match(r.stderr, want);
    }
    const ok = await prepareConfig({ openRooms: false, extra: branding(dir) });
    const r = await runKamratd(['-t', '-c', ok.configPath]);
    assert.equal(r.code, 0, r.stderr);
});
