// envelope.mjs: what a `message` frame costs each recipient to parse: CPU ns
// per JSON.parse in V8 (Node; a browser's JSON.parse is the same engine, or
// one like it), the best of 5 runs. The frame is the one envelope.c builds,
// then the same frame without each field that could go, to price each: what
// shrinking the envelope would save a recipient. bench/README.md: the envelope.
//
//   node bench/envelope/envelope.mjs

const body = '1700000000000123 m17 0000042 ' + 'x'.repeat(71);
const frames = {
    'kamrat message (protocol v1)': { type: 'message', seq: 123456, member: 17, name: 'Member 17', text: body, ts: 1765000000123 },
    'without name': { type: 'message', seq: 123456, member: 17, text: body, ts: 1765000000123 },
    'without ts': { type: 'message', seq: 123456, member: 17, name: 'Member 17', text: body },
    'one-letter keys': { t: 'message', s: 123456, m: 17, n: 'Member 17', x: body, ts: 1765000000123 },
    'the body alone, as a JSON string': body,
};
const ROUNDS = 200000;

function cpuNs(fn) {
    const t0 = process.cpuUsage();
    fn();
    const d = process.cpuUsage(t0);
    return (d.user + d.system) * 1000;
}

let sink = 0;
for (const [name, obj] of Object.entries(frames)) {
    const text = JSON.stringify(obj);
    let best = Infinity;
    for (let r = 0; r < 5; r++) {
        const ns = cpuNs(() => {
            for (let i = 0; i < ROUNDS; i++) sink += JSON.parse(text) ? 1 : 0;
        });
        best = Math.min(best, ns / ROUNDS);
    }
    console.log(JSON.stringify({ case: name, bytes: Buffer.byteLength(text), ns_per_parse: Math.round(best) }));
}
if (sink === 0) console.log('');
