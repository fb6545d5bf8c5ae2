// The daemon's command line, configuration errors and signals (STYLE.md daemon
// conventions): exit 0 / 64 usage / 78 config; SIGTERM drains with close 1001 and
// exits 0; SIGHUP reloads without dropping connections; SIGUSR1 toggles debug logging.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { health, join, makeCerts, prepareConfig, runKamratd, startServer, test, uid, waitFor, within } from './lib/harness.mjs';

test('SIGTERM with clients connected: every client gets 1001, exit 0 within 5 s', async () => {
    const s = await startServer();
    const room = uid('term-');
    const members = [];
    for (let i = 0; i < 3; i++) members.push(await join(s, room, `Member ${i}`));
    members.push(await join(s, uid('term-other-'), 'Elsewhere'));
    const t0 = Date.now();
    const exit = await s.stop('SIGTERM');
    const took = Date.now() - t0;
    assert.deepEqual(exit, { code: 0, signal: null }, `exit status after SIGTERM (log:\n${s.logs()})`);
    assert.ok(took <= 5000, `exited ${took} ms after SIGTERM`);
    for (const { client } of members) {
        const closed = await within(client.closed, 2000, `${client.label} to be closed`);
        assert.equal(closed.code, 1001, `${client.label} close code`);
    }
});

test('kamratd -t -c good.conf exits 0 and starts nothing', async () => {
    const cfg = await prepareConfig();
    const r = await runKamratd(['-t', '-c', cfg.configPath]);
    assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
    const long = await runKamratd(['--check-config', '--config', cfg.configPath]);
    assert.equal(long.code, 0, `long options: exit ${long.code}: ${long.stderr}`);
});

/**
 * Writes a config with extra lines appended to [limits] (or replacing the whole
 * text) and returns {configPath, line} where line is the 1-based line of the first
 * appended line.
 */
async function badConfig(extraLimitLines) {
    const cfg = await prepareConfig({ limits: { max_fragments: 8 } });
    const text = cfg.configText.trimEnd();
    const lines = text.split('\n');
    const line = lines.length + 1;
    fs.writeFileSync(cfg.configPath, `${text}\n${extraLimitLines.join('\n')}\n`);
    return { configPath: cfg.configPath, line };
}

function assertNamesLine(stderr, configPath, line) {
    const full = `${configPath}:${line}:`;
    const base = `${path.basename(configPath)}:${line}:`;
    assert.ok(stderr.includes(full) || stderr.includes(base), `stderr names ${full}: ${JSON.stringify(stderr)}`);
}

test('config errors exit 78 and name file:line', async (t) => {
    const cases = [
        ['unknown key', ['no_such_key = 1'], 0],
        ['duplicate key', ['max_fragments = 9'], 0],
        ['value out of range (max_fragments = 0)', ['max_message_bytes = 16384', 'max_fragments = 0'], 1],
        ['value out of range (hello_timeout = 61)', ['hello_timeout = 61'], 0],
        ['value out of range (max_message_bytes = 100)', ['max_message_bytes = 100'], 0],
        ['not a number', ['rate_burst = lots'], 0],
        ['negative number', ['rate_per_sec = -1'], 0],
    ];
    for (const [what, lines, offset] of cases) {
        await t.test(what, async () => {
            const { configPath, line } = await badConfig(lines);
            for (const args of [['-t', '-c', configPath], ['-c', configPath]]) {
                const r = await runKamratd(args);
                assert.equal(r.code, 78, `${args.join(' ')}: exit ${r.code}, stderr ${JSON.stringify(r.stderr)}`);
                assertNamesLine(r.stderr, configPath, line + offset);
            }
        });
    }
    await t.test('unknown section', async () => {
        const cfg = await prepareConfig();
        const line = cfg.configText.trimEnd().split('\n').length + 2;
        fs.writeFileSync(cfg.configPath, `${cfg.configText.trimEnd()}\n\n[bogus]\nkey = 1\n`);
        const r = await runKamratd(['-t', '-c', cfg.configPath]);
        assert.equal(r.code, 78, `exit ${r.code}: ${r.stderr}`);
        const named = [line, line + 1].some((l) => r.stderr.includes(`${cfg.configPath}:${l}:`) || r.stderr.includes(`kamrat.conf:${l}:`));
        assert.ok(named, `stderr names the line: ${JSON.stringify(r.stderr)}`);
    });
    await t.test('missing file', async () => {
        const r = await runKamratd(['-t', '-c', '/nonexistent/kamrat.conf']);
        assert.equal(r.code, 78, `exit ${r.code}: ${r.stderr}`);
        assert.match(r.stderr, /\/nonexistent\/kamrat\.conf/);
    });
});

test('command line: --bogus exits 64, -V prints the version, -h prints usage', async () => {
    const bogus = await runKamratd(['--bogus']);
    assert.equal(bogus.code, 64, `--bogus: exit ${bogus.code}`);
    assert.ok(bogus.stderr.length > 0, '--bogus says what is wrong on stderr');
    const stray = await runKamratd(['-c']);
    assert.equal(stray.code, 64, `-c without a file: exit ${stray.code}`);

    const v = await runKamratd(['-V']);
    assert.equal(v.code, 0, `-V: exit ${v.code}`);
    const m = /\b(\d+\.\d+\.\d+)\b/.exec(v.stdout);
    assert.ok(m, `-V prints a version: ${JSON.stringify(v.stdout)}`);
    const vLong = await runKamratd(['--version']);
    assert.equal(vLong.code, 0);
    assert.equal(vLong.stdout, v.stdout);

    const h = await runKamratd(['-h']);
    assert.equal(h.code, 0, `-h: exit ${h.code}`);
    assert.match(h.stdout + h.stderr, /-c/, '-h mentions -c');
    assert.equal((await runKamratd(['--help'])).code, 0);

    // The running server reports the same version.
    const s = await startServer();
    const hz = await health(s);
    assert.equal(hz.version, m[1], '/healthz and -V agree');
    await s.stop();
});

test('SIGHUP with connections open: they survive, messages still flow, the process keeps running', async () => {
    const s = await startServer();
    const room = uid('hup-');
    const a = await join(s, room, 'Ana');
    const b = await join(s, room, 'Ben');
    for (let round = 0; round < 2; round++) {
        const mark = s.logs().length;
        s.signal('SIGHUP');
        // The reload is logged; when it is, the signal has been handled.
        const logged = await within(
            new Promise((resolve) => {
                const iv = setInterval(() => {
                    if (s.logs().length > mark) {
                        clearInterval(iv);
                        resolve(true);
                    }
                }, 20);
            }),
            3000,
            'a log line after SIGHUP',
        ).catch(() => false);
        assert.ok(logged, 'SIGHUP is logged');
        assert.ok(s.alive(), `kamratd still runs after SIGHUP ${round + 1}`);
        const ack = await a.client.sayAndWait(`after SIGHUP ${round + 1}`);
        assert.equal(ack.type, 'ack', JSON.stringify(ack));
        await b.client.next((m) => m.type === 'message' && m.seq === ack.seq);
        assert.equal(a.client.isClosed, false);
        assert.equal(b.client.isClosed, false);
    }
    // New connections work with the reloaded certificate.
    const c = await join(s, room, 'Cy');
    assert.equal((await c.client.sayAndWait('new after reload')).type, 'ack');
    assert.equal((await health(s)).status, 'ok');
    const exit = await s.stop();
    assert.equal(exit.code, 0);
});

/** The SHA-256 fingerprint of the certificate a new TLS handshake presents. */
function servedFingerprint(s) {
    return new Promise((resolve, reject) => {
        const sock = tls.connect(
            { host: '127.0.0.1', port: s.port, servername: 'localhost', rejectUnauthorized: false },
            () => {
                const fp = sock.getPeerCertificate().fingerprint256;
                sock.destroy();
                resolve(fp);
            },
        );
        sock.on('error', reject);
    });
}

async function waitForLog(s, text, ms = 3000) {
    const deadline = Date.now() + ms;
    while (!s.logs().includes(text)) {
        if (Date.now() > deadline) throw new Error(`the log did not say ${text} within ${ms} ms`);
        await new Promise((r) => setTimeout(r, 20));
    }
}

test('SIGHUP with a new certificate: new handshakes get it, open sessions go on; a broken pair is refused', async () => {
    const s = await startServer();
    const room = uid('cert-');
    const a = await join(s, room, 'Ana');
    const before = await servedFingerprint(s);

    // Replace the files in place, as certbot's renewal does behind its symlinks.
    // Same CA (mkcert.sh reuses the one it finds), new key and certificate.
    const renewed = path.join(s.dir, 'renewed');
    fs.mkdirSync(renewed);
    for (const f of ['ca.pem', 'ca.key']) fs.copyFileSync(path.join(s.certDir, f), path.join(renewed, f));
    const fresh = await makeCerts(renewed);
    fs.copyFileSync(path.join(fresh.dir, 'server.pem'), path.join(s.certDir, 'server.pem'));
    fs.copyFileSync(path.join(fresh.dir, 'server.key'), path.join(s.certDir, 'server.key'));
    s.signal('SIGHUP');
    await waitForLog(s, 'tls_reloaded');
    const after = await servedFingerprint(s);
    assert.notEqual(after, before, 'a new handshake presents the renewed certificate');

    a.client.send({ type: 'say', id: 'after-reload', text: 'still here' });
    assert.equal((await a.client.next('ack')).ref, 'after-reload', 'the open session goes on');

    // A certificate that does not match its key is refused; the served one stays.
    fs.copyFileSync(path.join(s.dir, 'certs', 'ca.pem'), path.join(s.certDir, 'server.pem'));
    s.signal('SIGHUP');
    await waitForLog(s, 'tls_reload_failed');
    assert.equal(await servedFingerprint(s), after, 'a broken pair leaves the working certificate in place');
    assert.equal((await health(s)).status, 'ok');
    assert.equal((await s.stop()).code, 0);
});

test('SIGUSR1 turns debug logging on and off again, without a restart', async () => {
    const s = await startServer({ logLevel: 'info' });
    const room = uid('usr1-');
    await join(s, room, 'Ana');
    assert.doesNotMatch(s.logs(), /\bmember_join\b/, 'no debug lines at info');
    s.signal('SIGUSR1');
    await waitFor(() => /log_level level=debug/.test(s.logs()), { timeout: 3000, desc: 'debug on' });
    await join(s, room, 'Ben');
    await waitFor(() => /\bmember_join\b/.test(s.logs()), { timeout: 3000, desc: 'a debug line' });
    s.signal('SIGUSR1');
    await waitFor(() => /log_level level=info/.test(s.logs()), { timeout: 3000, desc: 'back to info' });
    const mark = s.logs().length;
    await join(s, room, 'Cai');
    assert.doesNotMatch(s.logs().slice(mark), /\bmember_join\b/, 'debug is off again');
    assert.equal((await health(s)).status, 'ok');
});
