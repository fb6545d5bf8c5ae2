// Privacy (protocol/README.md section 9, test plan F1/F3): message text, pseudonyms
// and resume tokens never reach the logs or the data directory, even at the most
// verbose log level and on every error path that handles them.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { connect, httpRequest, join, resume, startServer, test, uid } from './lib/harness.mjs';

/** Every regular file under dir, recursively. */
function filesUnder(dir) {
    const out = [];
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, entry.name);
        if (entry.isDirectory()) out.push(...filesUnder(p));
        else if (entry.isFile()) out.push(p);
    }
    return out;
}

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
