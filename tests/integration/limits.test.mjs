// Connection-level limits: open connections per client address (checked at
// accept, before TLS; test plan C3) and the ping/hang-up policy for peers that
// stop answering (test plan A6).

import assert from 'node:assert/strict';
import { OP, connect, health, join, rawConnect, serverFixture, test, uid, within } from './lib/harness.mjs';

const CAP = 3;
const server = serverFixture({ limits: { max_conns_per_address: CAP, ping_interval: 5, ping_timeout: 10 } });

test('connections beyond the per-address cap are refused; another address still gets in', async () => {
    const s = await server();
    // Source addresses of their own, so the harness's own HTTP probes (from
    // 127.0.0.1) cannot take a slot.
    const from = { wsOptions: { localAddress: '127.0.0.4' } };
    const held = [];
    for (let i = 0; i < CAP; i++) held.push(await connect(s, { label: `held${i}`, ...from }));
    await assert.rejects(connect(s, { label: 'over', timeout: 3000, ...from }), 'a 4th connection from 127.0.0.4 must fail');

    const other = await connect(s, { label: 'other', wsOptions: { localAddress: '127.0.0.5' } });
    other.send({ type: 'hello', id: 'h', room: uid('cap-'), name: 'Other' });
    assert.equal((await other.next('welcome')).type, 'welcome');

    // Releasing a slot lets the address in again.
    held[0].close();
    await held[0].closed;
    let again;
    for (let i = 0; i < 40 && !again; i++) {
        again = await connect(s, { label: 'again', timeout: 2000, ...from }).catch(() => null);
        if (!again) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(again, 'a slot freed by a closed connection can be used again');
    assert.equal((await health(s)).status, 'ok');
});

test('a peer that stops answering pings is pinged, then hung up', { timeout: 30000 }, async () => {
    const s = await server();
    const room = uid('ping-');
    const watcher = await join(s, room, 'Watcher', { wsOptions: { localAddress: '127.0.0.3' } });
    const mute = await rawConnect(s, { autoPong: false, label: 'mute' });
    assert.ok(mute.upgraded);
    await mute.sendText({ type: 'hello', id: 'h', room, name: 'Mute' });
    const started = Date.now();
    const closed = await within(mute.closed, 14000, 'the silent peer to be hung up');
    const elapsed = Date.now() - started;
    assert.ok(mute.frames.some((f) => f.opcode === OP.PING), 'the server pinged before hanging up');
    assert.ok(elapsed >= 4000, `hung up after ${elapsed} ms: not before the ping interval`);
    assert.ok(elapsed <= 13000, `hung up after ${elapsed} ms`);
    assert.ok([1006, 1001, 1011].includes(closed.code) || closed.code >= 1000, `closed ${closed.code}`);
    // The watcher, which answers pings (ws does), is still connected and served.
    watcher.client.send({ type: 'say', id: 'after', text: 'still here' });
    assert.equal((await watcher.client.next('ack')).ref, 'after');
});
