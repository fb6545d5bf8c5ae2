// Faults (test plan G): kill -9 in the middle of store writes by kamratctl and
// kamratd (G1), a restart mid-session (G4), a full disk under the data
// directory (G6), running out of file descriptors (G7). SIGTERM drain (G3) is
// in signals.test.mjs, resume_failed with a made-up epoch in resume.test.mjs,
// a corrupt database (G10) in store.test.mjs.
//
// KAMRAT_KILL_ITERATIONS sets the kill -9 loop (default 30; tests/soak/README.md
// runs 200).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
    KAMRATCTL,
    ctl,
    ctlJson,
    delay,
    enter,
    leaderLogin,
    makeTempDir,
    join,
    participantKey,
    prepareConfig,
    resume,
    setUpGroup,
    spawnProgram,
    startServer,
    test,
    uid,
    waitFor,
    within,
} from './lib/harness.mjs';

const ITERATIONS = Number(process.env.KAMRAT_KILL_ITERATIONS ?? 30);

/** A random whole number of ms in [lo, hi). */
const between = (lo, hi) => lo + Math.floor(Math.random() * (hi - lo));

/** Where writes may be killed: every kamratctl started through it can be SIGKILLed at once. */
function ctlPool(cfg) {
    const live = new Set();
    return {
        async run(args) {
            const p = spawnProgram(KAMRATCTL, ['-c', cfg.configPath, ...args]);
            live.add(p);
            try {
                return await p.done;
            } finally {
                live.delete(p);
            }
        },
        killAll() {
            for (const p of live) p.kill('SIGKILL');
        },
    };
}

/** A participant with a fresh key enters; the leader bans it. Resolves the ban id or null. */
async function enterAndBan(server, leader, code) {
    const { client, reply } = await enter(server, { invite: code, name: uid('P'), key: participantKey() });
    try {
        if (reply.type !== 'welcome') return null;
        const ack = await leader.request({ type: 'ban', member: reply.member }, 3000);
        return ack.type === 'ack' && Number.isSafeInteger(ack.ban) ? ack.ban : null;
    } finally {
        client.terminate?.();
    }
}

test(`kill -9 during store writes, ${ITERATIONS} times: integrity_check ok, no acknowledged write lost`, { timeout: 60000 + ITERATIONS * 12000 }, async (t) => {
    const cfg = await prepareConfig({
        openRooms: false,
        limits: { rate_per_sec: 200, rate_burst: 200, max_conns_per_address: 200, max_websockets_per_address: 200 },
    });
    const g = await setUpGroup(cfg, { max: 500 });
    const acked = { groups: [], invites: [], bans: [] };
    const kills = { ctl: 0, kamratd: 0 };

    for (let i = 0; i < ITERATIONS; i++) {
        const server = await startServer({ config: cfg });
        const pool = ctlPool(cfg);
        let stop = false;
        // kamratctl: groups and invites, each its own process and transaction.
        const groups = (async () => {
            for (let n = 0; !stop; n++) {
                const name = `K${i}-${n}`;
                const r = await pool.run(['group', 'add', name, '--language', 'en']);
                if (r.code === 0) acked.groups.push(name);
                else if (r.signal === 'SIGKILL') kills.ctl++;
                else if (!stop) throw new Error(`group add ${name}: ${r.code} ${r.stderr}`);
            }
        })();
        const invites = (async () => {
            while (!stop) {
                const r = await pool.run(['--json', 'invite', 'create', g.group]);
                if (r.code === 0) acked.invites.push(JSON.parse(r.stdout).id);
                else if (r.signal === 'SIGKILL') kills.ctl++;
                else if (!stop) throw new Error(`invite create: ${r.code} ${r.stderr}`);
            }
        })();
        // kamratd: a leader bans one participant after another (each ban is a
        // stored row and an audit row, acked with its id after COMMIT).
        const bans = (async () => {
            try {
                const token = await leaderLogin(server, g.leaders[0]);
                const { client: leader, reply } = await enter(server, { token, session: g.session });
                if (reply.type !== 'welcome') throw new Error(`leader hello: ${JSON.stringify(reply)}`);
                while (!stop) {
                    const id = await enterAndBan(server, leader, g.code);
                    if (id !== null) acked.bans.push(id);
                }
            } catch (e) {
                if (!stop) throw e; // after the kill, a broken connection is the point
            }
        })();
        await delay(between(50, 2000));
        stop = true;
        server.expectExit();
        process.kill(server.pid, 'SIGKILL');
        pool.killAll();
        kills.kamratd++;
        await within(Promise.all([groups, invites, bans, server.exited]), 20000, 'writers after the kill');

        const check = await ctl(cfg, ['check']);
        assert.match(check, /database: .*ok/, `iteration ${i}: kamratctl check`);
        const integrity = execFileSync('sqlite3', [path.join(cfg.dataDir, 'kamrat.db'), 'PRAGMA integrity_check;'], { encoding: 'utf8' });
        assert.equal(integrity.trim(), 'ok', `iteration ${i}: PRAGMA integrity_check`);
        const groupNames = new Set((await ctlJson(cfg, ['group', 'list'])).map((x) => x.name));
        for (const name of acked.groups) assert.ok(groupNames.has(name), `iteration ${i}: acked group ${name} lost`);
        const inviteIds = new Set((await ctlJson(cfg, ['invite', 'list', g.group])).map((x) => x.id));
        for (const id of acked.invites) assert.ok(inviteIds.has(id), `iteration ${i}: acked invite ${id} lost`);
        const banIds = new Set((await ctlJson(cfg, ['ban', 'list', '--group', g.group, '--all'])).map((x) => x.id));
        for (const id of acked.bans) assert.ok(banIds.has(id), `iteration ${i}: acked ban ${id} lost`);
    }
    const audit = await ctlJson(cfg, ['audit', '--group', g.group, '--limit', '100000']);
    const banRows = new Set(audit.filter((x) => x.action === 'ban').map((x) => x.target));
    for (const id of acked.bans) assert.ok(banRows.has(`ban:${id}`), `acked ban ${id} has no audit row`);
    t.diagnostic(`kill -9: ${kills.kamratd} kamratd, ${kills.ctl} kamratctl mid-write; ` +
        `acked ${acked.groups.length} groups, ${acked.invites.length} invites, ${acked.bans.length} bans: all present`);
    assert.ok(acked.groups.length > 0 && acked.invites.length > 0, 'the writers wrote something');
});

/**
 * The client's reconnect policy (test plan §2): attempt n waits a random time
 * in [0, min(30 s, 0.5 s × 2^n)) ("full jitter"). Resolves what attempt()
 * resolves first without throwing, with the attempt count.
 */
async function reconnect(attempt, { deadline }) {
    for (let n = 0; ; n++) {
        await delay(Math.random() * Math.min(30000, 500 * 2 ** n));
        try {
            return { result: await attempt(), attempts: n + 1 };
        } catch (e) {
            if (Date.now() > deadline) throw e;
        }
    }
}

test('restart mid-session: every client is told 1001, reconnects with jittered backoff and gets resume_failed server_restarted', { timeout: 90000 }, async (t) => {
    const cfg = await prepareConfig({ limits: { max_conns_per_address: 200, max_websockets_per_address: 200, rate_per_sec: 200, rate_burst: 200 } });
    let server = await startServer({ config: cfg });
    const members = [];
    for (const r of [uid('ra-'), uid('rb-'), uid('rc-')]) {
        for (const name of ['Ana', 'Bo', 'Cy']) members.push({ room: r, ...(await join(server, r, name)) });
    }
    // Traffic in every room up to the restart.
    for (const m of members) assert.equal((await m.client.sayAndWait(`before from ${m.welcome.name}`)).type, 'ack');
    const oldEpoch = members[0].welcome.epoch;
    const t0 = Date.now();
    const stopped = await server.stop('SIGTERM');
    assert.deepEqual(stopped, { code: 0, signal: null }, 'clean exit');
    assert.ok(Date.now() - t0 < 5000, 'drained within 5 s');
    for (const m of members) assert.equal((await within(m.client.closed, 1000, 'close')).code, 1001);

    // Everyone starts reconnecting at once, before the server is back.
    const deadline = Date.now() + 30000;
    const back = startServer({ config: cfg }).then((s) => (server = s));
    const results = await Promise.all(members.map((m) => reconnect(async () => {
        const { client, reply } = await resume(server, {
            token: m.welcome.token, epoch: m.welcome.epoch, after_seq: m.welcome.seq ?? 0, label: m.welcome.name,
        });
        try {
            assert.equal(reply.type, 'error', JSON.stringify(reply));
            assert.equal(reply.code, 'resume_failed');
            assert.equal(reply.reason, 'server_restarted');
            // The same connection may hello at once (the client shows a "messages missed" marker).
            client.send({ type: 'hello', id: 'again', room: m.room, name: m.welcome.name });
            const w = await client.nextReply();
            assert.equal(w.type, 'welcome', JSON.stringify(w));
            assert.notEqual(w.epoch, oldEpoch, 'a new epoch');
            return w;
        } finally {
            client.terminate();
        }
    }, { deadline })));
    await back;
    const attempts = results.map((r) => r.attempts);
    t.diagnostic(`${members.length} clients back; attempts per client: ${attempts.join(' ')}`);
    assert.ok(server.alive());
});

/** Mounts a tmpfs of size bytes at a new directory; null when this process may not mount. */
function mountTmpfs(size) {
    const dir = makeTempDir('kamrat-full-');
    try {
        execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
    } catch {
        return null;
    }
    return {
        dir,
        unmount: () => execFileSync('umount', [dir], { stdio: 'pipe' }),
    };
}

/** Writes zeros to file until the filesystem is full. */
function fill(file) {
    const fd = fs.openSync(file, 'w');
    const chunk = Buffer.alloc(64 * 1024);
    try {
        for (let i = 0; i < 100000; i++) fs.writeSync(fd, chunk);
        throw new Error('the filesystem never filled');
    } catch (e) {
        if (e.code !== 'ENOSPC') throw e;
        for (let n = chunk.length >> 1; n >= 512; n >>= 1) {
            try {
                fs.writeSync(fd, chunk, 0, n);
            } catch {
                // Fill the tail with smaller writes until even 512 B do not fit.
            }
        }
    } finally {
        fs.closeSync(fd);
    }
}

test('disk full: store writes fail with a clear log line, rooms go on, writes recover without a restart', { timeout: 90000 }, async (t) => {
    const mnt = mountTmpfs('4m');
    if (!mnt) {
        t.skip('cannot mount a tmpfs here (not root?): see tests/soak/README.md for the RLIMIT_FSIZE variant');
        return;
    }
    try {
        const dataDir = path.join(mnt.dir, 'data');
        fs.mkdirSync(dataDir);
        const cfg = await prepareConfig({
            openRooms: false,
            server: { data_dir: dataDir },
            limits: { rate_per_sec: 200, rate_burst: 200, max_conns_per_address: 200, max_websockets_per_address: 200 },
        });
        const g = await setUpGroup(cfg);
        const server = await startServer({ config: cfg });
        const token = await leaderLogin(server, g.leaders[0]);
        const { client: leader } = await enter(server, { token, session: g.session });
        assert.equal((await leader.request({ type: 'open' })).type, 'ack');
        const people = [];
        for (const name of ['Sol', 'Kim', 'Ilo', 'Vesa']) {
            const { client, reply } = await enter(server, { invite: g.code, name, key: participantKey() });
            assert.equal(reply.type, 'welcome', JSON.stringify(reply));
            assert.equal((await client.request({ type: 'agree' })).type, 'ack');
            people.push(client);
        }
        const [sol, kim, ilo, vesa] = people;
        const filler = path.join(mnt.dir, 'filler');
        fill(filler);
        const mark = server.logs().length;

        // A ban the store cannot keep still removes the person now: ban null, and
        // the log says why.
        const unstored = await leader.request({ type: 'ban', member: sol.member });
        assert.equal(unstored.type, 'ack', JSON.stringify(unstored));
        assert.equal(unstored.ban, null, 'no ban id: nothing was stored');
        assert.deepEqual(await within(sol.closed, 3000, 'Sol closed'), { code: 4403, reason: 'banned' });
        // A remove takes effect live; only its audit row is lost (and logged).
        const removed = await leader.request({ type: 'remove', member: kim.member });
        assert.equal(removed.type, 'ack', JSON.stringify(removed));
        assert.equal((await within(kim.closed, 3000, 'Kim closed')).code, 4403);
        // The room goes on.
        const said = await ilo.request({ type: 'say', text: 'still here' });
        assert.equal(said.type, 'ack', JSON.stringify(said));
        await vesa.next((m) => m.type === 'message' && m.text === 'still here', 3000);
        // A login's audit row (login_failed) cannot be written either; the answer is the same 401.
        const bad = await leaderLogin(server, g.leaders[0], 'not the password at all').catch((e) => e.message);
        assert.match(String(bad), /401/);
        await waitFor(() => /reason="disk full"/.test(server.logs().slice(mark)), { timeout: 5000, desc: 'a log line about the full disk' });
        const log = server.logs().slice(mark);
        assert.match(log, /ban_failed reason="disk full"/, "the refused ban is named in the log");
        assert.match(log, /audit_failed action=remove reason="disk full"/, "the lost audit row is named in the log");

        // Space comes back: the same process writes again.
        fs.rmSync(filler);
        const ban = await leader.request({ type: 'ban', member: ilo.member });
        assert.equal(ban.type, 'ack', JSON.stringify(ban));
        assert.ok(Number.isSafeInteger(ban.ban), 'the ban was stored');
        assert.equal((await within(ilo.closed, 3000, 'Ilo closed')).code, 4403);
        assert.ok(server.alive(), 'no restart');
        const bans = await ctlJson(cfg, ['ban', 'list', '--group', g.group]);
        assert.ok(bans.some((b) => b.id === ban.ban));
        let check = await ctl(cfg, ['check']);
        assert.match(check, /database: .*ok/);

        // Full again: a leader ends the session. It ends for everyone at once; the
        // store could not record it, and the log says so.
        fill(filler);
        const mark2 = server.logs().length;
        assert.equal((await leader.request({ type: 'end' })).type, 'ack');
        for (const c of [leader, vesa]) assert.equal((await within(c.closed, 3000, 'session end')).code, 4410);
        await waitFor(() => /session_end_failed .*reason="disk full"/.test(server.logs().slice(mark2)), { timeout: 5000, desc: 'session_end_failed in the log' });
        // The store still thinks the session runs, but kamratd remembers: nobody
        // comes back into it, before or after the space returns.
        const late = await enter(server, { invite: g.code, name: 'Late', key: participantKey() });
        assert.equal(late.reply.code, 'no_session', JSON.stringify(late.reply));
        fs.rmSync(filler);
        const later = await enter(server, { invite: g.code, name: 'Later', key: participantKey() });
        assert.equal(later.reply.code, 'no_session', JSON.stringify(later.reply));
        check = await ctl(cfg, ['check']);
        assert.match(check, /database: .*ok/, 'integrity after the second fill');
        assert.ok(server.alive(), 'no crash');
        await server.stop();
    } finally {
        // kamratd and kamratctl are gone (test() stops servers; ctl waits): unmount.
        for (let i = 0; ; i++) {
            try {
                mnt.unmount();
                break;
            } catch (e) {
                if (i >= 20) throw e;
                await delay(250);
            }
        }
    }
});

/** CPU seconds kamratd (pid) has used so far. */
function cpuSeconds(pid) {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in USER_HZ (100)
}

function tcpConnect(port) {
    return new Promise((resolve) => {
        const s = net.connect({ host: '127.0.0.1', port });
        s.on('connect', () => resolve(s));
        s.on('error', () => resolve(s));
    });
}

test('fd exhaustion (nofile 256): 400 connections wait unaccepted, no crash, no EMFILE accept spin, recovery once they close', { timeout: 90000 }, async (t) => {
    const server = await startServer({
        wrap: ['prlimit', '--nofile=256:256', '--'],
        limits: { max_conns_per_address: 1000, max_websockets_per_address: 1000, rate_per_sec: 200, rate_burst: 200 },
    });
    const room = uid('fd-');
    const a = await enter(server, { room, name: 'Ana' });
    const b = await enter(server, { room, name: 'Bo' });
    assert.equal(a.reply.type, 'welcome');
    const limits = fs.readFileSync(`/proc/${server.pid}/limits`, 'utf8');
    assert.match(limits, /Max open files\s+256\s+256/, 'the limit applies to kamratd itself');

    const socks = [];
    for (let i = 0; i < 400; i++) socks.push(await tcpConnect(server.port));
    // kamratd has run out of descriptors by now; measure its CPU while it stays out.
    const cpu0 = cpuSeconds(server.pid);
    const t0 = Date.now();
    await delay(3000);
    const busy = (cpuSeconds(server.pid) - cpu0) / ((Date.now() - t0) / 1000);
    t.diagnostic(`CPU while out of descriptors: ${(busy * 100).toFixed(0)}%`);
    assert.ok(server.alive(), 'kamratd is alive');
    assert.ok(busy < 0.5, `kamratd spins while out of descriptors: ${(busy * 100).toFixed(0)}% CPU`);
    // The sessions it already had go on.
    const said = await a.client.request({ type: 'say', text: 'through the flood' }, 5000);
    assert.equal(said.type, 'ack', JSON.stringify(said));
    await b.client.next((m) => m.type === 'message' && m.text === 'through the flood', 5000);

    for (const s of socks) s.destroy();
    // New clients get in again soon after the flood ends.
    const started = Date.now();
    const c = await waitFor(async () => {
        try {
            const r = await enter(server, { room, name: uid('Cy') }, { timeout: 2000 });
            return r.reply.type === 'welcome' ? r : null;
        } catch {
            return null;
        }
    }, { timeout: 15000, interval: 200, desc: 'a new client after the flood' });
    t.diagnostic(`new client in ${Date.now() - started} ms after the flood closed`);
    assert.equal(c.reply.type, 'welcome');
    assert.ok(server.alive());
});
