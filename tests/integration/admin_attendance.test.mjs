// Attendance figures for funders (protocol/README.md §12 "Attendance",
// docs/admin.md "Attendance") against the real kamratd: a session a leader
// opens and ends is held, with its distinct admitted participants (a
// reconnect or a return counts no one twice), its peak and its leaders;
// the per-session and summary answers as JSON and as CSV (RFC 4180, a
// header row, a formula guard on user text); who may ask and what input is
// refused. Counts only: no answer names anyone.

import assert from 'node:assert/strict';
import {
    LEADER_PASSWORD,
    ctl,
    ctlJson,
    httpRequest,
    leaderLogin,
    resume,
    sessionFixture,
    storeBarrier,
    test,
    uid,
} from './lib/harness.mjs';

/** One console GET; resolves {status, headers, body, json}. */
async function get(s, path, token) {
    const headers = { Origin: s.origin };
    if (token) headers.Authorization = `Bearer ${token}`;
    const r = await httpRequest(s, { path, headers, timeout: 10000 });
    let json = null;
    try {
        json = JSON.parse(r.body);
    } catch {
        // a CSV answer
    }
    return { ...r, json };
}

async function coordinatorToken(s, cfg) {
    const username = uid('coord').toLowerCase();
    await ctl(cfg, ['coordinator', 'add', username, '--password-stdin'], { input: `${LEADER_PASSWORD}\n` });
    return leaderLogin(s, username);
}

/** RFC 4180: the rows of a CSV document (CRLF line ends, quoted cells with
 * doubled quotes); throws on anything malformed. */
function parseCsv(text) {
    const rows = [];
    let row = [];
    let i = 0;
    for (;;) {
        let cell = '';
        if (text[i] === '"') {
            i++;
            for (;;) {
                if (i >= text.length) throw new Error('an unterminated quoted cell');
                if (text[i] === '"' && text[i + 1] === '"') {
                    cell += '"';
                    i += 2;
                } else if (text[i] === '"') {
                    i++;
                    break;
                } else {
                    cell += text[i++];
                }
            }
        } else {
            while (i < text.length && !',\r\n"'.includes(text[i])) cell += text[i++];
            if (text[i] === '"') throw new Error(`a quote inside an unquoted cell at ${i}`);
        }
        row.push(cell);
        if (text[i] === ',') {
            i++;
            continue;
        }
        if (text.startsWith('\r\n', i)) {
            rows.push(row);
            row = [];
            i += 2;
            if (i === text.length) return rows;
            continue;
        }
        throw new Error(`a row not ended by CRLF at ${i}`);
    }
}

/** The CSV answer's rows, after checking its headers; the header row first. */
function csvRows(r, filename) {
    assert.equal(r.status, 200, r.body);
    assert.equal(r.headers['content-type'], 'text/csv; charset=utf-8');
    assert.equal(r.headers['content-disposition'], `attachment; filename="${filename}"`);
    assert.ok(r.body.startsWith('\uFEFF'), 'a byte order mark tells spreadsheets it is UTF-8');
    const rows = parseCsv(r.body.slice(1));
    for (const row of rows) assert.equal(row.length, rows[0].length, `every row as long as the header: ${row}`);
    return rows;
}

const monthOf = (ms) => new Date(ms).toISOString().slice(0, 7);

test('a session opened, with two admitted (one reconnects, one comes back), ended: held, 2 admitted, peak 2, 2 leaders', async () => {
    const fx = await sessionFixture({ participants: ['Sol', 'Kim'], keys: true });
    const s = fx.server;
    const [sol, kim] = fx.participants;

    // Sol's connection drops and resumes: the same member.
    sol.close();
    const back = await resume(s, { token: sol.token, epoch: sol.epoch, after_seq: 0, label: 'Sol again' });
    assert.equal(back.reply.type, 'welcome', JSON.stringify(back.reply));
    // Kim leaves and says hello again with the same participant key: the same person.
    assert.equal((await kim.request({ type: 'leave' })).type, 'ack');
    const kim2 = await fx.enter('Kim', { key: kim.key });
    assert.equal(kim2.reply.state, 'open');
    // A second leader account enters too.
    await ctl(fx.cfg, ['leader', 'add', 'toinen', '--password-stdin'], { input: `${LEADER_PASSWORD}\n` });
    await ctl(fx.cfg, ['group', 'leader', 'add', fx.group, 'toinen']);
    const second = await fx.enterLeader('toinen');
    second.client.close();
    // ... and the first leader's connection is replaced by a new one: the same seat.
    const again = await fx.enterLeader(fx.leaderName);

    assert.equal((await again.client.request({ type: 'end' })).type, 'ack');
    await storeBarrier(s, fx.code);

    const token = await coordinatorToken(s, fx.cfg);
    const groups = await ctlJson(fx.cfg, ['group', 'list']);
    const group = groups.find((g) => g.name === fx.group);
    const period = monthOf(Date.now() + 5 * 60000);
    const r = await get(s, `/api/admin/attendance/sessions?group=${group.id}&period=${period}`, token);
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.group, fx.group);
    assert.equal(r.json.period, period);
    assert.equal(r.json.sessions.length, 1, r.body);
    const row = r.json.sessions[0];
    assert.equal(row.session_id, fx.session);
    assert.equal(row.held, true, 'opened early and ended is held');
    assert.equal(row.cancelled, false);
    assert.equal(row.admitted, 2, r.body);
    assert.equal(row.peak, 2, r.body);
    assert.equal(row.leaders, 2, r.body);
    assert.ok(Number.isSafeInteger(row.opened_at) && Number.isSafeInteger(row.ended_at), r.body);
    assert.ok(row.ended_at >= row.opened_at);
    // Counts only: no pseudonym, no username, no key anywhere in the answer.
    for (const secret of ['Sol', 'Kim', fx.leaderName, 'toinen', kim.key]) assert.ok(!r.body.includes(secret), secret);

    const csv = await get(s, `/api/admin/attendance/sessions?group=${group.id}&period=${period}&format=csv`, token);
    const rows = csvRows(csv, `attendance-group${group.id}-${period}.csv`);
    assert.deepEqual(rows[0], ['group', 'session_id', 'scheduled_start', 'time_zone', 'held', 'cancelled', 'opened_at', 'ended_at', 'admitted', 'peak', 'leaders']);
    assert.equal(rows.length, 2);
    assert.deepEqual(rows[1].slice(0, 2), [fx.group, String(fx.session)]);
    assert.deepEqual(rows[1].slice(4), ['yes', 'no', rows[1][6], rows[1][7], '2', '2', '2']);
    assert.match(rows[1][6], /^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/);

    const sum = await get(s, `/api/admin/attendance/summary?period=${period}&group=${group.id}`, token);
    assert.equal(sum.status, 200, sum.body);
    assert.deepEqual(sum.json.groups[0].periods, [{
        period,
        sessions_scheduled: 1,
        sessions_held: 1,
        sessions_cancelled: 0,
        participants: 2,
        average: '2.0',
        median: '2.0',
        largest_peak: 2,
        leaders: 2,
    }]);
    const year = period.slice(0, 4);
    const ycsv = csvRows(await get(s, `/api/admin/attendance/summary?period=${year}&format=csv`, token), `attendance-summary-${year}.csv`);
    assert.deepEqual(ycsv[0], ['group', 'period', 'sessions_scheduled', 'sessions_held', 'sessions_cancelled', 'participants', 'average', 'median', 'largest_peak', 'leaders']);
    const mine = ycsv.filter((x) => x[0] === fx.group);
    assert.equal(mine.length, 13, 'twelve months and the year');
    assert.deepEqual(mine[12].slice(1), [year, '1', '1', '0', '2', '2.0', '2.0', '2', '2']);
});

test('CSV cells are quoted as RFC 4180 says and a formula is never a formula', async () => {
    const fx = await sessionFixture({ participants: 0, leaderEnters: false });
    const s = fx.server;
    const token = await coordinatorToken(s, fx.cfg);
    const names = ['=HYPERLINK("http://x.invalid","a, b")', '+1', '-1', '@SUM(A1)', 'Tavallinen, "lainattu"'];
    for (const name of names) {
        const made = await httpRequest(s, {
            method: 'POST',
            path: '/api/admin/groups',
            headers: { Authorization: `Bearer ${token}`, Origin: s.origin, 'Content-Type': 'application/json' },
            body: JSON.stringify({ name, language: 'fi' }),
        });
        assert.equal(made.status, 201, made.body);
    }
    const year = String(new Date().getUTCFullYear());
    const r = await get(s, `/api/admin/attendance/summary?period=${year}&format=csv`, token);
    const rows = csvRows(r, `attendance-summary-${year}.csv`);
    const cells = new Set(rows.slice(1).map((row) => row[0]));
    for (const name of names) {
        const expected = /^[=+\-@]/.test(name) ? `'${name}` : name;
        assert.ok(cells.has(expected), `${expected} in ${[...cells]}`);
    }
    assert.ok(r.body.includes('"\'=HYPERLINK(""http://x.invalid"",""a, b"")"'), 'quotes doubled inside a quoted cell');
    // A group with no session in the year: zeros, and no average.
    const plain = rows.find((row) => row[0] === "'+1" && row[1] === year);
    assert.deepEqual(plain.slice(2), ['0', '0', '0', '0', '', '', '0', '0']);
});

test('who may ask, and what is refused', async () => {
    const fx = await sessionFixture({ participants: 0, leaderEnters: false });
    const s = fx.server;
    const token = await coordinatorToken(s, fx.cfg);
    const leaderToken = await fx.login();
    const group = (await ctlJson(fx.cfg, ['group', 'list'])).find((g) => g.name === fx.group);
    const ok = `/api/admin/attendance/sessions?group=${group.id}&period=2026-03`;
    assert.equal((await get(s, ok, token)).status, 200);
    assert.equal((await get(s, ok)).json.error, 'token_invalid');
    const asLeader = await get(s, ok, leaderToken);
    assert.equal(asLeader.status, 403);
    assert.equal(asLeader.json.error, 'forbidden');
    assert.equal((await get(s, `/api/admin/attendance/summary?period=2026`, leaderToken)).status, 403);
    const post = await httpRequest(s, {
        method: 'POST',
        path: '/api/admin/attendance/summary',
        headers: { Authorization: `Bearer ${token}`, Origin: s.origin, 'Content-Type': 'application/json' },
        body: '{}',
    });
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET');
    const bad = [
        [`/api/admin/attendance/sessions?period=2026-03`, 400, 'invalid', 'group'],
        [`/api/admin/attendance/sessions?group=${group.id}`, 400, 'invalid', 'period'],
        [`/api/admin/attendance/sessions?group=${group.id}&period=2026-13`, 400, 'invalid', 'period'],
        [`/api/admin/attendance/sessions?group=${group.id}&period=26-03`, 400, 'invalid', 'period'],
        [`/api/admin/attendance/sessions?group=${group.id}&period=2026-03-01`, 400, 'invalid', 'period'],
        [`/api/admin/attendance/sessions?group=${group.id}&period=2026-03&format=xls`, 400, 'invalid', 'format'],
        [`/api/admin/attendance/sessions?group=0&period=2026-03`, 400, 'invalid', 'group'],
        [`/api/admin/attendance/sessions?group=${group.id}&period=2026-03&who=1`, 400, 'unknown_field', undefined],
        [`/api/admin/attendance/sessions?group=999999&period=2026-03`, 404, 'not_found', undefined],
        [`/api/admin/attendance/summary?period=2026&group=999999`, 404, 'not_found', undefined],
        [`/api/admin/attendance/summary`, 400, 'invalid', 'period'],
    ];
    for (const [path, status, error, field] of bad) {
        const r = await get(s, path, token);
        assert.equal(r.status, status, `${path}: ${r.body}`);
        assert.equal(r.json.error, error, path);
        if (field) assert.equal(r.json.field, field, path);
    }
    // A session that nobody opened was not held: its counts are null.
    const period = monthOf(Date.now() + 5 * 60000);
    const r = await get(s, `/api/admin/attendance/sessions?group=${group.id}&period=${period}`, token);
    assert.equal(r.json.sessions.length, 1);
    assert.equal(r.json.sessions[0].held, false);
    assert.equal(r.json.sessions[0].admitted, null);
});
