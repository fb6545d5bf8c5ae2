// What the console's browser tests share: a coordinator account, its login at
// /admin, a section with a group picked, a leader added by setup link, and a
// screen's looks in fi, sv and en at 360 and 1280 px.

import assert from 'node:assert/strict';
import { LEADER_PASSWORD, ctl, uid, waitFor } from '../../integration/lib/harness.mjs';
import { assertAccessible, screenshot } from './browser.mjs';
import { visible } from './ui.mjs';

/** A coordinator account on s; resolves its username. */
export async function coordinator(s) {
    const username = uid('coord').toLowerCase();
    await ctl(s, ['coordinator', 'add', username, '--password-stdin'], { input: `${LEADER_PASSWORD}\n` });
    return username;
}

export async function logIn(page, username) {
    await visible(page, '#login-form');
    await page.fill('#username', username);
    await page.fill('#password', LEADER_PASSWORD);
    await page.click('#login-button');
    await visible(page, '#groups-section');
}

/** Opens the console's section `name` (sessions or bans) with `group` picked. */
export async function pickGroup(page, name, group) {
    await page.click(`[data-section="${name}"]`);
    const select = name === 'sessions' ? '#s-group' : '#b-group';
    await waitFor(async () => (await page.locator(`${select} option`).count()) > 0, { desc: 'the groups offered' });
    await page.selectOption(select, { label: group });
}

/** In the console's leaders section: adds username; resolves the setup link shown. */
export async function addLeader(page, username) {
    await page.click('[data-section="leaders"]');
    await visible(page, '#leader-form');
    await page.fill('#l-username', username);
    await page.click('#leader-add');
    await visible(page, '#setup-box');
    return page.inputValue('#setup-url');
}

/** Each language and width in turn on the same page (no new request: logins and
 * setup links count against one window per address, §11): axe, no sideways
 * scrolling, and a screenshot <where>-<lang>-<width>.png (of the viewport only
 * with fullPage false: a modal dialog's backdrop covers only that). */
export async function everyLook(u, page, where, { fullPage = true } = {}) {
    for (const lang of ['fi', 'sv', 'en']) {
        for (const width of [360, 1280]) {
            await page.setViewportSize({ width, height: 800 });
            await page.selectOption('#lang', lang);
            await page.waitForFunction((l) => document.documentElement.lang === l, lang);
            await assertAccessible(page, `${where} ${lang} ${width}`);
            await screenshot(u, where, { lang, width, page, fullPage });
            const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
            assert.ok(overflow <= 0, `${where} ${lang} ${width}: ${overflow} px wider than the screen`);
        }
    }
}
