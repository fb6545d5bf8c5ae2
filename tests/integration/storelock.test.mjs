// Nothing waits on the store in the event loop (protocol/README.md §4, "While a
// hello is checked"): while another program holds the database's write lock
// (here the sqlite3 shell, as kamratctl would in a long transaction), a room's
// messages keep flowing and a participant entering with a personal invite
// waits, then enters or gets `busy` and enters when it tries again. A leader's
// mute, remove and ban take effect at once and their audit rows follow, in
// order, once the lock is gone; the calendar feed waits for the store, the
// room does not.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { connect, createInvite, enter, httpRequest, sessionFixture, test } from './lib/harness.mjs';

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

test('moderation and the calendar feed during the lock: the room goes on, the audit rows follow in order', async () => {
    const f = await sessionFixture({ participants: 4, keys: true });
    const [chatter, muted, removed, banned] = f.participants;
    const lock = await holdWriteLock(path.join(f.cfg.dataDir, 'kamrat.db'));
    const timer = setTimeout(() => lock.release(), HOLD_MS);
    try {
        const said = async (i) => {
            const ack = await chatter.sayAndWait(`still here ${i}`);
            assert.equal(ack.type, 'ack', JSON.stringify(ack));
            assert.equal(lock.released, false, 'the room waited for the lock');
        };
        // Each of these writes an audit row (the ban: its own row, with the
        // ban); the room answers at once and the rows wait on the store worker.
        const mute = await f.leader.request({ type: 'mute', member: muted.member, minutes: 5 });
        assert.equal(mute.type, 'ack', JSON.stringify(mute));
        assert.equal(lock.released, false, 'the mute was answered only after the lock was released');
        await said(0);
        // The calendar waits for the store worker (behind the rows); the room does not.
        const calendar = httpRequest(f.server, { path: `/j/${f.code}/calendar.ics`, timeout: 15000 });
        const remove = await f.leader.request({ type: 'remove', member: removed.member });
        assert.equal(remove.type, 'ack', JSON.stringify(remove));
        assert.equal(lock.released, false, 'the remove was answered only after the lock was released');
        // The ban is in effect at once: 4403 now; its ack waits for the row.
        f.leader.send({ type: 'ban', id: 'b1', member: banned.member });
        const closed = await banned.closed;
        assert.equal(closed.code, 4403, JSON.stringify(closed));
        assert.equal(lock.released, false, 'the ban took effect only after the lock was released');
        await said(1);
        const ban = await f.leader.next((m) => m.ref === 'b1', 10000);
        assert.equal(ban.type, 'ack', JSON.stringify(ban));
        assert.ok(Number.isSafeInteger(ban.ban) && ban.ban >= 1, `the ack carries the ban id: ${JSON.stringify(ban)}`);
        const ics = await calendar;
        assert.equal(ics.status, 200, ics.body);
        assert.match(ics.body, /BEGIN:VCALENDAR/);
    } finally {
        clearTimeout(timer);
        if (!lock.released) await lock.release();
    }
    const rows = (await f.audit()).filter((r) => ['mute', 'remove', 'ban'].includes(r.action));
    assert.deepEqual(rows.map((r) => r.action), ['mute', 'remove', 'ban'], JSON.stringify(rows));
    assert.equal(rows[0].target, `member:${muted.member}`);
    assert.equal(rows[1].target, `member:${removed.member}`);
});
