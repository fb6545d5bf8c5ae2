// A planned restart (protocol/README.md §4 "After a restart", §7 close 1012;
// server/handover.h): SIGUSR2 makes kamratd start its binary again and hand the
// listening socket and every room over in memory. Clients are closed with 1012
// and resume on the new process with their tokens: no message lost or doubled,
// no gap, the same roles, mutes, hands and round, seq going on.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
    KAMRATD, delay, expectAck, filesUnder, join, makeTempDir, prepareConfig, resume, sessionFixture, startServer,
    test, uid, waitFor, within,
} from './lib/harness.mjs';

/** The highest seq a client has seen. */
function lastSeq(c) {
    return Math.max(c.welcome.seq ?? 0, ...c.all().filter((m) => typeof m.seq === 'number').map((m) => m.seq));
}

/** Waits for the new process to accept; resolves its PID and stops it after the test. */
async function newProcess(t, server) {
    let pid = 0;
    await waitFor(() => {
        const m = /handover_accepting pid=(\d+)/.exec(server.logs());
        pid = m ? Number(m[1]) : 0;
        return pid > 0;
    }, { timeout: 15000, desc: 'the new process accepts' });
    t.after(async () => {
        try {
            process.kill(pid, 'SIGTERM');
        } catch {
            return;
        }
        await waitFor(() => {
            try {
                process.kill(pid, 0);
                return false;
            } catch {
                return true;
            }
        }, { timeout: 10000, desc: 'the new process exits' });
    });
    return pid;
}

/** Every file under dir with its size and mtime, to tell whether anything was written. */
function snapshot(dir) {
    return new Map(filesUnder(dir).map((f) => [f, fs.statSync(f).size]));
}

test('a planned restart mid-session: everyone resumes on the new process in the same state, nothing lost or doubled', { timeout: 60000 }, async (t) => {
    const runtime = fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'kamrat-run-'));
    t.after(() => fs.rmSync(runtime, { recursive: true, force: true }));
    const fx = await sessionFixture({ participants: ['Sol', 'Kim', 'Ilo'], keys: true, env: { RUNTIME_DIRECTORY: runtime } });
    const { leader, server, cfg } = fx;
    const [sol, kim, ilo] = fx.participants;
    const everyone = [leader, sol, kim, ilo];
    const canary = `kmrtcanary${crypto.randomBytes(6).toString('hex')}`;

    expectAck(await leader.request({ type: 'mute', member: ilo.member }));
    expectAck(await kim.request({ type: 'hand', up: true }), true);
    expectAck(await leader.request({ type: 'round_start', kind: 'round', order: [sol.member, kim.member, ilo.member] }), true);
    const acked = [];
    for (let i = 0; i < 3; i++) {
        const id = uid('m');
        const a = expectAck(await sol.sayAndWait(`${canary} before ${i}`, id), true);
        acked.push({ id, seq: a.seq });
    }
    await delay(100); // every member has read the events so far
    const before = new Map(everyone.map((c) => [c, { seq: lastSeq(c), welcome: c.welcome }]));
    const files = snapshot(cfg.dataDir);

    // Sol types while the switch happens: a message sent right after the signal.
    server.expectExit();
    const t0 = Date.now();
    server.signal('SIGUSR2');
    const during = uid('m');
    sol.send({ type: 'say', id: during, text: `${canary} during` });
    const closes = await Promise.all(everyone.map((c) => within(c.closed, 10000, `${c.label} closed`)));
    for (const c of closes) assert.equal(c.code, 1012, `closed with 1012: ${JSON.stringify(c)}`);
    const pid = await newProcess(t, server);
    const accepting = Date.now();
    assert.notEqual(pid, server.pid);
    assert.match(server.logs(), /handover_sent rooms=1 /);
    assert.match(server.logs(), /handover_received rooms=1 /);

    // Everyone resumes with the token they had, from the last event they read
    // (the old process may have sent some after `before`): no lobby, no login, no gap.
    const back = new Map();
    for (const c of everyone) {
        const b = before.get(c);
        const { client, reply } = await resume(server, {
            token: b.welcome.token, epoch: b.welcome.epoch, after_seq: lastSeq(c), label: `${c.label}'`,
        });
        assert.equal(reply.type, 'welcome', `${c.label} resumes: ${JSON.stringify(reply)}`);
        assert.equal(reply.resumed, true);
        assert.equal(reply.gap, false, `${c.label}: no gap`);
        assert.equal(reply.role, b.welcome.role, `${c.label} keeps the role`);
        assert.equal(reply.state, 'open', `${c.label} is not in the lobby`);
        back.set(c, client);
    }
    const resumed = Date.now();
    const lw = back.get(leader).welcome;
    assert.deepEqual(lw.hands, [kim.member], 'the raised hand is still raised');
    assert.equal(lw.round?.speaker, sol.member, 'the round goes on with the same speaker');
    assert.equal(lw.members.find((m) => m.member === ilo.member)?.muted, true, 'the muted participant is still muted');
    assert.ok(back.get(ilo).welcome.muted, 'and is told so');
    assert.equal(lw.read_only ?? lw.room?.read_only ?? false, false, 'the leader still leads');

    // Sol resends what was typed during the switch, with the same id: acked once.
    const s2 = back.get(sol);
    s2.send({ type: 'say', id: during, text: `${canary} during` });
    const again = await s2.next((m) => (m.type === 'ack' || m.type === 'error') && m.ref === during);
    expectAck(again, true);
    const after = expectAck(await s2.sayAndWait(`${canary} after`), true);
    assert.ok(after.seq > before.get(sol).seq, 'seq goes on');
    await delay(200);

    // Every acked message reached every admitted member exactly once, before or after.
    for (const c of [leader, kim]) {
        const seen = [...c.all(), ...back.get(c).all()].filter((m) => m.type === 'message' && m.text?.startsWith(canary));
        const texts = seen.map((m) => m.text);
        for (let i = 0; i < 3; i++) assert.equal(texts.filter((x) => x === `${canary} before ${i}`).length, 1, `${c.label}: before ${i} once`);
        assert.equal(texts.filter((x) => x === `${canary} during`).length, 1, `${c.label}: the message typed during the switch once`);
        assert.equal(texts.filter((x) => x === `${canary} after`).length, 1, `${c.label}: after once`);
        const seqs = [...c.all(), ...back.get(c).all()].filter((m) => m.type !== 'ack' && typeof m.seq === 'number' && m.type !== 'welcome').map((m) => m.seq);
        assert.equal(new Set(seqs).size, seqs.length, `${c.label}: no event twice`);
        if (c !== leader) continue; // a participant does not hear what goes to the leaders
        const sorted = [...seqs].sort((a, b) => a - b);
        for (let i = 1; i < sorted.length; i++) assert.equal(sorted[i], sorted[i - 1] + 1, `${c.label}: no gap at ${sorted[i - 1]}`);
    }

    // The state went through the socket only: nothing new in the data directory
    // holds it, and no file anywhere under it or the runtime directory has the text.
    for (const f of filesUnder(cfg.dataDir)) {
        const bytes = fs.readFileSync(f);
        assert.equal(bytes.indexOf(Buffer.from(canary)), -1, `${path.basename(f)} holds message text`);
    }
    assert.deepEqual(filesUnder(runtime), [], 'the channel is gone from the runtime directory');
    for (const f of filesUnder(cfg.dataDir)) {
        if (!files.has(f)) assert.match(path.basename(f), /^kamrat\.db(-wal|-shm|-journal)?$/, `a new file: ${f}`);
    }
    t.diagnostic(`signal to accepting: ${accepting - t0} ms; to every client resumed: ${resumed - t0} ms`);
    for (const c of back.values()) c.terminate();
});

test('state of another format is refused with one log line; the new process starts afresh on the same socket', { timeout: 60000 }, async (t) => {
    const runtime = fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'kamrat-run-'));
    t.after(() => fs.rmSync(runtime, { recursive: true, force: true }));
    // The hook: the running process announces a format no kamratd reads (server/handover.h).
    const fx = await sessionFixture({
        participants: ['Sol'], keys: true, env: { RUNTIME_DIRECTORY: runtime, KAMRAT_TEST_HANDOVER_FORMAT: '999' },
    });
    const { leader, server } = fx;
    const w = leader.welcome;
    server.expectExit();
    server.signal('SIGUSR2');
    assert.equal((await within(leader.closed, 10000, 'leader closed')).code, 1012);
    await newProcess(t, server);
    const refused = server.logs().split('\n').filter((l) => l.includes('handover_refused'));
    assert.equal(refused.length, 1, server.logs());
    assert.match(refused[0], /state format 999, this kamratd reads 1/);
    assert.doesNotMatch(server.logs(), /handover_received/);
    // Today's behaviour after a restart: the resume fails, the login holds.
    const { client, reply } = await resume(server, { token: w.token, epoch: w.epoch, after_seq: w.seq ?? 0, label: 'leader' });
    assert.equal(reply.code, 'resume_failed');
    assert.equal(reply.reason, 'server_restarted');
    client.send({ type: 'hello', id: 'again', token: fx.token, session: fx.session });
    const lw = await client.nextReply();
    assert.equal(lw.type, 'welcome', JSON.stringify(lw));
    assert.equal(lw.role, 'leader');
    client.terminate();
});

/** chown -R, for a tree the test made. */
function chownTree(p, uidNum, gidNum) {
    fs.chownSync(p, uidNum, gidNum);
    if (fs.statSync(p).isDirectory()) for (const e of fs.readdirSync(p)) chownTree(path.join(p, e), uidNum, gidNum);
}

test('the channel refuses a process of another user; the server serves on and a handover afterwards works', { timeout: 60000 }, async (t) => {
    // kamratd runs as nobody and the test, as root, connects to the channel: root
    // passes the socket's mode 0600, so only the peer-uid check (SO_PEERCRED) stands
    // between it and the listening sockets.
    const NOBODY = 65534;
    const cfg = await prepareConfig();
    const runtime = makeTempDir('kamrat-run-');
    const bin = path.join(cfg.dir, 'bin');
    fs.mkdirSync(bin);
    const exe = path.join(bin, 'kamratd');
    const real = path.join(bin, 'kamratd.real');
    const go = path.join(bin, 'go');
    fs.copyFileSync(KAMRATD, exe);
    fs.copyFileSync(KAMRATD, real);
    fs.chmodSync(exe, 0o755);
    fs.chmodSync(real, 0o755);
    chownTree(cfg.dir, NOBODY, NOBODY);
    chownTree(runtime, NOBODY, NOBODY);
    // setpriv execs a shell that execs the copy: the PID stays kamratd's, and
    // /proc/self/exe names the copy, which the test can replace.
    const server = await startServer({
        config: cfg,
        env: { RUNTIME_DIRECTORY: runtime },
        wrap: ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--', 'sh', '-c', 'shift; exec "$0" "$@"', exe],
    });
    assert.match(fs.readFileSync(`/proc/${server.pid}/status`, 'utf8'), new RegExp(`\nUid:\\s+${NOBODY}\\s`), 'kamratd runs as nobody');
    const room = uid('room');
    const a = await join(server, room, 'Ana');
    const b = await join(server, room, 'Bo');

    // An upgrade replaces the binary; this one waits for the test before it
    // becomes kamratd, which keeps the channel open (handover.c: until the new
    // process connects) for as long as the test needs.
    const next = `${exe}.new`;
    // (At most 30 s: a test that fails leaves no shell behind.)
    fs.writeFileSync(next, [
        '#!/bin/sh',
        `for i in $(seq 600); do [ -e '${go}' ] && exec '${real}' "$@"; sleep 0.05; done`,
        'exit 1',
        '',
    ].join('\n'), { mode: 0o755 });
    fs.chownSync(next, NOBODY, NOBODY);
    fs.renameSync(next, exe);

    server.expectExit();
    server.signal('SIGUSR2');
    await waitFor(() => /handover_start pid=\d+/.test(server.logs()), { timeout: 10000, desc: 'the handover starts' });
    const channel = path.join(runtime, 'kamratd.handover');
    assert.equal(fs.statSync(channel).mode & 0o777, 0o600);
    assert.equal(fs.statSync(channel).uid, NOBODY);

    // Root connects: the kernel lets it in, kamratd sends it nothing and hangs up.
    const intruder = net.createConnection(channel);
    let received = 0;
    intruder.on('data', (d) => {
        received += d.length;
    });
    intruder.on('error', () => {});
    await within(new Promise((resolve) => intruder.on('close', resolve)), 10000, 'kamratd hangs up on root');
    assert.equal(received, 0, 'no header, no listening socket for another user');
    await waitFor(() => /handover_refused reason="a process of another user" uid=0 pid=\d+/.test(server.logs()), {
        timeout: 5000, desc: 'the refusal is logged',
    });

    // The running process is unaffected: it chats on, and the channel waits for its own user.
    const said = expectAck(await a.client.sayAndWait('still here'), true);
    const heard = await b.client.next((m) => m.type === 'message' && m.seq === said.seq);
    assert.equal(heard.text, 'still here');
    assert.ok(server.alive());
    assert.ok(fs.existsSync(channel), 'the channel is still open');
    assert.doesNotMatch(server.logs(), /handover_failed|handover_sent/);

    // The new process, of kamratd's user, takes over as usual.
    fs.writeFileSync(go, '');
    for (const c of [a, b]) assert.equal((await within(c.client.closed, 15000, 'closed')).code, 1012);
    const pid = await newProcess(t, server);
    assert.match(fs.readFileSync(`/proc/${pid}/status`, 'utf8'), new RegExp(`\nUid:\\s+${NOBODY}\\s`));
    assert.match(server.logs(), /handover_received rooms=1 /);
    const w = a.client.welcome;
    const { client, reply } = await resume(server, { token: w.token, epoch: w.epoch, after_seq: said.seq, label: 'Ana\'' });
    assert.equal(reply.type, 'welcome', JSON.stringify(reply));
    assert.equal(reply.resumed, true);
    assert.equal(reply.gap, false);
    expectAck(await client.sayAndWait('on the new process'), true);
    client.terminate();
});
