// Issue 17 end to end, in the browser only after the first account (kamratctl
// makes the coordinator, as on a fresh install): a coordinator logs in at /admin,
// adds a group that allows a session now with a weekly schedule, and a leader by
// setup link; the leader chooses a password, logs in, makes an invite and shows its
// QR code (on the session list, where the invites are), starts a session now and
// opens it; a participant joins with the invite in a browser of their own; the
// leader ends the session; the coordinator sees it held with 1 participant in the
// attendance figures, downloads the month's CSV, and the audit log in the console
// has every step.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { LEADER_PASSWORD, serverFixture, uid } from '../integration/lib/harness.mjs';
import { browserFixture, e2eTest } from './lib/browser.mjs';
import { agree, endSession, inRoom, join, login, onScreen, openInvite, openSession, url, visible } from './lib/ui.mjs';
import { addLeader, coordinator, logIn, pickGroup } from './lib/console.mjs';

const browser = browserFixture();
const server = serverFixture(); // a server of its own: logins and setup count per address

/** The console's audit rows on screen as "actor action". */
async function auditRows(page) {
    return page.$$eval('#audit-rows tr', (rows) => rows.map((r) => `${r.cells[1].textContent} ${r.cells[2].textContent}`));
}

e2eTest('a coordinator sets up a group, schedule and leader in the browser; the leader holds a session with an invited participant; the console shows it held with 1 participant, exports the CSV and audits each step', { browser, timeout: 240000 }, async (t, { user }) => {
    const s = await server();
    const coord = await coordinator(s);
    const c = await user(s, { label: 'coordinator', lang: 'en' });
    await c.page.goto(url(c, '/admin'));
    await logIn(c.page, coord);

    // A group whose leaders may hold a session now.
    const group = uid('Iltaryhmä ');
    await c.page.click('#group-new');
    await c.page.fill('#g-name', group);
    await c.page.selectOption('#g-language', 'fi');
    await c.page.check('#g-adhoc');
    await c.page.click('#group-save');
    const g = await visible(c.page, `#groups li:has-text("${group}")`);
    assert.match(await g.innerText(), /Leaders may hold a session now/);

    // Its weekly schedule.
    await pickGroup(c.page, 'sessions', group);
    await c.page.selectOption('#sc-weekday', 'thu');
    await c.page.fill('#sc-time', '18:00');
    await c.page.click('#schedule-add');
    await visible(c.page, '#schedules li[data-schedule]');
    await visible(c.page, '#upcoming li[data-state="scheduled"]');

    // A leader by setup link, made a leader of the group.
    const username = uid('aino').toLowerCase();
    const link = await addLeader(c.page, username);
    await c.page.click('#setup-close');
    const item = await visible(c.page, `#leaders li:has-text("${username}")`);
    await item.locator('select').selectOption({ label: group });
    await item.locator('button:has-text("Make a leader of this group")').click();
    await visible(c.page, `#leaders li:has-text("${username}") li:has-text("${group}")`);

    // The leader chooses a password with the link and logs in.
    const l = await user(s, { label: 'leader', lang: 'en' });
    await l.page.goto(url(l, '/setup') + link.slice(link.indexOf('#')));
    await visible(l.page, '#setup-fields');
    await l.page.fill('#setup-password', LEADER_PASSWORD);
    await l.page.fill('#setup-again', LEADER_PASSWORD);
    await l.page.click('#setup-button');
    await visible(l.page, '#setup-done');
    await login(l, username);

    // An invite, and its QR code for someone sitting next to the leader.
    await l.page.click('#li-create');
    await visible(l.page, '#li-new');
    const code = /\/j\/([A-Za-z0-9_-]{22})$/.exec(await l.page.inputValue('#li-link'))?.[1];
    assert.ok(code, 'the invite link');
    await l.page.click('#li-show-qr');
    await visible(l.page, '#li-qr-dialog svg path');
    await l.page.click('#li-qr-close');
    await l.page.click('#li-done');

    // A session now: the leader enters and opens it.
    await l.page.click('#sessions-adhoc button[data-action="adhoc"]');
    await onScreen(l.page, 'room');
    await visible(l.page, '#panel');
    await openSession(l);

    // A participant joins with the invite, in a browser of their own.
    const p = await user(s, { label: 'participant', lang: 'fi' });
    await openInvite(p, code);
    await join(p, 'Sol');
    await agree(p);
    await inRoom(p);

    // The leader ends the session; the participant sees it ended.
    await endSession(l);
    await onScreen(p.page, 'ended');

    // The coordinator sees the session held.
    await pickGroup(c.page, 'sessions', group);
    const ended = await visible(c.page, '#past li[data-state="ended"]');
    assert.match(await ended.innerText(), /Held · one-off/);

    // The attendance figures: held, with 1 participant; and the month's CSV. The
    // weekly schedule's sessions of the month are listed too, not held.
    await c.page.click('[data-section="attendance"]');
    const [year, month] = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Helsinki', year: 'numeric', month: '2-digit' })
        .format(Date.now()).split('-');
    await c.page.selectOption('#t-group', { label: group });
    await c.page.selectOption('#t-year', year);
    await c.page.selectOption('#t-month', month);
    await c.page.click('#attendance-apply');
    const figures = await visible(c.page, '#t-sessions tr:has(td:text-is("Held"))');
    assert.deepEqual((await figures.locator('td').allInnerTexts()).slice(1), ['Held', '1', '1', '1'], 'held: 1 admitted, peak 1, 1 leader');
    const [file] = await Promise.all([c.page.waitForEvent('download'), c.page.click('#t-download-sessions')]);
    assert.match(file.suggestedFilename(), new RegExp(`^attendance-group\\d+-${year}-${month}\\.csv$`));
    const [head, ...rows] = fs.readFileSync(await file.path(), 'utf8').replace(/^\uFEFF/, '').trim().split('\r\n')
        .map((line) => line.split(','));
    const held = rows.filter((r) => r[head.indexOf('held')] === 'yes');
    assert.equal(held.length, 1, 'the session held this month');
    assert.equal(held[0][head.indexOf('admitted')], '1');

    // Every step in the console's audit log.
    await c.page.click('[data-section="audit"]');
    await visible(c.page, '#audit-rows tr');
    const audit = await auditRows(c.page);
    const steps = [
        `coordinator:${coord} group_add`,
        `coordinator:${coord} schedule_add`,
        `coordinator:${coord} leader_add`,
        `coordinator:${coord} group_leader_add`,
        `leader:${username} leader_setup`,
        `leader:${username} invite_create`,
        `leader:${username} session_add`,
        `leader:${username} session_open`,
        `leader:${username} session_end`,
    ];
    for (const step of steps) assert.ok(audit.includes(step), `${step} in ${JSON.stringify(audit)}`);
    assert.deepEqual([...c.tokenUrls, ...l.tokenUrls, ...p.tokenUrls], [], 'no token or code in a URL');
});
