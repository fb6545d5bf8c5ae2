// The admin tool end to end: the real kamratctl binary on a fresh configuration
// and data directory, as an association admin runs it (README "Administration").
// Exit codes: 0 ok, 1 failure, 64 usage, 78 configuration.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
    connect, join, makeTempDir, prepareConfig, run, runKamratctl, runKamratd, startServer, test, waitFor,
} from './lib/harness.mjs';

// The tool's clock is moved (config [testing] clock_offset) to Monday 2030-03-04
// 12:00 UTC, four weeks before Finland's clocks go forward on Sunday 2030-03-31.
const NOW = Date.UTC(2030, 2, 4, 12, 0, 0) / 1000;
const PASSWORD = 'correct horse battery';

async function adminConfig() {
    const offset = NOW - Math.floor(Date.now() / 1000);
    return prepareConfig({ openRooms: false, testing: { clock_offset: offset } });
}

/** kamratctl -c cfg args...; resolves {code, signal, stdout, stderr}. */
function ctl(cfg, args, opts) {
    return runKamratctl(['-c', cfg.configPath, ...args], opts);
}

function expectExit(r, code, what) {
    assert.equal(r.code, code, `${what}: exit ${r.code} (want ${code})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
}

/** Runs a command that must succeed; returns its stdout, parsed when --json. */
async function ok(cfg, args, opts) {
    const r = await ctl(cfg, args, opts);
    expectExit(r, 0, args.join(' '));
    return args.includes('--json') ? JSON.parse(r.stdout) : r.stdout;
}

/**
 * Runs SQL on cfg's database with the sqlite3 shell: bans are made only by
 * leaders in a session, and no kamratctl command makes one.
 */
async function sql(cfg, statements) {
    const r = await run('sqlite3', ['-bail', path.join(cfg.dataDir, 'kamrat.db')], { input: statements });
    assert.equal(r.code, 0, `sqlite3: ${r.stderr}`);
}

const sha256hex = (text) => crypto.createHash('sha256').update(text).digest('hex');

/** Group name -> id. */
async function groupIds(cfg) {
    return Object.fromEntries((await ok(cfg, ['--json', 'group', 'list'])).map((g) => [g.name, g.id]));
}

test('the admin workflow: groups, leaders, schedules, sessions, invites, audit, backup', async () => {
    const cfg = await adminConfig();
    const actions = []; // what the audit log must hold, in order
    const change = async (action, args, opts) => {
        const out = await ok(cfg, args, opts);
        actions.push(action);
        return out;
    };

    // Groups.
    const agreement = path.join(cfg.dir, 'agreement.txt');
    fs.writeFileSync(agreement, 'We keep what is said here.\r\nWe listen; we do not advise.\r\nVälitämme.\r\n');
    const added = await change('group_add', ['--json', 'group', 'add', 'Evening circle', '--language', 'fi',
        '--description', 'A weekly peer group', '--max', '10']);
    assert.deepEqual(Object.keys(added).sort(), ['id', 'name']);
    assert.equal(added.name, 'Evening circle');
    const text = await change('group_add', ['group', 'add', 'Morning circle', '--language', 'sv']);
    assert.match(text, /^group \d+ "Morning circle" added\n$/);
    await change('group_edit', ['group', 'edit', 'Evening circle', '--agreement-file', agreement,
        '--history', 'whole_session', '--private-messages', 'off']);
    const list = await ok(cfg, ['--json', 'group', 'list']);
    assert.deepEqual(list.map((g) => g.name), ['Evening circle', 'Morning circle']);
    assert.match(await ok(cfg, ['group', 'list']), /^ID +NAME +LANG +MAX +HISTORY +PRIVATE +LEADERS\n/);
    let shown = await ok(cfg, ['--json', 'group', 'show', 'evening CIRCLE']);
    assert.equal(shown.agreement, 'We keep what is said here.\nWe listen; we do not advise.\nVälitämme.\n');
    assert.equal(shown.max_participants, 10);
    assert.equal(shown.history, 'whole_session');
    assert.equal(shown.private_messages, 'off');
    assert.equal(shown.language, 'fi');
    const showText = await ok(cfg, ['group', 'show', 'Evening circle']);
    assert.match(showText, /^group +Evening circle \(id \d+\)\n/);
    assert.match(showText, /\nagreement\n {2}We keep what is said here\.\n {2}We listen; we do not advise\.\n/);

    // Leaders: passwords only from stdin or the terminal.
    const leader = await change('leader_add', ['--json', 'leader', 'add', 'aino', '--password-stdin'],
        { input: `${PASSWORD}\n` });
    assert.equal(leader.username, 'aino');
    await change('leader_add', ['leader', 'add', 'bertil', '--password-stdin'], { input: `${PASSWORD} 2\n` });
    await change('leader_passwd', ['leader', 'passwd', 'aino', '--password-stdin'], { input: 'another good password\n' });
    const short = await ctl(cfg, ['leader', 'passwd', 'aino', '--password-stdin'], { input: 'short\n' });
    expectExit(short, 1, 'a short password');
    assert.match(short.stderr, /a password has 10 to 128 characters/);
    // There is no option that takes a password: each of these is a usage error.
    for (const args of [['--password', PASSWORD], [`--password=${PASSWORD}`], ['-p', PASSWORD], [PASSWORD]]) {
        expectExit(await ctl(cfg, ['leader', 'add', 'cecilia', ...args]), 64, `leader add cecilia ${args[0]}`);
    }
    await change('leader_disable', ['leader', 'disable', 'bertil']);
    const again = await ctl(cfg, ['leader', 'disable', 'bertil']);
    expectExit(again, 1, 'disabling twice');
    assert.match(again.stderr, /bertil is already disabled/);
    let leaders = await ok(cfg, ['--json', 'leader', 'list']);
    assert.deepEqual(leaders.map((l) => [l.username, l.disabled]), [['aino', false], ['bertil', true]],
        'no leader made from a password on the command line');
    await change('leader_enable', ['leader', 'enable', 'bertil']);

    // Leading groups.
    await change('group_leader_add', ['group', 'leader', 'add', 'Evening circle', 'aino']);
    await change('group_leader_add', ['group', 'leader', 'add', 'Evening circle', 'bertil']);
    await change('group_leader_remove', ['group', 'leader', 'remove', 'Evening circle', 'bertil']);
    const twice = await ctl(cfg, ['group', 'leader', 'add', 'Evening circle', 'aino']);
    expectExit(twice, 1, 'linking twice');
    assert.match(twice.stderr, /aino already leads "Evening circle"/);
    leaders = await ok(cfg, ['--json', 'leader', 'list']);
    assert.deepEqual(leaders.map((l) => [l.username, l.disabled, l.groups]),
        [['aino', false, ['Evening circle']], ['bertil', false, []]]);
    assert.match(await ok(cfg, ['leader', 'list']), /^USERNAME +STATE +CREATED +GROUPS\naino +enabled +2030-03-04 12:\d\d UTC +Evening circle\n/);

    // A weekly schedule across the change to summer time: 18:00 in Helsinki is
    // 16:00 UTC before 2030-03-31 and 15:00 UTC after.
    const sched = await change('schedule_add', ['--json', 'schedule', 'add', 'Evening circle', '--weekday', 'mon',
        '--time', '18:00', '--duration', '90', '--tz', 'Europe/Helsinki', '--from', '2030-03-04']);
    assert.equal(sched.weekday, 'mon');
    assert.equal(sched.time, '18:00');
    assert.equal(sched.tz, 'Europe/Helsinki');
    assert.equal(sched.sessions_added, 8);
    const { sessions_added: _, ...listedSchedule } = sched;
    assert.deepEqual(await ok(cfg, ['--json', 'schedule', 'list']), [listedSchedule]);
    const planned = await ok(cfg, ['--json', 'session', 'list', 'Evening circle']);
    const byDay = Object.fromEntries(planned.map((s) => [s.starts_at.slice(0, 10), s]));
    assert.equal(byDay['2030-03-25'].starts_at, '2030-03-25T16:00:00Z');
    assert.equal(byDay['2030-03-25'].local_start, '2030-03-25 18:00 EET');
    assert.equal(byDay['2030-04-01'].starts_at, '2030-04-01T15:00:00Z');
    assert.equal(byDay['2030-04-01'].local_start, '2030-04-01 18:00 EEST');
    assert.equal(byDay['2030-04-01'].schedule_id, sched.id);
    assert.ok(planned.every((s) => s.state === 'scheduled' && s.group === 'Evening circle'));

    // A one-off session, then cancelled.
    const oneOff = await change('session_add', ['--json', 'session', 'add', 'Morning circle',
        '--start', '2030-04-02 09:30', '--duration', '60', '--tz', 'Europe/Helsinki', '--lobby', '10']);
    assert.equal(oneOff.starts_at, '2030-04-02T06:30:00Z');
    assert.equal(oneOff.ends_at, '2030-04-02T07:30:00Z');
    assert.equal(oneOff.schedule_id, null);
    assert.match(await ok(cfg, ['session', 'list', 'Morning circle']),
        /^ID +GROUP +STATE +LOCAL START +ZONE +UTC +MIN\n\d+ +Morning circle +scheduled +2030-04-02 09:30 EEST +Europe\/Helsinki +2030-04-02 06:30 UTC +60\n$/);
    const past = await ctl(cfg, ['session', 'add', 'Morning circle', '--start', '2030-03-01 09:30', '--duration', '60']);
    expectExit(past, 64, 'a session in the past');
    await change('session_cancel', ['session', 'cancel', String(oneOff.id)]);
    const sessions = await ok(cfg, ['--json', 'session', 'list']);
    assert.equal(sessions.find((s) => s.id === oneOff.id).state, 'cancelled');
    assert.equal(sessions.length, 9);

    // Invites: the link is printed once; lists and the audit log never hold the code.
    const link = await change('invite_create', ['invite', 'create', 'Evening circle', '--expires', '14']);
    const m = /^(https:\/\/[^/]+)\/j\/([A-Za-z0-9_-]{22})\n$/.exec(link);
    assert.ok(m, `invite link: ${JSON.stringify(link)}`);
    assert.equal(m[1], cfg.origin);
    const code = m[2];
    const personal = await change('invite_create', ['--json', 'invite', 'create', 'Evening circle', '--personal']);
    assert.match(personal.link, new RegExp(`^${cfg.origin}/j/[A-Za-z0-9_-]{22}$`));
    assert.equal(personal.kind, 'personal');
    assert.match(personal.expires_at, /^2030-03-11T12:0\d:\d\dZ$/, 'a week from now');
    let invites = await ok(cfg, ['--json', 'invite', 'list', 'Evening circle']);
    assert.deepEqual(invites.map((i) => [i.kind, i.state]), [['personal', 'active'], ['group', 'active']]);
    const inviteText = await ok(cfg, ['invite', 'list']);
    assert.match(inviteText, /^ID +GROUP +KIND +STATE +CREATED +EXPIRES\n/);
    for (const out of [inviteText, JSON.stringify(invites)]) {
        assert.ok(!out.includes(code) && !out.includes(personal.link.slice(-22)), 'an invite list shows a code');
    }
    await change('invite_revoke', ['invite', 'revoke', String(personal.id)]);
    const revoked = await ctl(cfg, ['invite', 'revoke', String(personal.id)]);
    expectExit(revoked, 1, 'revoking twice');
    invites = await ok(cfg, ['--json', 'invite', 'list']);
    assert.deepEqual(invites.map((i) => i.state), ['revoked', 'active']);

    // Backup, and the copy is a sound database.
    const copy = path.join(cfg.dir, 'backup.db');
    assert.equal(await change('backup', ['backup', copy]), `backup written to ${copy} (quick_check ok)\n`);
    const over = await ctl(cfg, ['backup', copy]);
    expectExit(over, 1, 'a backup over an existing file');
    assert.match(over.stderr, /exists; a backup never overwrites a file/);
    const cfg2 = await prepareConfig({ openRooms: false });
    fs.copyFileSync(copy, path.join(cfg2.dataDir, 'kamrat.db'));
    assert.match(await ok(cfg2, ['check']), /\ndatabase: .*kamrat\.db ok \(schema version \d+\)\n$/);
    const restored = await ok(cfg2, ['--json', 'group', 'list']);
    assert.deepEqual(restored.map((g) => g.name), ['Evening circle', 'Morning circle']);
    assert.deepEqual((await ok(cfg, ['--json', 'check'])).database, 'ok');

    // The audit log: one row per change, in order, as the admin who ran it.
    const audit = await ok(cfg, ['--json', 'audit']);
    assert.deepEqual(audit.map((a) => a.action), actions);
    assert.ok(audit.every((a) => /^admin:.+/.test(a.actor)), 'audit actors');
    assert.ok(!JSON.stringify(audit).includes(code), 'the audit log holds an invite code');
    const evening = await ok(cfg, ['--json', 'audit', '--group', 'Evening circle']);
    assert.ok(evening.length > 0 && evening.every((a) => a.group === 'Evening circle'));
    assert.match(await ok(cfg, ['audit', '--limit', '1']), /^TIME +ACTOR +ACTION +TARGET +GROUP +SESSION\n.* backup +\S*backup\.db +- +-\n$/);

    shown = await ok(cfg, ['--json', 'group', 'show', 'Evening circle']);
    assert.deepEqual(shown.leaders, [{ username: 'aino', disabled: false }]);
    assert.equal(shown.next_sessions.length, 5);
    assert.deepEqual(shown.invites, { active: 1, used: 0, expired: 0, revoked: 1 });
});

test('errors: unknown names 1, usage 64, configuration 78', async () => {
    const cfg = await adminConfig();
    const cases = [
        [['group', 'show', 'nowhere'], 1, /^kamratctl: group show: no group named "nowhere" \(see kamratctl group list\)\n$/],
        [['session', 'add', 'nowhere', '--start', '2030-04-02 09:30', '--duration', '60'], 1, /no group named "nowhere"/],
        [['leader', 'passwd', 'nobody', '--password-stdin'], 1, /no leader named "nobody"/],
        [['session', 'cancel', '999'], 1, /no session 999/],
        [['group', 'list', '--bogus'], 64, /^kamratctl: group list: unknown option --bogus \(try kamratctl group list --help\)\n$/],
        [['group', 'add', 'X'], 64, /--language is required/],
        [['group', 'add', 'X', '--language', 'de'], 64, /--language is fi, sv or en/],
        [['group', 'add', 'X', '--language'], 64, /option --language needs a value/],
        [['schedule', 'add', 'X', '--weekday', 'someday', '--time', '18:00', '--duration', '60'], 64, /--weekday is mon/],
        [['schedule', 'add', 'X', '--weekday', 'mon', '--time', '18:00', '--duration', '60', '--tz', 'Mars/Olympus'], 64, /is not a time zone name/],
        [['invite', 'revoke', 'one'], 64, /ID is an invite number/],
        [['group', 'show'], 64, /missing argument/],
        [['group', 'show', 'a', 'b'], 64, /too many arguments/],
        [['group'], 64, /^kamratctl: group needs a command\nusage: kamratctl group COMMAND/],
        [['group', 'frobnicate'], 64, /^kamratctl: unknown command group frobnicate\n/],
        [['frobnicate'], 64, /^kamratctl: unknown command frobnicate \(try --help\)\n$/],
        [[], 64, /^kamratctl: missing command \(try --help\)\n$/],
        [['--bogus', 'group', 'list'], 64, /^kamratctl: unknown option --bogus \(try --help\)\n$/],
        [['audit', '--since', '2030-02-30'], 64, /--since is a date YYYY-MM-DD \(UTC\)/],
        [['ban', 'lift', 'one'], 64, /ID is a ban number \(see kamratctl ban list\)/],
        [['ban', 'lift', '999'], 1, /^kamratctl: ban lift: no ban 999\n$/],
        [['ban', 'list', '--group'], 64, /option --group needs a value/],
        [['ban', 'list', '--group', 'nowhere'], 1, /no group named "nowhere"/],
        [['ban', 'list', 'Evening circle'], 64, /too many arguments/],
    ];
    for (const [args, code, stderr] of cases) {
        const r = await ctl(cfg, args);
        expectExit(r, code, args.join(' '));
        assert.match(r.stderr, stderr, `stderr of ${args.join(' ')}`);
        assert.equal(r.stdout, '', `stdout of ${args.join(' ')}`);
    }
    const missing = await runKamratctl(['-c', path.join(cfg.dir, 'missing.conf'), 'group', 'list']);
    expectExit(missing, 78, 'a missing configuration file');
    assert.match(missing.stderr, /missing\.conf/);
    const noGroups = await ok(cfg, ['--json', 'audit']);
    assert.deepEqual(noGroups, [], 'failed commands are not audited');
});

test('bans: listed newest first, lifted once, each lift audited; never a key digest shown', async () => {
    const cfg = await adminConfig();
    await ok(cfg, ['group', 'add', 'Evening circle', '--language', 'fi']);
    await ok(cfg, ['group', 'add', 'Morning circle', '--language', 'sv']);
    const personal = await ok(cfg, ['--json', 'invite', 'create', 'Evening circle', '--personal']);
    const ids = await groupIds(cfg);
    const digest = sha256hex('k'.repeat(43));
    await sql(cfg, `
        INSERT INTO bans(group_id, invite_id, name, created_at, created_by)
            VALUES(${ids['Evening circle']}, ${personal.id}, 'Myrsky', ${NOW - 7200}, 'leader:aino');
        INSERT INTO bans(group_id, participant_key_hash, name, created_at, created_by)
            VALUES(${ids['Evening circle']}, X'${digest}', 'Tuuli ☂', ${NOW - 3600}, 'leader:aino');
        INSERT INTO bans(group_id, invite_id, participant_key_hash, name, created_at, created_by)
            VALUES(${ids['Morning circle']}, NULL, X'${digest}', 'Sade', ${NOW - 60}, 'leader:bertil');`);

    const listed = await ok(cfg, ['--json', 'ban', 'list']);
    assert.deepEqual(listed.map((b) => [b.group, b.name, b.bound_to, b.created_by, b.lifted_at]), [
        ['Morning circle', 'Sade', 'key', 'leader:bertil', null],
        ['Evening circle', 'Tuuli ☂', 'key', 'leader:aino', null],
        ['Evening circle', 'Myrsky', 'invite', 'leader:aino', null],
    ]);
    assert.equal(listed[2].created_at, '2030-03-04T10:00:00Z');
    assert.ok(!JSON.stringify(listed).toLowerCase().includes(digest), 'a ban list shows a key digest');
    assert.match(await ok(cfg, ['ban', 'list', '--group', 'evening CIRCLE']),
        /^ID +GROUP +NAME +BOUND TO +CREATED +BY +LIFTED\n\d+ +Evening circle +Tuuli ☂ +key +2030-03-04 11:00 UTC +leader:aino +-\n\d+ +Evening circle +Myrsky +invite +2030-03-04 10:00 UTC +leader:aino +-\n$/);

    const tuuli = listed[1].id;
    assert.equal(await ok(cfg, ['ban', 'lift', String(tuuli)]), `ban ${tuuli} lifted\n`);
    const twice = await ctl(cfg, ['ban', 'lift', String(tuuli)]);
    expectExit(twice, 1, 'lifting twice');
    assert.equal(twice.stderr, `kamratctl: ban lift: ban ${tuuli} is lifted already\n`);
    assert.deepEqual(await ok(cfg, ['--json', 'ban', 'lift', String(listed[0].id)]), { lifted: listed[0].id });

    assert.deepEqual((await ok(cfg, ['--json', 'ban', 'list'])).map((b) => b.name), ['Myrsky']);
    const all = await ok(cfg, ['--json', 'ban', 'list', '--group', 'Evening circle', '--all']);
    assert.deepEqual(all.map((b) => b.name), ['Tuuli ☂', 'Myrsky']);
    assert.match(all[0].lifted_at, /^2030-03-04T12:0\d:\d\dZ$/);
    assert.match(await ok(cfg, ['ban', 'list', '--all']), /\n\d+ +Evening circle +Tuuli ☂ +key +2030-03-04 11:00 UTC +leader:aino +2030-03-04 12:0\d UTC\n/);

    // Each lift is one audit row as the admin, in the ban's group; failed
    // lifts write none.
    const audit = await ok(cfg, ['--json', 'audit']);
    const unbans = audit.filter((a) => a.action === 'unban');
    assert.deepEqual(unbans.map((a) => [a.target, a.group]),
        [[`ban:${tuuli}`, 'Evening circle'], [`ban:${listed[0].id}`, 'Morning circle']]);
    assert.ok(unbans.every((a) => /^admin:.+/.test(a.actor) && a.session_id === null));
    assert.ok(!JSON.stringify(audit).includes('Tuuli'), 'the audit log holds a pseudonym');
});

/** "YYYY-MM-DD HH:MM" in UTC, minutes from now (rounded down). */
function utcStamp(minutesFromNow) {
    return new Date(Date.now() + minutesFromNow * 60000).toISOString().slice(0, 16).replace('T', ' ');
}

test('kamratd: a ban by participant key keeps its holder out until kamratctl ban lift', async () => {
    const cfg = await prepareConfig({ openRooms: false });
    await ok(cfg, ['group', 'add', 'Circle', '--language', 'fi']);
    await ok(cfg, ['session', 'add', 'Circle', '--start', utcStamp(5), '--duration', '60', '--tz', 'UTC', '--lobby', '15']);
    const code = /\/j\/([A-Za-z0-9_-]{22})\n$/.exec(await ok(cfg, ['invite', 'create', 'Circle']))[1];
    const key = crypto.randomBytes(32).toString('base64url');
    const { Circle: gid } = await groupIds(cfg);
    await sql(cfg, `INSERT INTO bans(group_id, participant_key_hash, name, created_at, created_by)
        VALUES(${gid}, X'${sha256hex(key)}', 'Myrsky', 1, 'leader:aino');`);
    const [ban] = await ok(cfg, ['--json', 'ban', 'list']);
    const s = await startServer({ config: cfg });

    const enter = async (name, fields) => {
        const client = await connect(s, { label: name });
        client.send({ type: 'hello', id: 'h', invite: code, name, ...fields });
        const reply = await client.nextReply(5000);
        await client.close();
        return reply;
    };
    const refused = await enter('Myrsky', { key });
    assert.equal(refused.type, 'error', JSON.stringify(refused));
    assert.equal(refused.code, 'banned');
    assert.equal(refused.ref, 'h');
    assert.equal((await enter('Sol', { key: crypto.randomBytes(32).toString('base64url') })).type, 'welcome',
        'another key comes in');
    assert.equal((await enter('Kuu', {})).type, 'welcome', 'no key comes in');

    await ok(cfg, ['ban', 'lift', String(ban.id)]);
    const back = await enter('Myrsky', { key });
    assert.equal(back.type, 'welcome', `after the lift: ${JSON.stringify(back)}`);
    await s.stop();
});

test('[safety] crisis resources in every welcome, reread on SIGHUP; a bad file keeps the old ones', async () => {
    const dir = makeTempDir();
    const crisisFile = path.join(dir, 'crisis.json');
    const wordsFile = path.join(dir, 'risk-words.json');
    const first = { fi: [{ name: 'Hätänumero', phone: '112' }], en: [{ name: 'Emergency number', phone: '112' }] };
    const second = { ...first, sv: [{ name: 'MIELI Kristelefon på svenska', phone: '09 2525 0112', url: 'https://mieli.fi/sv' }] };
    fs.writeFileSync(crisisFile, JSON.stringify(first));
    fs.writeFileSync(wordsFile, JSON.stringify({ fi: ['kuolla'] }));
    const cfg = await prepareConfig({ safety: { crisis_file: crisisFile, risk_words_file: wordsFile } });
    assert.match(await ok(cfg, ['check']), /^configuration: .* ok\n/);
    const s = await startServer({ config: cfg });
    const crisisNow = async (name) => {
        const { client, welcome } = await join(s, 'safety', name);
        await client.close();
        return welcome.crisis;
    };
    assert.deepEqual(await crisisNow('A'), first);

    fs.writeFileSync(crisisFile, JSON.stringify(second));
    s.signal('SIGHUP');
    await waitFor(() => s.logs().includes('safety_reloaded'), { desc: 'safety_reloaded in the log' });
    assert.deepEqual(await crisisNow('B'), second);

    // A mistake on SIGHUP is logged, with file and entry; the rooms keep the
    // resources they had, and kamratd runs on.
    fs.writeFileSync(crisisFile, JSON.stringify({ fi: [{ name: 'Kriisilinja', url: 'http://example.fi' }] }));
    s.signal('SIGHUP');
    await waitFor(() => s.logs().includes('safety_reload_failed'), { desc: 'safety_reload_failed in the log' });
    assert.match(s.logs(), /safety_reload_failed reason="crisis_file \S+crisis\.json: fi\[0\]: url must start with https:\/\//);
    assert.deepEqual(await crisisNow('C'), second);
    assert.ok(s.alive());
    await s.stop();

    // The same file stops a start, kamratd -t and kamratctl check: 78, with the line.
    const line = cfg.configText.split('\n').findIndex((l) => l.startsWith('crisis_file')) + 1;
    const want = new RegExp(`kamrat\\.conf:${line}: \\[safety\\] crisis_file \\S+crisis\\.json: fi\\[0\\]: url must start with https://`);
    for (const r of [await runKamratd(['-t', '-c', cfg.configPath]), await ctl(cfg, ['check'])]) {
        expectExit(r, 78, 'a bad crisis file');
        assert.match(r.stderr, want);
    }
    fs.writeFileSync(wordsFile, '{"fi": ["kuolla"], "fi": []}');
    fs.writeFileSync(crisisFile, '{}');
    const dup = await runKamratd(['-t', '-c', cfg.configPath]);
    expectExit(dup, 78, 'a words file with a key twice');
    assert.match(dup.stderr, /\[safety\] risk_words_file \S+risk-words\.json: line 1: duplicate object key/);
});

test('--help at every level exits 0 and prints on stdout', async () => {
    const cfg = await adminConfig();
    const top = await ok(cfg, ['--help']);
    assert.match(top, /^usage: kamratctl \[-c FILE\] \[--json\] COMMAND \[ARGS\]\n/);
    assert.equal(await ok(cfg, ['-h']), top);
    assert.equal(await ok(cfg, ['help']), top);
    const commands = top
        .split('commands:\n')[1]
        .split('\n')
        .map((l) => /^ {2}(\S.*?) {2,}\S/.exec(l)?.[1])
        .filter(Boolean);
    assert.ok(commands.length >= 20, `commands in --help: ${commands}`);
    const prefixes = new Set();
    for (const c of commands) {
        const words = c.split(' ');
        for (let i = 1; i < words.length; i++) prefixes.add(words.slice(0, i).join(' '));
        const out = await ok(cfg, [...words, '--help']);
        assert.ok(out.startsWith(`usage: kamratctl ${c}`), `${c} --help: ${out}`);
    }
    for (const p of prefixes) {
        const out = await ok(cfg, [...p.split(' '), '--help']);
        assert.ok(out.startsWith(`usage: kamratctl ${p} COMMAND ...\n`), `${p} --help: ${out}`);
    }
    assert.deepEqual([...prefixes].sort(), ['ban', 'coordinator', 'group', 'group leader', 'invite', 'leader', 'schedule', 'session']);
    assert.ok(!fs.existsSync(path.join(cfg.dataDir, 'kamrat.db')), '--help opened the database');
});

test('crash safety: four writers at once, one killed with SIGKILL mid-way', async () => {
    const cfg = await adminConfig();
    const PER_LOOP = 20;
    const KILL_AT = 10;
    const added = [];
    const loop = async (k) => {
        for (let i = 0; i < PER_LOOP; i++) {
            const name = `Group ${k}-${i}`;
            const victim = k === 0 && i === KILL_AT;
            // The victim gets a SIGKILL a few milliseconds after it starts,
            // somewhere between opening the database and committing.
            const r = await ctl(cfg, ['group', 'add', name, '--language', 'en'],
                { timeout: victim ? 2 + Math.floor(Math.random() * 20) : 30000 });
            if (victim) return;
            expectExit(r, 0, `group add ${name}`);
            added.push(name);
        }
    };
    await Promise.all([0, 1, 2, 3].map(loop));
    assert.equal(added.length, 3 * PER_LOOP + KILL_AT);
    const check = await ok(cfg, ['check']);
    assert.match(check, /\ndatabase: .* ok \(schema version \d+\)\n$/);
    const listed = new Set((await ok(cfg, ['--json', 'group', 'list'])).map((g) => g.name));
    for (const name of added) assert.ok(listed.has(name), `${name} was added but is not listed`);
    assert.ok(listed.size <= added.length + 1);
});
