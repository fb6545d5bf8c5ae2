// The association's own look ([branding]) and the join page's facts: the name, logo
// and accent on the page; the association, the group and the session's time before
// the pseudonym field; a revoked invite explained in the browser's language with the
// association's contact line. Screenshots at 360 and 1280 px, also right-to-left.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { makeTempDir } from '../integration/lib/harness.mjs';
import { assertAccessible, browserFixture, e2eTest, screenshot } from './lib/browser.mjs';
import { groupFixture } from './lib/flows.mjs';
import { url, visible } from './lib/ui.mjs';

const browser = browserFixture();
const NAME = 'Mielenterveysyhdistys Tuki ry';
const CONTACT = 'Kirjoita info@tuki.fi tai soita 010 123 4567 (ma–pe 9–15)';
const ACCENT = 'rgb(31, 81, 48)'; // #1f5130

function brandedGroup() {
    const dir = makeTempDir('kamrat-e2e-brand-');
    const logo = path.join(dir, 'logo.svg');
    fs.writeFileSync(logo, '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="8" fill="#1f5130"/><circle cx="16" cy="16" r="8" fill="#fff"/></svg>\n');
    return groupFixture({
        extra: ['[branding]', `name = ${NAME}`, `logo = ${logo}`, 'accent = #1f5130',
            'welcome = Tervetuloa! Täällä saat olla nimettömänä.', `contact = ${CONTACT}`].join('\n'),
    });
}

const text = (page, sel) => page.locator(sel).innerText();

e2eTest('the join page shows the association, the group and the time before the pseudonym', { browser }, async (t, { user }) => {
    const fx = await brandedGroup();
    for (const [lang, width] of [['fi', 360], ['fi', 1280], ['ar', 360], ['ar', 1280]]) {
        const u = await user(fx.server, { label: `${lang} ${width}`, lang, width });
        await u.page.goto(url(u, `/j/${fx.code}`));
        await visible(u.page, '#join-when');
        assert.equal(await text(u.page, '#brand-name'), NAME);
        assert.equal(await u.page.title(), NAME);
        assert.ok(await u.page.locator('#brand-logo').isVisible(), 'the logo');
        assert.equal(await text(u.page, '#join-association'), NAME);
        assert.match(await text(u.page, '#join-group'), new RegExp(fx.group));
        assert.ok((await text(u.page, '#join-when')).length > 5);
        assert.equal(await u.page.locator('#join-when').getAttribute('data-i18n'), 'join.when_lobby');
        // Before the pseudonym field, in the document's order.
        const before = await u.page.evaluate(() => {
            const name = document.getElementById('name');
            return ['join-association', 'join-group', 'join-when'].every((id) =>
                document.getElementById(id).compareDocumentPosition(name) & Node.DOCUMENT_POSITION_FOLLOWING);
        });
        assert.ok(before, 'association, group and time come before #name');
        const colour = await u.page.evaluate(() => getComputedStyle(document.getElementById('join-button')).backgroundColor);
        assert.equal(colour, ACCENT, 'the accent from branding.css');
        await assertAccessible(u.page, `join ${lang} ${width}`);
        await screenshot(u, 'brand-join');
    }
});

e2eTest('a revoked invite says so in the browser\'s language, with the contact line', { browser }, async (t, { user }) => {
    const fx = await brandedGroup();
    const newest = JSON.parse(await fx.ctl(['--json', 'invite', 'list']))[0];
    await fx.ctl(['invite', 'revoke', String(newest.id)]);
    for (const [lang, width] of [['fi', 360], ['fi', 1280], ['ar', 1280]]) {
        // The browser reports the 404 that says the invite does not work.
        const u = await user(fx.server, { label: `${lang} ${width}`, lang, width, allowConsole: [/404 \(Not Found\).*\/info\.json/] });
        // No ?lang=: the browser's own language decides.
        await u.page.goto(url(u, `/j/${fx.code}`, null));
        await visible(u.page, '#invite-invalid');
        assert.equal(await u.page.evaluate(() => document.documentElement.lang), lang);
        assert.equal(await text(u.page, '#join-contact'), CONTACT);
        const heading = JSON.parse(fs.readFileSync(new URL(`../../web/i18n/${lang}.json`, import.meta.url)))['invalid.heading'];
        assert.equal(await text(u.page, '#join-heading'), heading);
        assert.equal(await u.page.locator('#name').isVisible(), false, 'no pseudonym field for a dead invite');
        await assertAccessible(u.page, `invalid ${lang} ${width}`);
        await screenshot(u, 'brand-invalid');
    }
});
