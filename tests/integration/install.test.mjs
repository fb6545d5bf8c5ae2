// The installation as docs/admin.md describes it, run against `meson install
// --destdir` of the build under test: the INSTALLED kamratd, kamratctl, web
// client, man pages, example files, systemd units, sysusers file, backup script
// and certbot deploy hook.
//
//   (a) kamratd -t and a real start on loopback with a configuration made from
//       the installed kamrat.conf.example as the guide says (origin, port, TLS
//       paths, [safety] files); /healthz and the web client over TLS; the
//       guide's kamratctl commands; SIGHUP; SIGTERM.
//   (b) systemd-analyze verify of the units (paths rewritten into the destdir)
//       and systemd-analyze security --offline: the exposure score is printed
//       and must stay <= 2.0; systemd-sysusers --root on the sysusers file.
//   (c) backup / wipe / restore: groups, schedules, sessions, leaders, invites
//       and bans come back; a database from a newer kamrat is refused.
//   (d) the certbot deploy hook with RENEWED_LINEAGE and KAMRAT_TLS_DIR in
//       temporary directories; `systemctl` is a stub on PATH that does what
//       `systemctl reload kamrat` does (SIGHUP to the server), so the running
//       server is seen to hand out the new certificate.
//   (e) groff -ww on every man page: no warnings.
//
// The build directory is found from KAMRATD (meson sets it) or
// KAMRAT_BUILD_DIR; its install plan is read with `meson introspect`.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, test } from 'node:test';
import {
    REPO, KAMRATD, freePort, httpRequest, makeCerts, makeTempDir, run, spawnProgram, waitFor,
} from './lib/harness.mjs';

const PASSWORD = 'correct horse battery';

function findBuildDir() {
    const candidates = [process.env.KAMRAT_BUILD_DIR, path.dirname(path.dirname(KAMRATD))];
    for (const c of candidates) {
        if (c && fs.existsSync(path.join(c, 'meson-info', 'meson-info.json'))) return path.resolve(c);
    }
    throw new Error(`no meson build directory found (KAMRATD=${KAMRATD}); set KAMRAT_BUILD_DIR`);
}

function which(cmd) {
    for (const dir of (process.env.PATH ?? '').split(':')) {
        const p = path.join(dir, cmd);
        try {
            fs.accessSync(p, fs.constants.X_OK);
            return p;
        } catch {
            // not here
        }
    }
    return null;
}

async function must(cmd, args, opts = {}) {
    const r = await run(cmd, args, { timeout: 60000, ...opts });
    assert.equal(r.code, 0, `${path.basename(cmd)} ${args.join(' ')}: exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    return r;
}

// ---------------------------------------------------------------------------
// The installation, shared by every test of this file.

const inst = {};

before(async () => {
    inst.build = findBuildDir();
    const opts = JSON.parse((await must('meson', ['introspect', inst.build, '--buildoptions'])).stdout);
    const opt = Object.fromEntries(opts.map((o) => [o.name, o.value]));
    inst.dest = makeTempDir('kamrat-install-');
    await must('meson', ['install', '-C', inst.build, '--destdir', inst.dest, '--no-rebuild', '--quiet']);
    const under = (p) => path.join(inst.dest, p);
    const prefix = opt.prefix;
    inst.prefix = prefix;
    inst.bin = under(path.join(prefix, opt.bindir));
    inst.share = under(path.join(prefix, opt.datadir));
    inst.man = under(path.join(prefix, opt.mandir));
    inst.kamratd = path.join(inst.bin, 'kamratd');
    inst.kamratctl = path.join(inst.bin, 'kamratctl');
    inst.web = path.join(inst.share, 'kamrat', 'web');
    inst.doc = path.join(inst.share, 'doc', 'kamrat');
    inst.units = under(path.join(prefix, 'lib', 'systemd', 'system'));
    inst.sysusers = under(path.join(prefix, 'lib', 'sysusers.d', 'kamrat.conf'));
    inst.hook = path.join(inst.share, 'kamrat', 'kamrat-certbot-deploy');
    inst.backup = path.join(inst.share, 'kamrat', 'kamrat-backup');
    // What the guide sets up by hand: /etc/kamrat with the TLS pair and the
    // [safety] files, /var/lib/kamrat, /var/backups/kamrat, all in the destdir.
    inst.etc = under('etc/kamrat');
    inst.tlsDir = path.join(inst.etc, 'tls');
    inst.data = under('var/lib/kamrat');
    inst.backups = under('var/backups/kamrat');
    for (const d of [inst.tlsDir, inst.data, inst.backups]) fs.mkdirSync(d, { recursive: true, mode: 0o700 });
    const certs = await makeCerts(path.join(inst.dest, 'certs'));
    inst.ca = certs.ca;
    fs.copyFileSync(path.join(certs.dir, 'server.pem'), path.join(inst.tlsDir, 'fullchain.pem'));
    fs.copyFileSync(path.join(certs.dir, 'server.key'), path.join(inst.tlsDir, 'privkey.pem'));
    fs.copyFileSync(path.join(inst.doc, 'crisis.example.json'), path.join(inst.etc, 'crisis.json'));
    fs.copyFileSync(path.join(inst.doc, 'risk-words.example.json'), path.join(inst.etc, 'risk-words.json'));
    inst.port = await freePort();
    inst.origin = `https://localhost:${inst.port}`;
    inst.conf = path.join(inst.etc, 'kamrat.conf');
    fs.writeFileSync(inst.conf, adaptExample(fs.readFileSync(path.join(inst.doc, 'kamrat.conf.example'), 'utf8')));
});

/**
 * The installed example, edited as docs/admin.md says (origin, port 443, the
 * TLS paths, the [safety] files), with the temporary prefix and a loopback
 * port in place of the real ones.
 */
function adaptExample(text) {
    const edits = [
        ['#address = *', 'address = 127.0.0.1'],
        ['#port = 8443', `port = ${inst.port}`],
        ['origin = https://chat.example.org', `origin = ${inst.origin}`],
        ['#web_root = /usr/local/share/kamrat/web', `web_root = ${inst.web}`],
        ['#data_dir = /var/lib/kamrat', `data_dir = ${inst.data}`],
        ['cert = /etc/kamrat/tls/fullchain.pem', `cert = ${path.join(inst.tlsDir, 'fullchain.pem')}`],
        ['key = /etc/kamrat/tls/privkey.pem', `key = ${path.join(inst.tlsDir, 'privkey.pem')}`],
        ['#crisis_file = /etc/kamrat/crisis.json', `crisis_file = ${path.join(inst.etc, 'crisis.json')}`],
        ['#risk_words_file = /etc/kamrat/risk-words.json', `risk_words_file = ${path.join(inst.etc, 'risk-words.json')}`],
    ];
    for (const [from, to] of edits) {
        const lines = text.split('\n');
        const i = lines.indexOf(from);
        assert.notEqual(i, -1, `kamrat.conf.example has no line "${from}" (docs/admin.md tells admins to edit it)`);
        lines[i] = to;
        text = lines.join('\n');
    }
    return text;
}

const ctlEnv = () => ({ ...process.env, KAMRATCTL: inst.kamratctl, KAMRATD: inst.kamratd });

/** The installed kamratctl with the installed configuration. */
async function ctl(args, opts = {}) {
    const r = await run(inst.kamratctl, ['-c', inst.conf, ...args], { timeout: 30000, ...opts });
    assert.equal(r.code, opts.code ?? 0, `kamratctl ${args.join(' ')}: exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    return args.includes('--json') && r.code === 0 ? JSON.parse(r.stdout) : r;
}

let server = null;
const started = new Set(); // every server handle not yet stopped

/** Starts the installed kamratd (stopping one left by a failed test) and waits for /healthz. */
async function startInstalled() {
    for (const s of started) await s.stop();
    const p = spawnProgram(inst.kamratd, ['-c', inst.conf]);
    let exited = null;
    p.done.then((r) => (exited = r), () => {});
    let lastErr = null;
    await waitFor(
        async () => {
            if (exited) throw new Error(`installed kamratd exited: ${exited.code}\n${exited.stderr}`);
            try {
                const r = await get('/healthz');
                return r.status === 200;
            } catch (e) {
                lastErr = e;
                return false;
            }
        },
        { timeout: 10000, desc: `installed kamratd on port ${inst.port} (${lastErr?.message})` },
    );
    server = {
        pid: p.pid,
        async stop() {
            p.kill('SIGTERM');
            const timer = setTimeout(() => p.kill('SIGKILL'), 8000);
            const r = await p.done;
            clearTimeout(timer);
            started.delete(this);
            if (server === this) server = null;
            return r;
        },
    };
    started.add(server);
    return server;
}

after(async () => {
    for (const s of started) await s.stop();
});

function get(p, opts = {}) {
    return httpRequest({ port: inst.port, ca: inst.ca }, { path: p, ...opts });
}

/** The SHA-256 fingerprint of the certificate the server hands out now. */
function servedFingerprint() {
    return new Promise((resolve, reject) => {
        const s = tls.connect(
            { host: '127.0.0.1', port: inst.port, servername: 'localhost', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] },
            () => {
                const fp = s.getPeerCertificate().fingerprint256;
                s.end();
                resolve(fp);
            },
        );
        s.on('error', reject);
    });
}

function pemFingerprint(file) {
    return new crypto.X509Certificate(fs.readFileSync(file)).fingerprint256;
}

// ---------------------------------------------------------------------------

test('(a) meson install puts every file where the guide says', () => {
    const files = [
        [inst.kamratd, 0o111], [inst.kamratctl, 0o111], [inst.hook, 0o111], [inst.backup, 0o111],
        [path.join(inst.web, 'index.html')],
        [path.join(inst.man, 'man8', 'kamratd.8')], [path.join(inst.man, 'man8', 'kamratctl.8')],
        [path.join(inst.man, 'man5', 'kamrat.conf.5')],
        [path.join(inst.doc, 'kamrat.conf.example')], [path.join(inst.doc, 'crisis.example.json')],
        [path.join(inst.doc, 'risk-words.example.json')], [path.join(inst.doc, 'admin.md')],
        [path.join(inst.units, 'kamrat.service')], [path.join(inst.units, 'kamrat-backup.service')],
        [path.join(inst.units, 'kamrat-backup.timer')], [inst.sysusers],
    ];
    for (const [f, mode] of files) {
        assert.ok(fs.existsSync(f), `${path.relative(inst.dest, f)} is not installed`);
        if (mode) assert.equal(fs.statSync(f).mode & mode, mode, `${f} is not executable`);
    }
    assert.ok(!fs.existsSync(path.join(inst.web, 'README.md')), 'web/README.md is installed');
    const unit = fs.readFileSync(path.join(inst.units, 'kamrat.service'), 'utf8');
    assert.match(unit, new RegExp(`^ExecStart=${path.join(inst.prefix, 'bin')}/kamratd -c /etc/kamrat/kamrat.conf$`, 'm'));
    assert.doesNotMatch(fs.readFileSync(inst.hook, 'utf8'), /@[A-Z]+@/);
    assert.doesNotMatch(fs.readFileSync(inst.backup, 'utf8'), /@[A-Z]+@/);
});

test('(a) the installed man pages are found by man', { skip: !which('man') && 'no man' }, async () => {
    const env = { ...process.env, MANPATH: inst.man };
    for (const [sec, page] of [['8', 'kamratd'], ['8', 'kamratctl'], ['5', 'kamrat.conf']]) {
        const r = await must('man', ['-w', sec, page], { env });
        assert.equal(r.stdout.trim(), path.join(inst.man, `man${sec}`, `${page}.${sec}`));
        const shown = await must('man', ['-P', 'cat', sec, page], { env: { ...env, MANWIDTH: '80' } });
        assert.match(shown.stdout, new RegExp(page.toUpperCase().replace('.', '\\.')));
    }
});

test('(a) installed kamratd: -t, start, /healthz and the web client over TLS, SIGHUP, SIGTERM', async () => {
    const v = await must(inst.kamratd, ['-V']);
    assert.match(v.stdout, /^kamratd \d+\.\d+\.\d+/);
    const t = await must(inst.kamratd, ['-t', '-c', inst.conf]);
    assert.match(t.stdout, /configuration ok/);

    await startInstalled();
    const h = await get('/healthz');
    assert.equal(JSON.parse(h.body).status, 'ok');
    const page = await get('/');
    assert.equal(page.status, 200);
    // The installed page, with its links pointing into the versioned tree
    // (protocol/README.md §10, /v/<version>/).
    assert.equal(page.body.replace(/\/v\/[0-9a-f]{16}\//g, '/'), fs.readFileSync(path.join(inst.web, 'index.html'), 'utf8'));
    assert.match(page.headers['strict-transport-security'] ?? '', /max-age/);

    // systemctl kill -s HUP kamrat: the server stays.
    process.kill(server.pid, 'SIGHUP');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await get('/healthz')).status, 200);
    const r = await server.stop();
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /info listening address=127\.0\.0\.1 port=\d+ tls=yes/);
    assert.match(r.stderr, /info tls_reloaded/);
    assert.match(r.stderr, /info safety_reloaded/);
    assert.match(r.stderr, /info shutdown connections_left=0/);
});

/** The guide's first steps: a group, a leader, a schedule, a session, invites. */
async function firstGroup() {
    const agreement = path.join(inst.etc, 'agreement-fi.txt');
    fs.writeFileSync(agreement, 'Mitä täällä kerrotaan, jää tänne.\nKuuntelemme toisiamme.\n');
    await ctl(['group', 'add', 'Evening circle', '--language', 'fi', '--description', 'A weekly peer group', '--max', '10']);
    await ctl(['group', 'edit', 'Evening circle', '--agreement-file', agreement]);
    await ctl(['leader', 'add', 'aino', '--password-stdin'], { input: `${PASSWORD}\n` });
    await ctl(['group', 'leader', 'add', 'Evening circle', 'aino']);
    await ctl(['schedule', 'add', 'Evening circle', '--weekday', 'mon', '--time', '18:00', '--duration', '90', '--tz', 'Europe/Helsinki']);
    const start = new Date(Date.now() + 3 * 86400000).toISOString().slice(0, 10);
    await ctl(['session', 'add', 'Evening circle', '--start', `${start} 09:30`, '--duration', '60', '--tz', 'Europe/Helsinki', '--lobby', '10']);
    const link = (await ctl(['invite', 'create', 'Evening circle', '--expires', '30'])).stdout.trim();
    assert.match(link, new RegExp(`^${inst.origin}/j/[A-Za-z0-9_-]{22}$`));
    await ctl(['invite', 'create', 'Evening circle', '--personal']);
    return link;
}

async function snapshot() {
    const j = (args) => ctl(['--json', ...args]);
    return {
        groups: await j(['group', 'list']),
        leaders: await j(['leader', 'list']),
        schedules: await j(['schedule', 'list']),
        sessions: await j(['session', 'list', '--all']),
        invites: await j(['invite', 'list']),
        bans: await j(['ban', 'list', '--all']),
    };
}

async function login() {
    return get('/api/login', {
        method: 'POST',
        headers: { Origin: inst.origin, 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: 'aino', password: PASSWORD }),
    });
}

test('(a, c) the first group with the installed kamratctl; backup, wipe, restore', async () => {
    await startInstalled();
    const link = await firstGroup();
    const show = (await ctl(['group', 'show', 'Evening circle'])).stdout;
    assert.match(show, /leaders\s+aino/);
    assert.match(show, /Kuuntelemme toisiamme/);
    // The running installed server sees what kamratctl wrote.
    assert.equal((await login()).status, 200);
    const code = new URL(link).pathname.split('/')[2];
    assert.equal((await get(`/j/${code}/calendar.ics`)).status, 200);
    // A ban is made by a leader in a session; no kamratctl command makes one.
    const db = path.join(inst.data, 'kamrat.db');
    if (which('sqlite3')) {
        const r = await run('sqlite3', ['-bail', db], {
            input: "INSERT INTO bans (group_id, invite_id, participant_key_hash, created_at, created_by, name) VALUES (1, NULL, zeroblob(32), strftime('%s','now'), 'leader:aino', 'Kettu');\n",
        });
        assert.equal(r.code, 0, r.stderr);
    }
    const before = await snapshot();
    assert.equal(before.groups.length, 1);
    assert.ok(before.schedules.length === 1 && before.sessions.length >= 2 && before.invites.length === 2);

    // A backup while kamratd runs, as kamrat-backup.timer makes it.
    const b = await must(inst.backup, [inst.backups, '30'], { env: { ...ctlEnv(), KAMRAT_CONFIG: inst.conf } });
    assert.match(b.stdout, /backup written to .*kamrat-\d{4}-\d\d-\d\dT\d{6}Z\.db \(quick_check ok\)/);
    const files = fs.readdirSync(inst.backups).filter((f) => /^kamrat-.*\.db$/.test(f));
    assert.equal(files.length, 1);
    const backup = path.join(inst.backups, files[0]);
    assert.equal(fs.statSync(backup).mode & 0o777, 0o600);
    // Straight from kamratctl too; it never overwrites.
    const manual = path.join(inst.backups, 'manual.db');
    await ctl(['backup', manual]);
    await ctl(['backup', manual], { code: 1 });
    // An old backup is pruned, today's kept (names are made to the second).
    await new Promise((r) => setTimeout(r, 1100));
    const old = path.join(inst.backups, 'kamrat-2000-01-01T000000Z.db');
    fs.copyFileSync(backup, old);
    fs.utimesSync(old, new Date('2000-01-01'), new Date('2000-01-01'));
    await must(inst.backup, [inst.backups, '30'], { env: { ...ctlEnv(), KAMRAT_CONFIG: inst.conf } });
    assert.ok(!fs.existsSync(old), 'a backup older than 30 days was kept');
    assert.ok(fs.existsSync(backup));
    assert.equal((await run(inst.backup, [inst.backups, 'x'], { env: ctlEnv() })).code, 64);

    // The disk is lost: stop, wipe.
    assert.equal((await server.stop()).code, 0);
    for (const f of fs.readdirSync(inst.data)) fs.rmSync(path.join(inst.data, f), { force: true });
    assert.match((await ctl(['check'])).stdout, /not created yet/);

    // Restore as the guide says: copy back, no -wal/-shm, check, start.
    await must('install', ['-m', '0600', backup, db]);
    for (const f of ['kamrat.db-wal', 'kamrat.db-shm']) fs.rmSync(path.join(inst.data, f), { force: true });
    assert.match((await ctl(['check'])).stdout, /database: .* ok \(schema version \d+\)/);
    await startInstalled();
    const restored = await snapshot();
    // The backup itself is audited after the copy, so the snapshot is the same.
    assert.deepEqual(restored, before);
    assert.equal((await login()).status, 200);
    assert.equal((await get(`/j/${code}/calendar.ics`)).status, 200);
    const audit = await ctl(['--json', 'audit']);
    assert.ok(audit.some((row) => row.action === 'group_add'));
    await server.stop();

    // A database from a newer kamrat is refused, not touched.
    if (which('sqlite3')) {
        const newer = path.join(inst.dest, 'newer.db');
        fs.copyFileSync(db, newer);
        const r = await run('sqlite3', [newer, 'PRAGMA user_version = 999;']);
        assert.equal(r.code, 0, r.stderr);
        fs.copyFileSync(newer, db);
        const c = await ctl(['check'], { code: 1 });
        assert.match(c.stderr, /newer/);
        const d = await run(inst.kamratd, ['-c', inst.conf], { timeout: 10000 });
        assert.equal(d.code, 1);
        assert.match(d.stderr, /start_failed .*newer/);
        fs.copyFileSync(backup, db);
    }
});

test('(b) systemd-analyze verify and security of the installed units', { skip: !which('systemd-analyze') && 'no systemd-analyze' }, async (t) => {
    // The units name /usr/local/...: point them at the destdir for verify.
    const dir = makeTempDir('kamrat-units-');
    const units = ['kamrat.service', 'kamrat-backup.service', 'kamrat-backup.timer'];
    for (const u of units) {
        const text = fs.readFileSync(path.join(inst.units, u), 'utf8');
        fs.writeFileSync(path.join(dir, u), text.replaceAll(`${inst.prefix}/`, `${path.join(inst.dest, inst.prefix)}/`));
    }
    const v = await run('systemd-analyze', ['verify', ...units], { cwd: dir, timeout: 60000, env: { ...process.env, MANPATH: inst.man } });
    assert.equal(v.code, 0, `systemd-analyze verify: ${v.stdout}${v.stderr}`);
    assert.equal(v.stderr.trim(), '', v.stderr);

    for (const [u, most] of [['kamrat.service', 2.0], ['kamrat-backup.service', 2.0]]) {
        const s = await run('systemd-analyze', ['security', '--offline=true', '--no-pager', path.join(inst.units, u)], { timeout: 60000 });
        const m = /Overall exposure level for \S+: (\d+\.\d+) (\S+)/.exec(s.stdout);
        assert.ok(m, `no exposure level in: ${s.stdout}${s.stderr}`);
        const score = Number(m[1]);
        t.diagnostic(`systemd-analyze security ${u}: ${score} ${m[2]}`);
        assert.ok(score <= most, `${u}: exposure ${score} > ${most}\n${s.stdout}`);
    }
});

test('(b) systemd-sysusers makes the kamrat account', { skip: !which('systemd-sysusers') && 'no systemd-sysusers' }, async () => {
    const root = makeTempDir('kamrat-sysusers-');
    fs.mkdirSync(path.join(root, 'etc'));
    await must('systemd-sysusers', [`--root=${root}`, inst.sysusers]);
    const passwd = fs.readFileSync(path.join(root, 'etc', 'passwd'), 'utf8');
    assert.match(passwd, /^kamrat:x:\d+:\d+:kamrat chat server:\/var\/lib\/kamrat:\/usr\/sbin\/nologin$/m);
    assert.match(fs.readFileSync(path.join(root, 'etc', 'group'), 'utf8'), /^kamrat:x:\d+:$/m);
});

test('(d) the certbot deploy hook installs a renewed pair and reloads the running server', async () => {
    // certbot's live directory for the domain, with a new certificate from
    // another CA: the served fingerprint shows which pair is in use.
    const lineage = makeTempDir('kamrat-lineage-');
    const renewed = await makeCerts(path.join(lineage, 'src'));
    fs.copyFileSync(path.join(renewed.dir, 'server.pem'), path.join(lineage, 'fullchain.pem'));
    fs.copyFileSync(path.join(renewed.dir, 'server.key'), path.join(lineage, 'privkey.pem'));
    fs.chmodSync(path.join(lineage, 'privkey.pem'), 0o600);

    await startInstalled();
    const oldFp = pemFingerprint(path.join(inst.tlsDir, 'fullchain.pem'));
    assert.equal(await servedFingerprint(), oldFp);

    // The hook sends a running service SIGHUP (not `systemctl reload`, which
    // is a planned restart); the stub says the service is active, does the
    // same to this server and records its arguments.
    const stubs = makeTempDir('kamrat-stubs-');
    const calls = path.join(stubs, 'calls');
    fs.writeFileSync(
        path.join(stubs, 'systemctl'),
        `#!/bin/sh\necho "$*" >> ${calls}\n[ "$*" = "kill --kill-whom=main --signal=HUP kamrat.service" ] && kill -HUP ${server.pid}\nexit 0\n`,
        { mode: 0o755 },
    );
    const group = (await must('id', ['-gn'])).stdout.trim();
    const env = {
        ...ctlEnv(),
        PATH: `${stubs}:${process.env.PATH}`,
        RENEWED_LINEAGE: lineage,
        KAMRAT_TLS_DIR: inst.tlsDir,
        KAMRAT_GROUP: group,
        KAMRAT_CONFIG: inst.conf,
    };
    await must(inst.hook, [], { env });
    const signalled = 'is-active --quiet kamrat.service\nkill --kill-whom=main --signal=HUP kamrat.service\n';
    assert.equal(fs.readFileSync(calls, 'utf8'), signalled);
    for (const f of ['fullchain.pem', 'privkey.pem']) {
        const st = fs.statSync(path.join(inst.tlsDir, f));
        assert.equal(st.mode & 0o777, 0o640, `${f} mode`);
        assert.deepEqual(fs.readFileSync(path.join(inst.tlsDir, f)), fs.readFileSync(path.join(lineage, f)));
    }
    assert.equal(fs.statSync(inst.tlsDir).mode & 0o777, 0o750);
    assert.deepEqual(fs.readdirSync(inst.tlsDir).sort(), ['fullchain.pem', 'privkey.pem']);
    const newFp = pemFingerprint(path.join(lineage, 'fullchain.pem'));
    await waitFor(async () => (await servedFingerprint()) === newFp, { timeout: 5000, desc: 'the renewed certificate served' });

    // A key that does not belong to the certificate changes nothing.
    const other = await makeCerts(path.join(lineage, 'other'));
    fs.copyFileSync(path.join(other.dir, 'server.key'), path.join(lineage, 'privkey.pem'));
    const r = await run(inst.hook, [], { env, timeout: 30000 });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /does not match/);
    assert.equal(fs.readFileSync(calls, 'utf8'), signalled, 'systemctl was called after a failure');
    assert.deepEqual(fs.readdirSync(inst.tlsDir).sort(), ['fullchain.pem', 'privkey.pem']);
    assert.equal(await servedFingerprint(), newFp);
    const stopped = await server.stop();
    assert.equal(stopped.code, 0);
    assert.match(stopped.stderr, /info tls_reloaded/);
});

test('(e) the man pages render without groff warnings', { skip: !which('groff') && 'no groff' }, async () => {
    const pages = ['man8/kamratd.8', 'man8/kamratctl.8', 'man5/kamrat.conf.5'];
    for (const p of pages) {
        const src = path.join(REPO, 'docs', 'man', path.basename(p));
        for (const f of [src, path.join(inst.man, p)]) {
            const r = await run('groff', ['-man', '-Tutf8', '-ww', '-z', f], { timeout: 30000 });
            assert.equal(r.code, 0, `groff ${f}: ${r.stderr}`);
            assert.equal(r.stderr, '', `groff -ww ${f}:\n${r.stderr}`);
        }
    }
});

test('(f) the nftables rules of docs/admin.md parse', { skip: (!which('nft') || process.getuid() !== 0) && 'needs nft and root' }, async () => {
    const guide = fs.readFileSync(path.join(REPO, 'docs', 'admin.md'), 'utf8');
    const m = /```\n(#!\/usr\/sbin\/nft -f\n[\s\S]*?)```/.exec(guide);
    assert.ok(m, 'docs/admin.md has no nftables ruleset');
    const file = path.join(makeTempDir('kamrat-nft-'), 'nftables.conf');
    fs.writeFileSync(file, m[1]);
    // -c: check only, nothing is loaded.
    const r = await run('nft', ['-c', '-f', file], { timeout: 30000 });
    assert.equal(r.code, 0, `nft -c: ${r.stderr}`);
});
