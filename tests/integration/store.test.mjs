// kamratd and its store: a corrupt or foreign database stops the start-up and is
// left untouched (test plan G10); kamratd itself turns weekly schedules into
// sessions ahead of time, with no admin action.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { REPO, prepareConfig, run, runKamratd, startServer, test } from './lib/harness.mjs';

const KAMRATCTL = process.env.KAMRATCTL ?? path.join(REPO, 'build/tools/kamratctl');

function ctl(configPath, args, opts = {}) {
    return run(KAMRATCTL, ['-c', configPath, ...args], opts);
}

for (const [what, bytes] of [
    ['garbage', Buffer.from('this is not a database, just some bytes\n'.repeat(200))],
    ['a truncated database', null],
]) {
    test(`kamratd refuses to start on ${what} and leaves the file as it was`, async () => {
        const cfg = await prepareConfig();
        const db = path.join(cfg.dataDir, 'kamrat.db');
        if (bytes) {
            fs.writeFileSync(db, bytes);
        } else {
            // A real database, cut in half.
            const made = await ctl(cfg.configPath, ['group', 'add', 'Torstai', '--language', 'fi']);
            assert.equal(made.code, 0, made.stderr);
            const full = fs.readFileSync(db);
            for (const side of ['-wal', '-shm']) fs.rmSync(db + side, { force: true });
            fs.writeFileSync(db, full.subarray(0, Math.floor(full.length / 2)));
        }
        const before = fs.readFileSync(db);
        const r = await runKamratd(['-c', cfg.configPath], { timeout: 10000 });
        assert.equal(r.code, 1, `exit status (stderr: ${r.stderr})`);
        assert.match(r.stderr, /kamrat\.db/, 'the error names the file');
        assert.deepEqual(fs.readFileSync(db), before, 'the file is untouched');
        assert.ok(!fs.existsSync(db + '-wal'), 'no WAL file was made next to it');
    });
}

test('kamratd expands weekly schedules into sessions by itself', async () => {
    const s0 = await prepareConfig();
    const made = await ctl(s0.configPath, ['group', 'add', 'Söndagsgruppen', '--language', 'sv']);
    assert.equal(made.code, 0, made.stderr);
    const sched = await ctl(s0.configPath, ['schedule', 'add', 'Söndagsgruppen', '--weekday', 'sun', '--time', '18:00',
        '--duration', '90', '--tz', 'Europe/Stockholm']);
    assert.equal(sched.code, 0, sched.stderr);
    const listed = async (configPath) => {
        const r = await ctl(configPath, ['--json', 'session', 'list', 'Söndagsgruppen', '--all']);
        assert.equal(r.code, 0, r.stderr);
        return JSON.parse(r.stdout);
    };
    const before = await listed(s0.configPath);
    assert.ok(before.length >= 7, `kamratctl planned ${before.length} sessions`);

    // The same installation twenty weeks later: kamratd, starting, plans ahead again.
    const later = 20 * 7 * 86400;
    const cfgText = fs.readFileSync(s0.configPath, 'utf8').replace('[testing]', `[testing]\nclock_offset = ${later}`);
    fs.writeFileSync(s0.configPath, cfgText);
    const dataDir = s0.dataDir;
    const s = await startServer({ config: s0 });
    try {
        const deadline = Date.now() + 5000;
        let after;
        do {
            after = await listed(s0.configPath);
            if (after.length > before.length) break;
            await new Promise((r) => setTimeout(r, 100));
        } while (Date.now() < deadline);
        assert.ok(after.length > before.length, `kamratd added sessions (${before.length} -> ${after.length})`);
        assert.match(s.logs(), /schedule_expanded sessions_added=[1-9]/);
        assert.ok(fs.existsSync(path.join(dataDir, 'kamrat.db')));
    } finally {
        await s.stop();
    }
});

test('kill -9 of kamratd during a burst of kamratctl writes: the database is sound and every acknowledged write is there', async () => {
    const cfg = await prepareConfig({ openRooms: false });
    const s = await startServer({ config: cfg });
    const made = [];
    const writers = [0, 1, 2].map(async (w) => {
        for (let i = 0; i < 12; i++) {
            const name = `Burst ${w}-${i}`;
            const r = await ctl(cfg.configPath, ['group', 'add', name, '--language', 'en']);
            if (r.code === 0) made.push(name);
        }
    });
    await new Promise((r) => setTimeout(r, 150));
    const killed = s.stop('SIGKILL'); // by PID, mid-burst
    await Promise.all([writers, killed].flat());
    const check = await ctl(cfg.configPath, ['check']);
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, /database: .* ok/);
    const listed = JSON.parse((await ctl(cfg.configPath, ['--json', 'group', 'list'])).stdout).map((g) => g.name);
    for (const name of made) assert.ok(listed.includes(name), `${name} was acknowledged but is gone`);
    assert.equal(made.length, 36, 'kamratctl does not depend on kamratd');
    // And kamratd starts again on the same database.
    const again = await startServer({ config: cfg });
    assert.ok(again.alive());
});
