// Seed corpora of the fuzz targets, from the case tables (named by content
// hash, so running this again adds nothing twice):
//   decode    every frame of protocol/examples/requests.json, JSON bombs, long round orders
//   assemble  the data-frame rows of the framing table as wsrx pieces, and requests cut up
//   room      sessions: the leader and three participants enter, then every request
//             of requests.json from the leader and from a participant
//   config    kamrat.conf.example, with each [limits] key at its bounds, and broken lines
//   name      every name of protocol/examples/names.json alone, and each pair NUL-separated
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const counts = {};

function seed(target, bytes) {
    const out = join(here, 'corpus', target);
    mkdirSync(out, { recursive: true });
    const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes, 'utf8');
    writeFileSync(join(out, createHash('sha1').update(buf).digest('hex').slice(0, 16)), buf);
    counts[target] = (counts[target] ?? 0) + 1;
}

// ---- decode
const ex = JSON.parse(readFileSync(join(root, 'protocol/examples/requests.json'), 'utf8'));
const frames = [...ex.valid, ...ex.invalid].map((e) => e.frame);
const bombs = ['['.repeat(3000), '{"a":'.repeat(2000), `{"type":"say","id":"x","text":"${'\\u00e4'.repeat(4000)}"}`];
bombs.push(`{${Array.from({ length: 1000 }, (_, i) => `"k${i}":1`).join(',')}}`);
// Round orders: far over the cap (checked before the quadratic test for repeats),
// and at the cap in reverse with the repeat last.
const order = (n) => Array.from({ length: n }, (_, i) => n - i);
bombs.push(`{"type":"round_order","order":[${order(3000)}]}`);
bombs.push(`{"type":"round_start","kind":"round","order":[${[...order(499), 499]}],"exclusive":false}`);
bombs.push(`{"type":"topic","id":"t","text":"${'\\u00e4'.repeat(500)}"}`);
for (const f of [...frames, ...bombs]) seed('decode', f);

// ---- assemble: [caps][flags len data]... (fuzz_assemble.c). flags: 1 frame end,
// 2 FIN, 4 new connection, bits 4-7 scale the length.
const CAPS_1024_8 = 0x70 | 0x0f; // 961 bytes, 8 frames
function pieces(caps, list) {
    const parts = [Buffer.from([caps])];
    for (const { data = '', end = true, fin = true, fresh = false, scale = 0 } of list) {
        const b = Buffer.from(data, 'utf8');
        const len = Math.min(255, scale ? Math.ceil(b.length / (scale + 1)) : b.length);
        parts.push(Buffer.from([(end ? 1 : 0) | (fin ? 2 : 0) | (fresh ? 4 : 0) | (scale << 4), len]), b.subarray(0, len * (scale + 1)));
    }
    return Buffer.concat(parts);
}
const say = '{"type":"say","id":"f1","text":"framed"}';
const fragments = (s, n) => Array.from({ length: n }, (_, i) => ({
    data: s.slice(Math.floor((i * s.length) / n), Math.floor(((i + 1) * s.length) / n)),
    fin: i === n - 1,
}));
seed('assemble', pieces(CAPS_1024_8, [{ data: say }]));
for (const n of [2, 3, 8, 9, 12]) seed('assemble', pieces(CAPS_1024_8, fragments(say, n)));
// One frame delivered in chunks (lws splits a frame at its buffer size).
seed('assemble', pieces(CAPS_1024_8, [{ data: say.slice(0, 10), end: false, fin: false }, { data: say.slice(10) }]));
// Empty fragments, then a message; a message too big in one piece and in two.
seed('assemble', pieces(CAPS_1024_8, [{ fin: false }, { fin: false }, { data: say }]));
seed('assemble', pieces(0x00, [{ data: 'x'.repeat(200), scale: 1 }]));
seed('assemble', pieces(0x01, [{ data: 'x'.repeat(100), fin: false }, { data: 'y'.repeat(100) }]));
// Messages back to back, and a fresh connection after a refused one.
seed('assemble', pieces(CAPS_1024_8, [...fragments(say, 2), { data: say }, ...fragments(say, 4)]));
seed('assemble', pieces(0x70, [...fragments(say, 9), { data: say, fresh: true }]));
for (const f of frames.slice(0, 60)) seed('assemble', pieces(CAPS_1024_8, fragments(f, 1 + (f.length % 5))));

// ---- room: [op len json]... (fuzz_room.c); @T token, @S session, @I invite, @K key.
const rec = (user, json, lost = false) => {
    const b = Buffer.from(json, 'utf8').subarray(0, 255);
    return Buffer.concat([Buffer.from([user | (lost ? 0x80 : 0), b.length]), b]);
};
const enterAll = [
    rec(0, '{"type":"hello","id":"h0","token":"@T","session":@S}'),
    rec(0, '{"type":"open","id":"o"}'),
    ...[1, 2, 3].flatMap((u) => [
        rec(u, `{"type":"hello","id":"h${u}","invite":"@I","name":"P${u}","key":"@K"}`),
        rec(u, '{"type":"agree","id":"a"}'),
        rec(u, `{"type":"say","id":"s${u}","text":"hei ${u}"}`),
    ]),
];
const session = (...more) => Buffer.concat([...enterAll, ...more]);
seed('room', session());
for (const f of ex.valid.map((e) => e.frame).filter((f) => !f.includes('"hello"') && !f.includes('"resume"'))) {
    seed('room', session(rec(0, f)));
    seed('room', session(rec(1, f)));
}
seed('room', session(rec(0, '{"type":"ban","id":"b","member":2}'), rec(1, '{"type":"hello","id":"h","invite":"@I","name":"Again","key":"@K"}')));
seed('room', session(rec(0, '{"type":"promote","id":"p","member":3}'), rec(2, '{"type":"mute","id":"m","member":4,"minutes":5}'), rec(3, '{"type":"say","id":"x","text":"muted?"}')));
seed('room', session(rec(0, '{"type":"round_start","id":"r","kind":"round","order":[2,3,4],"exclusive":true}'), rec(1, '{"type":"round_done","id":"d"}'), rec(2, '{"type":"say","id":"t","text":"my turn"}')));
seed('room', session(rec(1, '{"type":"say","id":"q","text":"x"}', true), rec(0, '{"type":"end","id":"e"}')));
seed('room', session(rec(0, '{"type":"lock","id":"l","on":true}'), rec(3, '{"type":"leave","id":"v"}'), rec(3, '{"type":"hello","id":"h","invite":"@I","name":"Back","key":"@K"}')));

// ---- config
const example = readFileSync(join(root, 'kamrat.conf.example'), 'utf8');
seed('config', example);
const limits = [...example.matchAll(/^#?(\w+) = (\d+)$/gm)].map((m) => m[1]);
const base = `[server]\norigin = https://chat.example.org\n[tls]\nenabled = no\n[limits]\n`;
for (const k of limits) {
    for (const v of ['0', '1', '64', '65536', '4294967295', '4294967296', '-1', '1e3', ' 7 ']) seed('config', `${base}${k} = ${v}\n`);
}
for (const extra of ['[limits]\nmax_fragments = 8\nmax_fragments = 8\n', '[nope]\n', 'no equals sign\n', '[server\n',
    '[testing]\nopen_rooms = yes\n', '[testing]\nclock_offset = -9223372036854775808\n', '[server]\nlog_level = loud\n',
    '[server]\norigin = https://[::1]:8443\n', '[server]\norigin = http://x\n', '\ufeff[server]\n', `[safety]\ncrisis_file = ${'a'.repeat(5000)}\n`]) {
    seed('config', base + extra);
}
seed('config', example.replace('origin = https://chat.example.org', ''));
seed('config', example.replace(/^#(\w+ = )/gm, '$1'));

// ---- name: a name, or two separated by NUL (fuzz_name.c)
const names = JSON.parse(readFileSync(join(root, 'protocol/examples/names.json'), 'utf8'));
for (const n of [...names.accepted, ...names.refused.map((c) => c.name)]) seed('name', n);
for (const { a, b } of [...names.same, ...names.distinct]) seed('name', `${a}\0${b}`);

console.log(Object.entries(counts).map(([k, v]) => `${k}: ${v} seeds`).join(', '));
