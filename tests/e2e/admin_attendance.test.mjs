// The console's attendance section (protocol/README.md §12 "Attendance") in the
// browser: a leader holds a session with one participant and ends it; the
// coordinator picks the group and the month, sees it held with 1 let in, and
// downloads the summary as CSV; the section axe-clean at 360 and 1280 px in fi, sv
// and en, with screenshots.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { LEADER_PASSWORD, ctl, ctlJson, sessionFixture, storeBarrier, uid } from '../integration/lib/harness.mjs';
import { assertAccessible, browserFixture, e2eTest, screenshot } from './lib/browser.mjs';
import { url, visible } from './lib/ui.mjs';

const browser = browserFixture();

async function coordinator(cfg) {
    const username = uid('coord').toLowerCase();
    await ctl(cfg, ['coordinator', 'add', username, '--password-stdin'], { input: `${LEADER_PASSWORD}\n` });
    return username;
}

async function logIn(page, username) {
    await visible(page, '#login-form');
    await page.fill('#username', username);
    await page.fill('#password', LEADER_PASSWORD);
    await page.click('#login-button');
    await visible(page, '#groups-section');
}

/** A session held with one participant, ended; resolves the fixture and its group's id. */
async function heldSession() {
    const fx = await sessionFixture({ participants: 1, keys: true });
    fx.leader.send({ type: 'end', id: 'end' });
    await fx.leader.next((m) => m.type === 'ack' && m.ref === 'end');
    await storeBarrier(fx.server, fx.code);
    const group = (await ctlJson(fx.cfg, ['group', 'list'])).find((g) => g.name === fx.group);
    return { fx, groupId: group.id };
}

/** Shows the attendance of the session's month for the group. */
async function showAttendance(page, groupId) {
    await page.click('[data-section="attendance"]');
    await visible(page, '#attendance-form');
    const start = new Date(Date.now() + 5 * 60000);
    await page.selectOption('#t-group', String(groupId));
    await page.selectOption('#t-year', String(start.getUTCFullYear()));
    await page.selectOption('#t-month', String(start.getUTCMonth() + 1).padStart(2, '0'));
    await page.click('#attendance-apply');
    await visible(page, '#t-sessions tr');
}

e2eTest('a coordinator sees a held session with 1 participant and downloads the CSV', { browser }, async (t, { user }) => {
    const { fx, groupId } = await heldSession();
    const username = await coordinator(fx.cfg);
    const u = await user(fx.server, { label: 'coordinator', lang: 'en' });
    await u.page.goto(url(u, '/admin'));
    await logIn(u.page, username);
    await showAttendance(u.page, groupId);
    const cells = await u.page.locator('#t-sessions tr').first().locator('td').allInnerTexts();
    assert.deepEqual(cells.slice(1), ['Held', '1', '1', '1']);
    const summary = await u.page.locator('#t-summary tr').first().locator('td').allInnerTexts();
    assert.equal(summary[0], fx.group);
    assert.deepEqual(summary.slice(2), ['1', '1', '1.0', '1.0', '1']);

    const [file] = await Promise.all([u.page.waitForEvent('download'), u.page.click('#t-download-summary')]);
    const start = new Date(Date.now() + 5 * 60000).toISOString();
    assert.equal(file.suggestedFilename(), `attendance-summary-${start.slice(0, 7)}.csv`);
    const text = fs.readFileSync(await file.path(), 'utf8');
    const line = text.split('\r\n').find((l) => l.startsWith(fx.group));
    assert.equal(line, `${fx.group},${start.slice(0, 7)},1,1,0,1,1.0,1.0,1,1`);
    const [sessions] = await Promise.all([u.page.waitForEvent('download'), u.page.click('#t-download-sessions')]);
    assert.equal(sessions.suggestedFilename(), `attendance-group${groupId}-${start.slice(0, 7)}.csv`);
    assert.deepEqual(u.tokenUrls, [], 'the token never goes into a URL');
});

e2eTest('the attendance section is accessible at 360 and 1280 px in fi, sv and en', { browser }, async (t, { user }) => {
    const { fx, groupId } = await heldSession();
    const username = await coordinator(fx.cfg);
    for (const lang of ['fi', 'sv', 'en']) {
        for (const width of [360, 1280]) {
            const u = await user(fx.server, { label: `${lang} ${width}`, lang, width });
            await u.page.goto(url(u, '/admin'));
            await logIn(u.page, username);
            await showAttendance(u.page, groupId);
            await assertAccessible(u.page, `admin attendance ${lang} ${width}`);
            await screenshot(u, 'admin-attendance');
            const overflow = await u.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
            assert.ok(overflow <= 0, `${lang} ${width}: the page is ${overflow} px wider than the screen`);
            await u.context.close();
        }
    }
});
