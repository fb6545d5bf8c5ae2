// Repeat visits cost next to nothing (server/webroot.h): the web client's files
// carry a strong ETag and answer If-None-Match with a bare 304; they go out as
// Brotli or gzip when the browser accepts it (q-values honoured), the HTML
// too (it is the same public bytes for everyone: nothing for BREACH to
// guess), made once at start, with Vary: Accept-Encoding; the HTML points at
// a versioned path the browser keeps for good. Nothing else (the API,
// /healthz, /crisis.json) is ever compressed or kept. Sub-resources carry
// only the security headers that apply to them (tls.test.mjs has the sets).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { REPO, httpRequest, serverFixture, test } from './lib/harness.mjs';

const server = serverFixture({});

const SECURITY_HEADERS = [
    'strict-transport-security',
    'content-security-policy',
    'x-content-type-options',
    'referrer-policy',
    'permissions-policy',
    'cross-origin-opener-policy',
    'cross-origin-resource-policy',
];

/** One request; resolves {status, headers, body} with body the raw bytes. */
const get = (s, p, headers = {}, method = 'GET') => httpRequest(s, { method, path: p, headers, binary: true });

const onDisk = (p) => fs.readFileSync(path.join(REPO, 'web', p));

test('a file has a strong ETag; If-None-Match gets a 304 with no body and every security header', async () => {
    const s = await server();
    for (const p of ['/', '/js/conn.js', '/css/app.css']) {
        const first = await get(s, p);
        assert.equal(first.status, 200);
        assert.match(first.headers.etag, /^"[0-9a-f]{32}"$/, `${p}: a strong ETag from the content's hash`);
        assert.equal(first.headers.vary, 'Accept-Encoding');
        const again = await get(s, p, { 'If-None-Match': first.headers.etag });
        assert.equal(again.status, 304, `${p}: revalidated`);
        assert.equal(again.body.length, 0, `${p}: a 304 has no body`);
        assert.equal(again.headers.etag, first.headers.etag);
        assert.equal(again.headers.vary, 'Accept-Encoding');
        assert.equal(again.headers['content-encoding'], undefined);
        for (const h of SECURITY_HEADERS) assert.equal(again.headers[h], first.headers[h], `${p} 304: ${h}`);
        assert.equal(again.headers['cache-control'], first.headers['cache-control']);
        // In a list, weak, or any: still the same file.
        assert.equal((await get(s, p, { 'If-None-Match': `"other", W/${first.headers.etag}` })).status, 304);
        assert.equal((await get(s, p, { 'If-None-Match': '"0123"' })).status, 200);
        // HEAD: the same headers, no body; revalidated the same way.
        const head = await get(s, p, {}, 'HEAD');
        assert.equal(head.status, 200);
        assert.equal(head.body.length, 0);
        assert.equal(head.headers['content-length'], first.headers['content-length']);
        assert.equal(head.headers.etag, first.headers.etag);
        assert.equal((await get(s, p, { 'If-None-Match': first.headers.etag }, 'HEAD')).status, 304);
    }
    // The HTML may be kept but is checked on every use: it holds nothing of anyone.
    assert.equal((await get(s, '/')).headers['cache-control'], 'no-cache');
    // A different file, a different validator.
    assert.notEqual((await get(s, '/js/app.js')).headers.etag, (await get(s, '/js/conn.js')).headers.etag);
});

test('Brotli and gzip copies decompress to the exact file; identity when not accepted', async () => {
    const s = await server();
    const file = onDisk('js/conn.js');
    const br = await get(s, '/js/conn.js', { 'Accept-Encoding': 'gzip, deflate, br' });
    assert.equal(br.headers['content-encoding'], 'br');
    assert.equal(br.headers.vary, 'Accept-Encoding');
    assert.ok(br.body.length < file.length / 2, `br is ${br.body.length} of ${file.length} bytes`);
    assert.ok(zlib.brotliDecompressSync(br.body).equals(file), 'br decompresses to the file');
    assert.match(br.headers.etag, /^"[0-9a-f]{32}-br"$/, 'each coding has its own strong validator');

    const gz = await get(s, '/js/conn.js', { 'Accept-Encoding': 'gzip' });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.ok(zlib.gunzipSync(gz.body).equals(file), 'gzip decompresses to the file');
    assert.notEqual(gz.headers.etag, br.headers.etag);
    // A 304 only for the copy the browser holds.
    assert.equal((await get(s, '/js/conn.js', { 'Accept-Encoding': 'gzip', 'If-None-Match': gz.headers.etag })).status, 304);
    assert.equal((await get(s, '/js/conn.js', { 'Accept-Encoding': 'br', 'If-None-Match': gz.headers.etag })).status, 200);

    const plain = await get(s, '/js/conn.js');
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(plain.headers.vary, 'Accept-Encoding');
    assert.ok(plain.body.equals(file));

    // q-values: the highest wins, q=0 is never chosen, identity is the last resort.
    const pick = async (ae) => (await get(s, '/js/conn.js', { 'Accept-Encoding': ae })).headers['content-encoding'] ?? 'identity';
    assert.equal(await pick('gzip;q=1.0, br;q=0.5'), 'gzip');
    assert.equal(await pick('br;q=0, gzip;q=0'), 'identity');
    assert.equal(await pick('br;q=0, *'), 'gzip');
    assert.equal(await pick('*;q=0.1'), 'br');
    assert.equal(await pick('identity'), 'identity');
    assert.equal(await pick('identity;q=1, br;q=0.9'), 'identity');
    assert.equal(await pick('BR ; Q=0.2'), 'br');
    assert.equal(await pick('deflate'), 'identity');
    assert.equal(await pick(''), 'identity');

    // The HTML too. BREACH guesses a secret from the sizes of compressed
    // answers that also reflect the attacker's input; the pages hold neither
    // (server/webroot.c, docs/admin.md): every request for them, whatever
    // its path or query, gets the same bytes, the ones on disk.
    for (const p of ['/', '/index.html', '/leader', `/j/${'A'.repeat(22)}`, '/?x=reflect-me', '/admin']) {
        const html = await get(s, p, { 'Accept-Encoding': 'br, gzip' });
        assert.equal(html.headers['content-encoding'], 'br', p);
        assert.equal(html.headers.vary, 'Accept-Encoding');
        const page = zlib.brotliDecompressSync(html.body).toString('utf8');
        const file = onDisk(p === '/admin' ? 'admin.html' : 'index.html').toString('utf8');
        // The same bytes but the versioned prefix webroot adds to each reference.
        assert.equal(page.replace(/\/v\/[0-9a-f]{16}\//g, '/'), file, `${p}: the file itself, nothing of the request`);
        assert.doesNotMatch(page, /reflect-me|AAAAAAAA/, `${p}: nothing of the request`);
    }
});

test('the HTML points at a versioned path that browsers keep for good', async () => {
    const s = await server();
    const html = (await get(s, '/')).body.toString('utf8');
    const refs = [...html.matchAll(/ (?:src|href)="(\/v\/[0-9a-f]{16})(\/[^"]+)"/g)];
    assert.deepEqual(refs.map((m) => m[2]).sort(), ['/branding.css', '/css/app.css', '/icon.svg', '/js/app.js']);
    const prefix = refs[0][1];
    assert.ok(refs.every((m) => m[1] === prefix), 'one version for the whole tree');
    const app = await get(s, `${prefix}/js/app.js`);
    assert.equal(app.status, 200);
    assert.equal(app.headers['cache-control'], 'max-age=31536000, immutable');
    assert.ok(app.body.equals(onDisk('js/app.js')));
    // The modules' relative imports and fetches stay under the prefix.
    for (const p of ['/js/conn.js', '/i18n/fi.json', '/panel.html']) {
        const r = await get(s, `${prefix}${p}`);
        assert.equal(r.status, 200, p);
        assert.equal(r.headers['cache-control'], 'max-age=31536000, immutable', p);
    }
    // Another version (a page from before an upgrade) gets today's file, checked on every use.
    const old = await get(s, '/v/0000000000000000/js/app.js');
    assert.equal(old.status, 200);
    assert.equal(old.headers['cache-control'], 'no-cache');
    assert.equal((await get(s, '/v/0000000000000000')).status, 404);
    assert.equal((await get(s, `${prefix}/no-such-file.js`)).status, 404);
});

test('the API, /healthz, /crisis.json and errors are never compressed, kept or given a validator', async () => {
    const s = await server();
    const ae = { 'Accept-Encoding': 'br, gzip', 'If-None-Match': '*' };
    for (const [p, status] of [
        ['/healthz', 200],
        ['/crisis.json', 200],
        ['/api/sessions', 401],
        ['/api/nothing', 404],
        ['/no-such-file', 404],
    ]) {
        const r = await get(s, p, ae);
        assert.equal(r.status, status, p);
        assert.equal(r.headers['content-encoding'], undefined, `${p}: not compressed`);
        assert.equal(r.headers.etag, undefined, `${p}: no validator`);
        assert.equal(r.headers['cache-control'], 'no-store', p);
    }
    const health = await get(s, '/healthz', ae);
    assert.equal(JSON.parse(health.body.toString('utf8')).status, 'ok');
});
