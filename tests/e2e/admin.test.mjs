// The coordinators' console (/admin, protocol/README.md §12) in the browser: a
// coordinator logs in, adds a group, edits it, finds it in the list and both changes
// in the audit log; every screen axe-clean at 360 and 1280 px in fi, sv and en, with
// screenshots.

import assert from 'node:assert/strict';
import { ctl, ctlJson, serverFixture, uid, waitFor } from '../integration/lib/harness.mjs';
import { assertAccessible, browserFixture, e2eTest, screenshot } from './lib/browser.mjs';
import { url, visible } from './lib/ui.mjs';
import { coordinator, logIn } from './lib/console.mjs';

const browser = browserFixture();
const server = serverFixture();

e2eTest('a coordinator adds a group, edits it, and finds both in the list and the audit log', { browser }, async (t, { user }) => {
    const s = await server();
    const username = await coordinator(s);
    const u = await user(s, { label: 'coordinator', lang: 'en', allowConsole: [/status of 409/] });
    await u.page.goto(url(u, '/admin'));
    await logIn(u.page, username);

    const name = uid('Vertaisryhmä ');
    await u.page.click('#group-new');
    await visible(u.page, '#group-form');
    assert.equal(await u.page.evaluate(() => document.activeElement.id), 'group-heading', 'focus on the form heading');
    await u.page.fill('#g-name', name);
    await u.page.selectOption('#g-language', 'sv');
    await u.page.fill('#g-description', 'Onsdagar klockan 18');
    await u.page.fill('#g-max', '9');
    await u.page.click('#group-save');
    const item = await visible(u.page, `#groups li:has-text("${name}")`);
    assert.match(await item.innerText(), /Onsdagar klockan 18/);
    const listed = (await ctlJson(s, ['group', 'list'])).find((g) => g.name === name);
    assert.equal(listed.language, 'sv');

    await item.locator('button[data-i18n="admin.edit"]').click();
    await visible(u.page, '#group-form');
    assert.equal(await u.page.inputValue('#g-description'), 'Onsdagar klockan 18');
    await u.page.fill('#g-agreement', 'Det som sägs här stannar här.');
    await u.page.selectOption('#g-pm', 'off');
    await u.page.click('#group-save');
    await visible(u.page, '#groups-section');
    const edited = (await ctlJson(s, ['group', 'list'])).find((g) => g.name === name);
    assert.equal(edited.private_messages, 'off');

    // A name that is taken is said beside the field.
    await u.page.click('#group-new');
    await u.page.fill('#g-name', name);
    await u.page.click('#group-save');
    await visible(u.page, '#group-error:not(:empty)');
    assert.equal(await u.page.locator('#g-name').getAttribute('aria-invalid'), 'true');
    await u.page.click('#group-cancel');

    await u.page.click('[data-section="audit"]');
    await u.page.selectOption('#a-group', { label: name });
    await u.page.click('#audit-apply');
    // The section's first, unfiltered list may still be on screen: wait for
    // the filtered one.
    let rows = [];
    await waitFor(async () => {
        rows = await u.page.locator('#audit-rows tr').allInnerTexts();
        return rows.length === 2;
    }, { desc: 'the group audit rows' }).catch(() => {});
    assert.equal(rows.length, 2, rows.join('\n'));
    assert.match(rows[0], new RegExp(`coordinator:${username}\\s+group_edit`));
    assert.match(rows[1], new RegExp(`coordinator:${username}\\s+group_add`));

    await u.page.click('[data-section="health"]');
    await visible(u.page, '#health dd');
    assert.match(await u.page.locator('#health').innerText(), /0\.\d+\.\d+/);
    assert.deepEqual(u.tokenUrls, [], 'the token never goes into a URL');
});

e2eTest('every console screen is accessible at 360 and 1280 px in fi, sv and en', { browser }, async (t, { user }) => {
    const s = await server();
    const username = await coordinator(s);
    await ctl(s, ['group', 'add', uid('Keskiviikon ryhmä '), '--language', 'fi', '--description', 'Keskiviikkoisin kello 18 – kaikki ovat tervetulleita.']);
    for (const lang of ['fi', 'sv', 'en']) {
        for (const width of [360, 1280]) {
            const u = await user(s, { label: `${lang} ${width}`, lang, width });
            await u.page.goto(url(u, '/admin'));
            await visible(u.page, '#login-form');
            await assertAccessible(u.page, `admin login ${lang} ${width}`);
            await screenshot(u, 'admin-login');
            await logIn(u.page, username);
            await assertAccessible(u.page, `admin groups ${lang} ${width}`);
            await screenshot(u, 'admin-groups');
            await u.page.locator('#groups li button').first().click();
            await visible(u.page, '#group-form');
            await assertAccessible(u.page, `admin edit ${lang} ${width}`);
            await screenshot(u, 'admin-edit');
            await u.page.click('#group-cancel');
            await u.page.click('[data-section="audit"]');
            await visible(u.page, '#audit-rows tr');
            await assertAccessible(u.page, `admin audit ${lang} ${width}`);
            await screenshot(u, 'admin-audit');
            await u.page.click('[data-section="health"]');
            await visible(u.page, '#health dd');
            await assertAccessible(u.page, `admin health ${lang} ${width}`);
            await screenshot(u, 'admin-health');
            // No page is wider than the screen.
            const overflow = await u.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
            assert.ok(overflow <= 0, `${lang} ${width}: the page is ${overflow} px wider than the screen`);
            await u.context.close();
        }
    }
});
