// [store] engine = postgresql: kamratctl and kamratd (the real binaries) on one
// throw-away PostgreSQL cluster (tests/pg/pgtmp.sh, stopped and deleted when
// this file is done, or by its watchdog when this process dies). What kamratctl
// writes, kamratd serves; two kamratd on the same database both notice a
// change; an unreachable server or a failed login stops the start-up with a
// reason and never the password. Skipped without PostgreSQL's server binaries.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after } from 'node:test';
import {
    REPO, ctl, ctlJson, enter, leaderLogin, prepareConfig, runKamratctl, runKamratd, setUpGroup, startServer,
    test, within,
} from './lib/harness.mjs';

const PGTMP = path.join(REPO, 'tests/pg/pgtmp.sh');
const started = spawnSync(PGTMP, ['start', String(process.pid)], { encoding: 'utf8', timeout: 60000 });
const skip = started.status === 77 ? started.stdout.trim() : false;
if (!skip && started.status !== 0) throw new Error(`pgtmp.sh start: ${started.status} ${started.stderr}`);
const [pgDir, pgPassword, conninfo] = skip ? [] : started.stdout.trim().split('\t');
after(() => {
    if (pgDir) spawnSync(PGTMP, ['stop', pgDir], { timeout: 30000 });
});

/** A configuration whose store is the cluster, logging in with passwordFile. */
async function pgConfig(password = pgPassword, info = conninfo) {
    const cfg = await prepareConfig({ openRooms: false });
    const passwordFile = path.join(cfg.dir, 'pg-password');
    fs.writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
    fs.appendFileSync(cfg.configPath,
        `\n[store]\nengine = postgresql\npostgresql = ${info}\npostgresql_password_file = ${passwordFile}\n`);
    return cfg;
}

test('kamratctl writes PostgreSQL, kamratd serves it: login, an invite to the lobby', { skip }, async () => {
    const cfg = await pgConfig();
    const g = await setUpGroup(cfg, { group: 'Postgres-ryhmä', leaders: ['pia'] });
    assert.ok(!fs.existsSync(path.join(cfg.dataDir, 'kamrat.db')), 'no SQLite file was made');
    const check = await ctlJson(cfg, ['check']);
    assert.equal(check.database, 'ok');
    const backup = await runKamratctl(['-c', cfg.configPath, 'backup', path.join(cfg.dir, 'copy.db')]);
    assert.equal(backup.code, 1);
    assert.match(backup.stderr, /pg_dump/);
    assert.ok(!backup.stderr.includes(pgPassword), 'no password in messages');

    const s = await startServer({ config: cfg });
    const token = await leaderLogin(s, 'pia');
    const l = await enter(s, { token, session: g.session }, { label: 'pia' });
    assert.equal(l.reply.type, 'welcome', JSON.stringify(l.reply));
    assert.equal(l.reply.role, 'leader');
    const p = await enter(s, { invite: g.code, name: 'Sol' }, { label: 'Sol' });
    assert.equal(p.reply.type, 'welcome', JSON.stringify(p.reply));
    assert.equal(p.reply.state, 'lobby');
    const audit = await ctlJson(cfg, ['audit', '--group', 'Postgres-ryhmä']);
    assert.ok(audit.some((row) => row.action === 'group_add'), JSON.stringify(audit));
    assert.ok(!s.logs().includes(pgPassword), 'kamratd never logs the password');
});

test('two kamratd on one database both notice a cancelled session and a disabled leader', { skip }, async () => {
    const cfg1 = await pgConfig();
    const cfg2 = await pgConfig();
    const a = await setUpGroup(cfg1, { group: 'Peruttava', leaders: ['pekka'] });
    const b = await setUpGroup(cfg2, { group: 'Jatkuva', leaders: ['jonna'] });
    const s1 = await startServer({ config: cfg1 });
    const s2 = await startServer({ config: cfg2 });
    // The same group's lobby on both nodes; a leader of another group on each.
    const p1 = await enter(s1, { invite: a.code, name: 'Ykkönen' }, { label: 'p1' });
    const p2 = await enter(s2, { invite: a.code, name: 'Kakkonen' }, { label: 'p2' });
    assert.equal(p1.reply.state, 'lobby', JSON.stringify(p1.reply));
    assert.equal(p2.reply.state, 'lobby', JSON.stringify(p2.reply));
    const l1 = await enter(s1, { token: await leaderLogin(s1, 'jonna'), session: b.session }, { label: 'l1' });
    const l2 = await enter(s2, { token: await leaderLogin(s2, 'jonna'), session: b.session }, { label: 'l2' });
    assert.equal(l1.reply.role, 'leader', JSON.stringify(l1.reply));
    assert.equal(l2.reply.role, 'leader', JSON.stringify(l2.reply));

    await ctl(cfg1, ['session', 'cancel', String(a.session)]);
    for (const p of [p1, p2]) {
        assert.equal((await p.client.next({ type: 'state' }, 4000)).state, 'ended');
        assert.equal((await within(p.client.closed, 3000, 'cancelled session closed')).code, 4410);
    }
    await ctl(cfg2, ['leader', 'disable', 'jonna']);
    for (const l of [l1, l2]) {
        assert.equal((await within(l.client.closed, 4000, 'disabled leader cut off')).code, 4401);
    }
    const again = await enter(s2, { invite: a.code, name: 'Kolmas' }, { label: 'p3' });
    assert.equal(again.reply.code, 'no_session', 'the cancelled session is gone on every node');
});

test('kamratd does not start when PostgreSQL is unreachable or refuses the login', { skip }, async () => {
    const wrong = 'wrong-Password-31337';
    for (const [cfg, why] of [
        [await pgConfig(wrong), /password authentication failed/],
        [await pgConfig(pgPassword, 'host=127.0.0.1 port=1 dbname=kamrat user=kamrat'), /cannot connect/],
    ]) {
        const r = await runKamratd(['-c', cfg.configPath], { timeout: 20000 });
        assert.equal(r.code, 1, `exit status (stderr: ${r.stderr})`);
        assert.match(r.stderr, /start_failed/);
        assert.match(r.stderr, why);
        assert.ok(!r.stderr.includes(wrong) && !r.stderr.includes(pgPassword), 'no password in the log');
    }
});
