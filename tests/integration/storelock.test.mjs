// Nothing waits on the store in the event loop (protocol/README.md §4, "While a
// hello is checked"): while another program holds the database's write lock
// (here the sqlite3 shell, as kamratctl would in a long transaction), a room's
// messages keep flowing and a participant entering with a personal invite
// waits, then enters or gets `busy` and enters when it tries again.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { connect, createInvite, enter, sessionFixture, test } from './lib/harness.mjs';

const HOLD_MS = 3000; // how long the lock is held: longer than the worker's busy wait (2 s)

/**
 * Takes SQLite's write lock on dbPath (BEGIN IMMEDIATE) in a sqlite3 shell
 * and resolves once it is held. release() commits and resolves when the
 * shell has exited; released tells whether release() was called.
 */
async function holdWriteLock(dbPath) {
    const child = spawn('sqlite3', [dbPath], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    const held = new Promise((resolve, reject) => {
        child.stdout.on('data', (d) => {
            out += d;
            if (out.includes('locked')) resolve();
        });
        child.on('error', reject);
        child.on('exit', (code) => reject(new Error(`sqlite3 exited ${code} before the lock was held`)));
    });
    child.stdin.write(".timeout 5000\nBEGIN IMMEDIATE;\nSELECT 'locked';\n");
    await held;
    const lock = {
        released: false,
        release() {
            lock.released = true;
            const exited = new Promise((resolve) => child.on('exit', resolve));
            child.stdin.end('COMMIT;\n.quit\n');
            return exited;
        },
    };
    return lock;
}

test('a write lock held by another program stalls neither the room nor a personal invite', async () => {
    const f = await sessionFixture({ participants: 1 });
    const personal = await createInvite(f.cfg, f.group, { personal: true });
    const chatter = f.participants[0];
    const lock = await holdWriteLock(path.join(f.cfg.dataDir, 'kamrat.db'));
    const timer = setTimeout(() => lock.release(), HOLD_MS);
    try {
        // The redemption of a personal invite writes to the store: it waits
        // for the lock on the store worker, not on the event loop. The hello
        // goes out before the room's messages, on a connection already up.
        const client = await connect(f.server, { label: 'Vilja' });
        client.send({ type: 'hello', id: 'h1', invite: personal, name: 'Vilja' });
        for (let i = 0; i < 3; i++) {
            const ack = await chatter.sayAndWait(`still here ${i}`);
            assert.equal(ack.type, 'ack', JSON.stringify(ack));
            assert.equal(lock.released, false, 'the ack came only after the lock was released');
        }
        const reply = await client.next((m) => m.ref === 'h1', 8000);
        if (reply.type === 'error') {
            // The worker gave up waiting for the lock: nothing happened, and
            // the invite is still good once the lock is gone.
            assert.equal(reply.code, 'busy', JSON.stringify(reply));
            await lock.release();
            const again = await client.request({ type: 'hello', invite: personal, name: 'Vilja' }, 8000);
            assert.equal(again.type, 'welcome', JSON.stringify(again));
        } else {
            assert.equal(reply.type, 'welcome', JSON.stringify(reply));
        }
    } finally {
        clearTimeout(timer);
        if (!lock.released) await lock.release();
    }
});

test('requests sent behind a hello that waits for the store are answered after it, in order', async () => {
    const f = await sessionFixture({ participants: 0, open: false });
    const personal = await createInvite(f.cfg, f.group, { personal: true });
    const lock = await holdWriteLock(path.join(f.cfg.dataDir, 'kamrat.db'));
    try {
        // A group invite needs no write: it enters during the lock.
        const { client, reply } = await enter(f.server, { invite: f.code, name: 'Eka' });
        assert.equal(reply.type, 'welcome', JSON.stringify(reply));
        // A second connection pipelines a hello and an agree.
        const other = await connect(f.server, { label: 'Toka' });
        other.send({ type: 'hello', id: 'h', invite: personal, name: 'Toka' });
        other.send({ type: 'agree', id: 'a' });
        const first = await other.next((m) => m.ref === 'h' || m.ref === 'a', 8000);
        assert.equal(first.ref, 'h', 'the hello is answered first');
        const second = await other.next((m) => m.ref === 'a', 8000);
        if (first.type === 'welcome') assert.equal(second.type, 'ack', JSON.stringify(second));
        else {
            assert.equal(first.code, 'busy', JSON.stringify(first));
            assert.equal(second.code, 'not_joined', 'a request behind a refused hello');
        }
        await client.close();
    } finally {
        await lock.release();
    }
});
