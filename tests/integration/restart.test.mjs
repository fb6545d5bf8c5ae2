// An unplanned restart (kill -9) in the middle of a session (protocol/README.md
// §4 "After a restart", §9): the conversation is gone, the session is not. The
// leader's login holds, the opened session comes back open, the participants it
// had admitted come straight back in, anyone else waits in the lobby; the stored
// digests go when the session ends, and no message text reaches the data directory.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { enter, filesUnder, participantKey, resume, sessionFixture, startServer, storeBarrier, test, within } from './lib/harness.mjs';

/** One number from the store's SQLite file. */
function count(cfg, sql) {
    return Number(execFileSync('sqlite3', [path.join(cfg.dataDir, 'kamrat.db'), sql], { encoding: 'utf8' }).trim());
}

test('kill -9 mid-session: the leader stays logged in, the session stays open, admitted participants come straight back', { timeout: 60000 }, async (t) => {
    const fx = await sessionFixture({ participants: ['Sol', 'Kim', 'Ilo'], keys: true });
    const { leader, cfg } = fx;
    const [sol, kim, ilo] = fx.participants;
    const canary = `kmrtcanary${crypto.randomBytes(6).toString('hex')}`;
    assert.equal((await sol.sayAndWait(`before the crash ${canary}`)).type, 'ack');
    // A removed person loses their place: they must not come straight back.
    assert.equal((await leader.request({ type: 'remove', member: ilo.member })).type, 'ack');
    await storeBarrier(fx.server, fx.code); // the worker wrote everything asked before this
    const leaderWelcome = leader.welcome;

    fx.server.expectExit();
    process.kill(fx.server.pid, 'SIGKILL');
    await within(fx.server.exited, 5000, 'kill -9');
    const server = await startServer({ config: cfg });
    fx.server = server;

    // The leader's client: resume fails as before, then hello with the same token.
    const { client: l2, reply: r } = await resume(server, {
        token: leaderWelcome.token, epoch: leaderWelcome.epoch, after_seq: leaderWelcome.seq ?? 0, label: 'leader',
    });
    assert.equal(r.code, 'resume_failed');
    assert.equal(r.reason, 'server_restarted');
    l2.send({ type: 'hello', id: 'again', token: fx.token, session: fx.session });
    const lw = await l2.nextReply();
    assert.equal(lw.type, 'welcome', `the login survived: ${JSON.stringify(lw)}`);
    assert.equal(lw.role, 'leader');
    assert.equal(lw.state, 'open', 'the session comes back open');

    // Admitted participants, with the same key, come straight in.
    for (const p of [sol, kim]) {
        const { reply } = await enter(server, { invite: fx.code, name: p.name, key: p.key });
        assert.equal(reply.type, 'welcome', JSON.stringify(reply));
        assert.equal(reply.state, 'open', `${p.name} comes straight back`);
    }
    // The removed one and a newcomer wait in the lobby for a leader.
    const removed = await enter(server, { invite: fx.code, name: 'Ilo', key: ilo.key });
    assert.equal(removed.reply.state, 'lobby', 'a removed participant waits');
    const fresh = await enter(server, { invite: fx.code, name: 'Noor', key: participantKey() });
    assert.equal(fresh.reply.state, 'lobby', 'a new participant waits');

    await storeBarrier(server, fx.code);
    assert.equal(count(cfg, `SELECT count(*) FROM admitted WHERE session_id = ${fx.session}`), 2, 'two admitted, the removed one dropped');
    assert.equal((await l2.request({ type: 'end' })).type, 'ack');
    await storeBarrier(server, fx.code);
    assert.equal(count(cfg, 'SELECT count(*) FROM admitted'), 0, 'the digests go with the session');
    assert.equal((await server.stop('SIGTERM')).code, 0);

    for (const f of filesUnder(cfg.dataDir)) {
        const bytes = fs.readFileSync(f);
        for (const secret of [canary, 'Sol', sol.key, kim.key, fx.token]) {
            assert.equal(bytes.indexOf(Buffer.from(secret)), -1, `${path.basename(f)} holds a secret`);
        }
    }
    t.diagnostic(`data dir: ${filesUnder(cfg.dataDir).map((f) => path.basename(f)).join(', ')}`);
});

test('a session not opened before the crash comes back in its lobby; the digests of ended sessions go at start', { timeout: 60000 }, async () => {
    const fx = await sessionFixture({ participants: ['Sol'], keys: true, open: false });
    await storeBarrier(fx.server, fx.code);
    fx.server.expectExit();
    process.kill(fx.server.pid, 'SIGKILL');
    await within(fx.server.exited, 5000, 'kill -9');
    // The session ended while the server was down; a stray row from it goes at start.
    execFileSync('sqlite3', [path.join(fx.cfg.dataDir, 'kamrat.db'),
        `UPDATE sessions SET opened_at = 1 WHERE id = ${fx.session};` +
        `INSERT INTO admitted(session_id, key_hash) VALUES(${fx.session}, randomblob(32));` +
        `UPDATE sessions SET starts_at = strftime('%s','now') - 3600, ends_at = strftime('%s','now') - 60 WHERE id = ${fx.session};`]);
    const server = await startServer({ config: fx.cfg });
    assert.equal(count(fx.cfg, 'SELECT count(*) FROM admitted'), 0);
    await server.stop('SIGTERM');
});

test('a session the leader had not opened comes back in its lobby after kill -9', { timeout: 60000 }, async () => {
    const fx = await sessionFixture({ participants: ['Sol'], keys: true, open: false });
    const sol = fx.participants[0];
    await storeBarrier(fx.server, fx.code);
    fx.server.expectExit();
    process.kill(fx.server.pid, 'SIGKILL');
    await within(fx.server.exited, 5000, 'kill -9');
    const server = await startServer({ config: fx.cfg });
    const { reply } = await enter(server, { token: fx.token, session: fx.session });
    assert.equal(reply.type, 'welcome', JSON.stringify(reply));
    assert.equal(reply.state, 'lobby');
    const back = await enter(server, { invite: fx.code, name: 'Sol', key: sol.key });
    assert.equal(back.reply.state, 'lobby', 'nobody was admitted: Sol waits as before');
    await server.stop('SIGTERM');
});
