// Write every frame of protocol/examples/requests.json, plus a few JSON
// bombs and long round orders, as seed files of the decode corpus (named by
// content hash).
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const out = join(here, 'corpus', 'decode');
mkdirSync(out, { recursive: true });

const ex = JSON.parse(readFileSync(join(root, 'protocol/examples/requests.json'), 'utf8'));
const frames = [...ex.valid, ...ex.invalid].map((e) => e.frame);
frames.push('['.repeat(3000), '{"a":'.repeat(2000), `{"type":"say","id":"x","text":"${'\\u00e4'.repeat(4000)}"}`);
frames.push(`{${Array.from({ length: 1000 }, (_, i) => `"k${i}":1`).join(',')}}`);
// Round orders: far over the cap (checked before the quadratic test for repeats),
// and at the cap in reverse with the repeat last.
const order = (n) => Array.from({ length: n }, (_, i) => n - i);
frames.push(`{"type":"round_order","order":[${order(3000)}]}`);
frames.push(`{"type":"round_start","kind":"round","order":[${[...order(499), 499]}],"exclusive":false}`);
frames.push(`{"type":"topic","id":"t","text":"${'\\u00e4'.repeat(500)}"}`);
for (const f of frames) {
  const name = createHash('sha1').update(f).digest('hex').slice(0, 16);
  writeFileSync(join(out, name), f);
}
console.log(`${frames.length} seeds in ${out}`);
