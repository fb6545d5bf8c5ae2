// TLS and HTTP headers (test plan D1-D4): testssl.sh and sslscan against the
// real kamratd with a throw-away CA, openssl probes, and the exact security
// header set on every kind of answer. testssl.sh and sslscan are Debian
// packages of those names (scripts/deps.sh installs them); the full testssl
// run and nmap are in tests/soak/README.md.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after } from 'node:test';
import {
    httpRequest,
    makeTempDir,
    prepareConfig,
    rawConnect,
    run,
    setUpGroup,
    startServer,
    test,
} from './lib/harness.mjs';

let shared = null;
/** One server for the file, with a group whose invite is active (calendar.ics). */
async function server() {
    shared ??= (async () => {
        const cfg = await prepareConfig({ openRooms: false, limits: { max_conns_per_address: 200 } });
        const g = await setUpGroup(cfg);
        const s = await startServer({ config: cfg });
        s.fixture = true;
        return { s, code: g.code, cfg };
    })();
    return shared;
}
after(async () => {
    if (shared) await (await shared.catch(() => null))?.s.stop();
});

const SECURITY_HEADERS = {
    'strict-transport-security': 'max-age=63072000; includeSubDomains',
    'content-security-policy':
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; " +
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
};
// A sub-resource of the web client (a script, a style, a catalog: never shown
// as a page) carries only those of them that apply to it: HSTS (any answer
// may be the first of the host a browser sees), nosniff (a script or style of
// the wrong type is refused) and CORP (another site may not load it). The
// others govern a page: what it may load and run, its referrer, features and
// window group; on a sub-resource they would only cost bytes on every
// request of a first visit (server/http.c). Pages, an SVG (a browser shows
// one opened by its URL as a page, scripts and all) and every answer that is
// not a file of the web client carry the whole set.
const SUBRESOURCE_HEADERS = ['strict-transport-security', 'x-content-type-options', 'cross-origin-resource-policy'];
// Everything else an answer may carry. No Server, no X-Powered-By, no
// X-XSS-Protection (lws's canned set), no Set-Cookie.
// The web client's files add their validator and coding (assets.test.mjs).
const OTHER_HEADERS = new Set([
    'cache-control', 'content-type', 'content-length', 'allow', 'connection', 'keep-alive', 'date',
    'etag', 'vary', 'content-encoding',
]);

async function which(tool) {
    const r = await run('sh', ['-c', `command -v ${tool}`]);
    return r.code === 0;
}

test('every kind of answer carries exactly the security header set (D4)', async (t) => {
    const { s, code } = await server();
    const json = { 'Content-Type': 'application/json', Origin: s.origin };
    const cases = [
        ['GET /', { path: '/' }, 200, 'no-cache'],
        ['GET /index.html', { path: '/index.html' }, 200, 'no-cache'],
        ['GET /js/app.js', { path: '/js/app.js' }, 200, 'no-cache', SUBRESOURCE_HEADERS],
        ['GET /js/app.js br', { path: '/js/app.js', headers: { 'Accept-Encoding': 'br' } }, 200, 'no-cache', SUBRESOURCE_HEADERS],
        ['GET /js/app.js 304', { path: '/js/app.js', headers: { 'If-None-Match': '*' } }, 304, 'no-cache', SUBRESOURCE_HEADERS],
        ['GET /css/app.css', { path: '/css/app.css' }, 200, 'no-cache', SUBRESOURCE_HEADERS],
        ['GET /i18n/fi.json', { path: '/i18n/fi.json' }, 200, 'no-cache', SUBRESOURCE_HEADERS],
        ['GET /icon.svg', { path: '/icon.svg' }, 200, 'no-cache'],
        ['GET /panel.html', { path: '/panel.html' }, 200, 'no-cache'],
        ['GET / br', { path: '/', headers: { 'Accept-Encoding': 'br' } }, 200, 'no-cache'],
        ['GET / 304', { path: '/', headers: { 'If-None-Match': '*' } }, 304, 'no-cache'],
        ['HEAD /', { method: 'HEAD', path: '/' }, 200, 'no-cache'],
        ['GET /leader', { path: '/leader' }, 200, 'no-cache'],
        ['GET /j/<code>', { path: `/j/${code}` }, 200, 'no-cache'],
        ['GET /j/<code>/calendar.ics', { path: `/j/${code}/calendar.ics` }, 200, 'no-store'],
        ['GET /j/<unknown>/calendar.ics', { path: `/j/${'A'.repeat(22)}/calendar.ics` }, 404, 'no-store'],
        ['GET 404', { path: '/no-such-file' }, 404, 'no-store'],
        ['POST / 405', { method: 'POST', path: '/', body: 'x' }, 405, 'no-store'],
        ['GET /healthz', { path: '/healthz' }, 200, 'no-store'],
        ['POST /api/login 401', { method: 'POST', path: '/api/login', headers: json, body: '{"username":"nobody","password":"wrong one"}' }, 401, 'no-store'],
        ['POST /api/login 400', { method: 'POST', path: '/api/login', headers: json, body: '{' }, 400, 'no-store'],
        ['POST /api/login 403', { method: 'POST', path: '/api/login', headers: { ...json, Origin: 'https://evil.example' }, body: '{}' }, 403, 'no-store'],
        ['GET /api/login 405', { path: '/api/login' }, 405, 'no-store'],
        ['GET /api/nothing 404', { path: '/api/nothing' }, 404, 'no-store'],
        ['POST /api/logout 204', { method: 'POST', path: '/api/logout', headers: { Origin: s.origin } }, 204, 'no-store'],
        ['GET /api/sessions 401', { path: '/api/sessions' }, 401, 'no-store'],
    ];
    for (const [what, req, status, cache, only] of cases) {
        const r = await httpRequest(s, { ...req, localAddress: '127.0.3.1' });
        assert.equal(r.status, status, `${what}: ${r.status} ${r.body.slice(0, 80)}`);
        for (const [k, v] of Object.entries(SECURITY_HEADERS)) {
            assert.equal(r.headers[k], !only || only.includes(k) ? v : undefined, `${what}: ${k}`);
        }
        const extra = Object.keys(r.headers).filter((k) => !(k in SECURITY_HEADERS) && !OTHER_HEADERS.has(k));
        assert.deepEqual(extra, [], `${what}: unexpected headers`);
        assert.equal(r.headers['cache-control'], cache, `${what}: cache-control`);
    }
    // A refused upgrade (403) carries them too.
    const refused = await rawConnect(s, { origin: 'https://evil.example' });
    refused.terminate();
    assert.equal(refused.status, 403);
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) assert.equal(refused.headers[k], v, `403 upgrade: ${k}`);
    t.diagnostic(`${cases.length + 1} kinds of answer checked; the 101 itself is lws's and carries only the WebSocket headers`);
});

test('openssl probes: TLS 1.1 and CBC refused, ECDHE-ECDSA-AES128-GCM works, h2 not selected (D3)', async () => {
    const { s } = await server();
    const ca = path.join(s.certDir, 'ca.pem');
    const probe = (args) => run('openssl', ['s_client', '-connect', `127.0.0.1:${s.port}`, '-servername', 'localhost', '-CAfile', ca, ...args], { input: '', timeout: 10000 });
    const v11 = await probe(['-tls1_1']);
    assert.notEqual(v11.code, 0, 'TLS 1.1 must fail');
    const cbc = await probe(['-tls1_2', '-cipher', 'AES128-SHA']);
    assert.notEqual(cbc.code, 0, 'AES128-SHA must fail');
    const gcm = await probe(['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-GCM-SHA256']);
    assert.equal(gcm.code, 0, gcm.stderr);
    assert.match(gcm.stdout, /Cipher is ECDHE-ECDSA-AES128-GCM-SHA256/);
    assert.match(gcm.stdout, /Verify return code: 0 \(ok\)/);
    const h2 = await probe(['-alpn', 'h2']);
    assert.match(h2.stdout, /No ALPN negotiated/);
    const v13 = await probe(['-tls1_3']);
    assert.match(v13.stdout, /New, TLSv1\.3, Cipher is TLS_AES_(128|256)_GCM_SHA(256|384)/);
});

test('sslscan: TLS 1.2 and 1.3 only, no renegotiation, no compression, the intermediate cipher list (D2)', async (t) => {
    assert.ok(await which('sslscan'), 'sslscan is not installed (Debian package sslscan; scripts/deps.sh)');
    const { s } = await server();
    const r = await run('sslscan', ['--no-colour', `127.0.0.1:${s.port}`], { timeout: 60000 });
    assert.equal(r.code, 0, r.stderr);
    const out = r.stdout;
    for (const p of ['SSLv2', 'SSLv3', 'TLSv1.0', 'TLSv1.1']) assert.match(out, new RegExp(`^${p.replace('.', '\\.')}\\s+disabled`, 'm'), p);
    for (const p of ['TLSv1.2', 'TLSv1.3']) assert.match(out, new RegExp(`^${p.replace('.', '\\.')}\\s+enabled`, 'm'), p);
    assert.match(out, /Session renegotiation not supported/);
    assert.doesNotMatch(out, /Compression enabled/);
    assert.doesNotMatch(out, /^(?!.*not vulnerable).*vulnerable to heartbleed/m);
    const ciphers = [...out.matchAll(/^(?:Preferred|Accepted)\s+(TLSv1\.[23])\s+\d+ bits\s+(\S+)/gm)].map((m) => `${m[1]} ${m[2]}`).sort();
    t.diagnostic(`ciphers: ${ciphers.join(', ')}`);
    // The certificate is ECDSA, so of the six TLS 1.2 suites only the ECDSA three can be used.
    assert.deepEqual(ciphers, [
        'TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256',
        'TLSv1.2 ECDHE-ECDSA-AES256-GCM-SHA384',
        'TLSv1.2 ECDHE-ECDSA-CHACHA20-POLY1305',
        'TLSv1.3 TLS_AES_128_GCM_SHA256',
        'TLSv1.3 TLS_AES_256_GCM_SHA384',
        'TLSv1.3 TLS_CHACHA20_POLY1305_SHA256',
    ]);
    const groups = new Set([...out.matchAll(/^TLSv1\.[23]\s+\d+ bits\s+(\S+)/gm)].map((m) => m[1]));
    for (const g of groups) assert.ok(['x25519', 'secp256r1', 'secp384r1'].includes(g), `key exchange group ${g}`);
});

test('testssl.sh: nothing but certificate revocation with the test CA, and the static pages\' compression (D1, C6)', { timeout: 110000 }, async (t) => {
    assert.ok(await which('testssl'), 'testssl is not installed (Debian package testssl.sh; scripts/deps.sh)');
    const { s } = await server();
    const dir = makeTempDir('kamrat-testssl-');
    const out = path.join(dir, 'out.json');
    const started = Date.now();
    // Protocols, cipher categories, forward secrecy, server defaults,
    // renegotiation and vulnerabilities: TESTPLAN D1's set (about 35 s here).
    const r = await run('testssl', [
        '--quiet', '--color', '0', '--warnings', 'batch', '--nodns', 'none', '--ip', '127.0.0.1',
        '--add-ca', path.join(s.certDir, 'ca.pem'), '-p', '-s', '-f', '-S', '-R', '-U',
        '--severity', 'LOW', '--jsonfile', out, `https://localhost:${s.port}`,
    ], { timeout: 100000, cwd: dir });
    t.diagnostic(`testssl ran ${Date.now() - started} ms, exit ${r.code}`);
    assert.ok(fs.existsSync(out), `no JSON from testssl: ${r.stderr.slice(-500)}${r.stdout.slice(-500)}`);
    const findings = JSON.parse(fs.readFileSync(out, 'utf8'));
    for (const f of findings) t.diagnostic(`${f.id} ${f.severity}: ${f.finding}`);
    // testssl's session-ticket test runs `openssl s_client </dev/null`, which
    // may hang up before TLS 1.3 tickets (sent after the handshake) arrive:
    // "Connect problem" then says nothing about the server; resumption by
    // ticket works (tests/soak/README.md shows the manual check).
    // testssl reports any compressed page as "BREACH potentially VULNERABLE":
    // it sees Content-Encoding and cannot tell what the page holds. BREACH
    // needs an answer that holds a secret and reflects the attacker's input;
    // the web client's pages are the same public bytes for every request
    // (assets.test.mjs checks that), and nothing that holds a secret (the
    // API, the invite's info) is ever compressed. docs/admin.md answers the
    // finding for an auditor. Any other BREACH finding still fails.
    const breach = (f) => f.id === 'BREACH' && /compression detected/.test(f.finding);
    const relevant = findings.filter(
        (f) => !(f.id === 'sessionresumption_ticket' && f.severity === 'WARN' && /connect problem/i.test(f.finding)) &&
            !breach(f),
    );
    assert.deepEqual(relevant.map((f) => f.id), ['cert_revocation'], 'only the missing CRL/OCSP of the test CA');
    assert.ok(!findings.some((f) => /renegotiation/i.test(f.id) && !/^(OK|INFO)$/.test(f.severity)), 'renegotiation');
});
