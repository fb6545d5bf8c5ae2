// Invites in the browser (protocol/README.md §12, Invites): a leader makes an invite
// on the leader's page, copies it, shows its QR code, and a participant joins with
// that link; a coordinator makes and revokes invites in the console, and kamratctl
// sees the same invites; the new screens axe-clean at 360 and 1280 px in fi, sv and
// en, with screenshots.

import assert from 'node:assert/strict';
import { LEADER_PASSWORD, createInvite, ctl, ctlJson, serverFixture, setUpGroup, uid, waitFor } from '../integration/lib/harness.mjs';
import { assertAccessible, browserFixture, e2eTest, screenshot } from './lib/browser.mjs';
import { inLobby, join, login, openInvite, url, visible } from './lib/ui.mjs';

const browser = browserFixture();
const server = serverFixture();
const screensServer = serverFixture(); // its own: logins are throttled per address

/** The QR code on screen is a square SVG of one light rect and one dark path whose
 * size in modules is a QR version's, with the quiet zone. */
async function checkQr(page, sel) {
    const qr = await page.locator(sel).evaluate((svg) => ({
        tag: svg.tagName,
        view: svg.getAttribute('viewBox'),
        kids: [...svg.children].map((c) => c.tagName),
        fill: [...svg.children].map((c) => c.getAttribute('fill')),
        d: svg.querySelector('path').getAttribute('d'),
        label: svg.getAttribute('aria-label'),
        width: svg.getBoundingClientRect().width,
    }));
    assert.equal(qr.tag, 'svg');
    const m = /^0 0 (\d+) (\d+)$/.exec(qr.view);
    assert.ok(m && m[1] === m[2], `a square viewBox: ${qr.view}`);
    const size = Number(m[1]);
    assert.ok(size >= 29 && size <= 65 && (size - 29) % 4 === 0, `size ${size} is a QR version's with its quiet zone`);
    assert.deepEqual(qr.kids, ['rect', 'path']);
    assert.deepEqual(qr.fill, ['#fff', '#000'], 'dark on light');
    assert.match(qr.d, /^(M\d+ \d+h\d+v1h-\d+z)+$/);
    assert.ok(qr.label, 'the code has a name for screen readers');
    assert.ok(qr.width >= 200, `the code is big: ${qr.width} px`);
}

/** Logs coordinator `username` in to the console and opens its invites. */
async function consoleInvites(u, username) {
    await u.page.goto(url(u, '/admin'));
    await visible(u.page, '#login-form');
    await u.page.fill('#username', username);
    await u.page.fill('#password', LEADER_PASSWORD);
    await u.page.click('#login-button');
    await visible(u.page, '#groups-section');
    await u.page.click('[data-section="invites"]');
}

e2eTest('a leader makes an invite, copies it, shows its QR code, and a participant joins with it', { browser }, async (t, { user }) => {
    const s = await server();
    const { group, leaders } = await setUpGroup(s);
    const leader = await user(s, { label: 'leader', lang: 'en' });
    await leader.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: s.origin });
    await login(leader, leaders[0]);
    const page = leader.page;
    await visible(page, '#li-list li[data-invite]'); // kamratctl's invite of the group
    assert.equal(await page.locator('#li-group option').count(), 1);
    assert.equal(await page.locator('#li-group option').innerText(), group);

    await page.selectOption('#li-kind', 'personal');
    await page.fill('#li-days', '2');
    await page.click('#li-create');
    await visible(page, '#li-new');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'li-new-heading');
    const link = await page.inputValue('#li-link');
    const m = /^https:\/\/[^/]+\/j\/([A-Za-z0-9_-]{22})$/.exec(link);
    assert.ok(m, link);
    await page.click('#li-copy');
    await visible(page, '#li-copied:not(:empty)');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), link, 'the link is on the clipboard');

    await page.click('#li-show-qr');
    await visible(page, '#li-qr-dialog svg');
    await checkQr(page, '#li-qr-dialog svg');
    await assertAccessible(page, 'leader QR code');
    await page.click('#li-qr-close');
    await visible(page, '#li-show-qr');

    const invites = await ctlJson(s, ['invite', 'list', group]);
    assert.equal(invites[0].kind, 'personal');
    assert.equal(invites[0].created_by, `leader:${leaders[0]}`);

    const p = await user(s, { label: 'participant', lang: 'fi' });
    await openInvite(p, m[1]);
    await join(p, uid('Sol').slice(0, 12));
    await inLobby(p);

    // The leader's list says the personal invite is used, and revokes the group's.
    await page.click('#li-done');
    await page.click('#refresh');
    await visible(page, `#li-list li[data-invite="${invites[0].id}"][data-state="used"]`);
    const other = invites[1].id;
    await page.click(`#li-list li[data-invite="${other}"] button[data-action="revoke"]`);
    await visible(page, `#li-list li[data-invite="${other}"][data-state="revoked"]`);
    assert.equal((await ctlJson(s, ['invite', 'list', group])).find((i) => i.id === other).state, 'revoked');
    assert.deepEqual(leader.tokenUrls, [], 'no token or code in a URL');
});

e2eTest('a coordinator makes and revokes invites in the console; kamratctl agrees both ways', { browser }, async (t, { user }) => {
    const s = await server();
    const username = uid('coord').toLowerCase();
    await ctl(s, ['coordinator', 'add', username, '--password-stdin'], { input: `${LEADER_PASSWORD}\n` });
    const group = uid('Kutsuryhmä ');
    await ctl(s, ['group', 'add', group, '--language', 'fi']);
    const u = await user(s, { label: 'coordinator', lang: 'en' });
    await consoleInvites(u, username);
    await waitFor(async () => (await u.page.locator('#ci-group option').count()) > 0, { desc: 'the groups offered' });
    await u.page.selectOption('#ci-group', { label: group });
    await visible(u.page, '#invites-section .hint:has-text("No invites yet.")');
    await u.page.click('#ci-create');
    await visible(u.page, '#ci-new');
    const link = await u.page.inputValue('#ci-link');
    const made = (await ctlJson(s, ['invite', 'list', group]))[0];
    assert.equal(made.created_by, `coordinator:${username}`);
    assert.equal(made.kind, 'group');
    await visible(u.page, `#ci-list li[data-invite="${made.id}"][data-state="active"]`);

    // kamratctl's invite shows after a reload of the section; its code nowhere.
    const code = await createInvite(s, group);
    await u.page.click('[data-section="groups"]');
    await u.page.click('[data-section="invites"]');
    await u.page.selectOption('#ci-group', { label: group });
    await waitFor(async () => (await u.page.locator('#ci-list li').count()) === 2, { desc: 'both invites listed' });
    await u.page.click(`#ci-list li[data-invite="${made.id}"] button[data-action="revoke"]`);
    await visible(u.page, `#ci-list li[data-invite="${made.id}"][data-state="revoked"]`);
    const after = await ctlJson(s, ['invite', 'list', group]);
    assert.deepEqual(after.map((i) => i.state), ['active', 'revoked']);
    const body = await u.page.locator('body').innerText();
    assert.ok(!body.includes(code) && !body.includes(link.slice(-22)), 'no code on screen after Done or reload');
});

e2eTest('the invite screens are accessible at 360 and 1280 px in fi, sv and en', { browser }, async (t, { user }) => {
    const s = await screensServer();
    // One leader and one coordinator per language: logins of one name are throttled.
    const langs = ['fi', 'sv', 'en'];
    const leaders = langs.map((l) => uid(`lead${l}`).toLowerCase());
    const { group } = await setUpGroup(s, { leaders, description: 'Keskiviikkoisin kello 18 – kaikki ovat tervetulleita.' });
    const coordinators = langs.map((l) => uid(`coord${l}`).toLowerCase());
    for (const c of coordinators) await ctl(s, ['coordinator', 'add', c, '--password-stdin'], { input: `${LEADER_PASSWORD}\n` });
    // One login per language and page (ten login attempts a window per address):
    // each page is looked at 360 px wide, then 1280.
    const at = async (u, width) => u.page.setViewportSize({ width, height: width === 360 ? 640 : 800 });
    const wider = (u) => u.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    for (const [i, lang] of langs.entries()) {
        const u = await user(s, { label: `leader ${lang}`, lang, width: 360 });
        await login(u, leaders[i]);
        await visible(u.page, '#li-list li[data-invite]');
        await u.page.click('#li-create');
        await visible(u.page, '#li-new');
        for (const width of [360, 1280]) {
            await at(u, width);
            await assertAccessible(u.page, `leader invites ${lang} ${width}`);
            await screenshot(u, 'leader-invites', { width });
            assert.ok((await wider(u)) <= 0, `${lang} ${width}: the leader's page is wider than the screen`);
            await u.page.click('#li-show-qr');
            await visible(u.page, '#li-qr-dialog svg');
            await assertAccessible(u.page, `leader QR ${lang} ${width}`);
            await screenshot(u, 'leader-invite-qr', { width, fullPage: false });
            await u.page.click('#li-qr-close');
        }
        await u.context.close();

        const c = await user(s, { label: `coordinator ${lang}`, lang, width: 360 });
        await consoleInvites(c, coordinators[i]);
        await waitFor(async () => (await c.page.locator('#ci-group option').count()) > 0, { desc: 'the groups offered' });
        await c.page.selectOption('#ci-group', { label: group });
        await visible(c.page, '#ci-list li[data-invite]');
        for (const width of [360, 1280]) {
            await at(c, width);
            await assertAccessible(c.page, `admin invites ${lang} ${width}`);
            await screenshot(c, 'admin-invites', { width });
            assert.ok((await wider(c)) <= 0, `${lang} ${width}: the console is wider than the screen`);
        }
        await c.context.close();
    }
});
