// Privacy (protocol/README.md section 9, test plan F1/F3): message text, pseudonyms
// and resume tokens never reach the logs or the data directory, even at the most
// verbose log level and on every error path that handles them.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { connect, filesUnder, httpRequest, join, resume, sessionFixture, startServer, test, uid } from './lib/harness.mjs';

test('no message text, pseudonym or token in the logs or the data directory (log_level debug, -v)', async (t) => {
    const s = await startServer({
        logLevel: 'debug',
        args: ['-v'],
        limits: { rate_per_sec: 1000, rate_burst: 1000, max_text_chars: 4000 },
    });
    const canary = `KMRT-CANARY-${crypto.randomUUID()}`;
    const nameCanary = `Kmrtname${crypto.randomBytes(6).toString('hex')}`;
    const secrets = [canary, nameCanary];
    const room = uid('privacy-');

    // Ordinary traffic.
    // The schema has its own tests; here a schema problem must not hide a leak.
    const lenient = { strictSchema: false };
    const a = await join(s, room, nameCanary, lenient);
    const b = await join(s, room, 'Listener', lenient);
    secrets.push(a.welcome.token, b.welcome.token);
    for (const text of [canary, `${canary} with åäö and 🌻`, `line\n${canary}\ttab`]) {
        const ack = await a.client.sayAndWait(text);
        assert.equal(ack.type, 'ack', JSON.stringify(ack));
        await b.client.next((m) => m.type === 'message' && m.seq === ack.seq);
    }

    // Error paths that see the text or the name.
    for (const frame of [
        JSON.stringify({ type: 'say', id: 'long', text: `${canary}${'x'.repeat(4000)}` }), // text_too_long
        JSON.stringify({ type: 'say', id: 'ctrl', text: `${canary}\u0007` }), // bad_field
        `{"type":"say","id":"broken","text":"${canary}`, // bad_json
        `{"type":"say","id":"dup","text":"${canary}","text":"${canary}"}`, // duplicate_key
        JSON.stringify({ type: 'say', id: 'extra', text: canary, note: canary }), // unknown_field
        JSON.stringify({ type: 'hello', id: 'again', room, name: nameCanary }), // already_joined
    ]) {
        await a.client.sendRaw(frame);
        const reply = await a.client.nextReply();
        assert.equal(reply.type, 'error', JSON.stringify(reply));
    }
    const c = await connect(s, lenient);
    for (const name of [nameCanary, nameCanary.toUpperCase(), `${nameCanary} `, `\u202e${nameCanary}`]) {
        c.send({ type: 'hello', room, name }); // name_taken, bad_name
        assert.equal((await c.nextReply()).type, 'error');
    }
    // A too-big frame and a binary frame holding the text.
    const big = await join(s, room, `${nameCanary}-big`, lenient);
    secrets.push(big.welcome.token);
    await big.client.sendRaw(JSON.stringify({ type: 'say', id: 'big', text: canary.repeat(600) }));
    await big.client.expectClose();
    const bin = await join(s, room, `${nameCanary}-bin`, lenient);
    secrets.push(bin.welcome.token);
    await bin.client.sendRaw(Buffer.from(JSON.stringify({ type: 'say', id: 'bin', text: canary })), { binary: true });
    await bin.client.expectClose();

    // Resume with the token: dropped, resumed, a failed resume with a wrong epoch.
    const lastSeen = a.client.events().at(-1).seq;
    a.client.terminate();
    await a.client.closed;
    const { client: a2, reply } = await resume(s, { token: a.welcome.token, epoch: a.welcome.epoch, after_seq: lastSeen, ...lenient });
    assert.equal(reply.type, 'welcome', JSON.stringify(reply));
    secrets.push(reply.token);
    const wrongEpoch = a.welcome.epoch.replace(/.$/, (d) => (d === '0' ? '1' : '0'));
    const { reply: failed } = await resume(s, { token: b.welcome.token, epoch: wrongEpoch, after_seq: 0, ...lenient });
    assert.equal(failed.code, 'resume_failed');
    const { reply: unknown } = await resume(s, { token: crypto.randomBytes(32).toString('base64url'), epoch: a.welcome.epoch, after_seq: 0, ...lenient });
    assert.equal(unknown.code, 'resume_failed');
    assert.equal((await a2.sayAndWait(`${canary} after resume`)).type, 'ack');

    // Reload, leave, shut down: the paths that run at the end of a session.
    s.signal('SIGHUP');
    a2.send({ type: 'leave' });
    await a2.expectClose();
    const exit = await s.stop('SIGTERM');
    assert.equal(exit.code, 0);

    const logs = s.logs();
    assert.match(logs, /\bdebug\b/i, 'the log really is at debug level (otherwise this test proves nothing)');
    assert.ok(logs.split('\n').length >= 10, 'the server logged the session');
    for (const secret of secrets) {
        const at = logs.indexOf(secret);
        assert.equal(at, -1, `the log holds a secret: …${logs.slice(Math.max(0, at - 80), at + secret.length + 20)}…`);
    }
    // Only the text and name canaries are in lower/upper case variants too.
    assert.ok(!logs.toLowerCase().includes(canary.toLowerCase()), 'no message text in any case');
    assert.ok(!logs.toLowerCase().includes(nameCanary.toLowerCase()), 'no pseudonym in any case');

    const files = filesUnder(s.dataDir);
    t.diagnostic(`data dir files: ${files.map((f) => path.relative(s.dataDir, f)).join(', ') || '(none)'}`);
    for (const f of files) {
        const bytes = fs.readFileSync(f);
        for (const secret of secrets) {
            for (const enc of ['utf8', 'utf16le']) {
                assert.equal(bytes.indexOf(Buffer.from(secret, enc)), -1, `${f} holds a secret (${enc})`);
            }
        }
    }
});

/** Fails when a secret (in UTF-8 or UTF-16) is in the server's log or in a data file. */
function assertNowhere(t, server, secrets) {
    const logs = server.logs();
    for (const secret of secrets) {
        const at = logs.toLowerCase().indexOf(secret.toLowerCase());
        assert.equal(at, -1, `the log holds a secret: …${logs.slice(Math.max(0, at - 80), at + secret.length + 20)}…`);
    }
    const files = filesUnder(server.dataDir);
    t.diagnostic(`data dir files: ${files.map((f) => path.relative(server.dataDir, f)).join(', ')}`);
    for (const f of files) {
        const bytes = fs.readFileSync(f);
        for (const secret of secrets) {
            for (const enc of ['utf8', 'utf16le']) {
                assert.equal(bytes.indexOf(Buffer.from(secret, enc)), -1, `${f} holds a secret (${enc})`);
            }
        }
    }
}

test('moderation paths keep text and pseudonyms out of logs and files: topic, private, back-channel, delete, report, risk words, ban', async (t) => {
    const canary = `kmrtcanary${crypto.randomBytes(6).toString('hex')}`;
    const nameCanary = `Kmrtname${crypto.randomBytes(6).toString('hex')}`;
    const fx = await sessionFixture({
        participants: [nameCanary, 'Kim'],
        keys: true,
        riskWords: { en: ['kmrtrisk'] },
        logLevel: 'debug',
        args: ['-v'],
    });
    const { leader } = fx;
    const sol = fx.p[nameCanary];
    const kim = fx.p.Kim;
    const ok = async (client, req) => {
        const a = await client.request(req);
        assert.equal(a.type === 'error' ? a.code : a.type, req.type === 'bans' ? 'bans' : 'ack', `${req.type}: ${JSON.stringify(a)}`);
        return a;
    };
    await ok(leader, { type: 'topic', text: `topic ${canary}` });
    await ok(sol, { type: 'say', text: `to the leaders ${canary}`, to: 'leaders' });
    await ok(leader, { type: 'say', text: `reply ${canary}`, to: sol.member });
    await ok(leader, { type: 'promote', member: kim.member });
    await ok(kim, { type: 'say', text: `back-channel ${canary}`, to: 'leaders' });
    const risky = await ok(sol, { type: 'say', text: `kmrtrisk ${canary}` });
    await ok(sol, { type: 'report', seq: risky.seq });
    await ok(leader, { type: 'delete', seq: risky.seq });
    await ok(leader, { type: 'mute', member: sol.member, minutes: 5 });
    const muted = await sol.request({ type: 'say', text: `while muted ${canary}` });
    assert.equal(muted.code, 'muted');
    await ok(leader, { type: 'demote', member: kim.member });
    await ok(leader, { type: 'ban', member: kim.member }); // Kim's pseudonym is stored by design (README section 9)
    await ok(leader, { type: 'bans' });
    await ok(leader, { type: 'end' });
    assert.equal((await fx.server.stop('SIGTERM')).code, 0);
    assert.match(fx.server.logs(), /moderation action=ban/, 'the moderation really was logged (otherwise this test proves nothing)');
    // The store keeps digests of the leader's login and the participant keys, never the secrets.
    assertNowhere(t, fx.server, [canary, nameCanary, sol.token, kim.token, fx.token, sol.key, kim.key]);
});

test('invite codes from links and hellos, usernames and passwords stay out of the logs (-v)', async () => {
    const s = await startServer({ args: ['-v'], logLevel: 'debug' });
    const code = `${uid('c').replace(/[^A-Za-z0-9]/g, '')}QQQQQQQQQQQQQQQQQQQQQQ`.slice(0, 22);
    await httpRequest(s, { path: `/j/${code}` });
    await httpRequest(s, { path: `/j/${code}/calendar.ics` });
    const c = await connect(s);
    c.send({ type: 'hello', id: 'h', invite: code, name: 'Pseudo' });
    assert.equal((await c.nextReply()).code, 'invite_invalid');
    await httpRequest(s, {
        method: 'POST',
        path: '/api/login',
        headers: { 'Content-Type': 'application/json', Origin: s.origin },
        body: JSON.stringify({ username: 'secretleader', password: 'secret password 1' }),
    });
    await new Promise((r) => setTimeout(r, 300)); // let the log lines land
    const logs = s.logs();
    for (const secret of [code, 'secretleader', 'secret password 1']) {
        assert.equal(logs.includes(secret), false, `the log holds ${secret}`);
    }
});

test('no core dumps: RLIMIT_CORE 0 and not dumpable, from the start (F)', async (t) => {
    const s = await startServer({ logLevel: 'debug', args: ['-v'] });
    const limits = fs.readFileSync(`/proc/${s.pid}/limits`, 'utf8');
    assert.match(limits, /^Max core file size\s+0\s+0\s+bytes/m, limits);
    // PR_SET_DUMPABLE has no field in /proc/PID/status. The kernel gives the
    // /proc/PID/ files of a process that is not dumpable to root, which only
    // shows when the test does not run as root; the server logs the state it
    // read back with PR_GET_DUMPABLE.
    assert.match(s.logs(), /hardening core_limit=0 dumpable=0/);
    if (process.getuid() !== 0) {
        assert.equal(fs.statSync(`/proc/${s.pid}/status`).uid, 0, '/proc/PID/ belongs to root (not dumpable)');
    } else {
        t.diagnostic('running as root: the /proc ownership check does not apply');
    }
});
