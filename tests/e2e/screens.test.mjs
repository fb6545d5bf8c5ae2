// Every screen of the client in each language (fi, sv, en), at 320x640 (WCAG 1.4.10's
// reflow width), 360x640, 768x1024, 1280x800 and 1366x768: axe-core finds no WCAG 2.1 A/AA violation, nothing makes the
// page scroll sideways (1.4.10 Reflow, which axe leaves out), <html lang> follows
// the language, and a screenshot is saved as tests/e2e/screenshots/
// <screen>-<lang>-<width>.png (<width>x<height> beyond 320 and 1280). The screens: home, join, lobby, login, sessions,
// panel-lobby (the leader's room before it opens), room, panel (the leader's room
// with a hand, an alert and a private message), crisis (the dialog), leave-dialog,
// confirm-end, ended and ended-leader. Language by ?lang= (web/README.md), and once by the switcher.

import assert from 'node:assert/strict';
import { axeViolations, browserFixture, e2eTest, formatViolations, LANGS, screenshot, WIDTHS } from './lib/browser.mjs';
import { groupFixture } from './lib/flows.mjs';
import {
    agree, click, enterSession, inLobby, inRoom, join, login, memberId, onScreen, openInvite, openSession, say,
    seeMessage, switchLanguage, url, visible,
} from './lib/ui.mjs';

const browser = browserFixture();
const SIZES = [[WIDTHS.narrow, 740], [360, 640], [768, 1024], [WIDTHS.wide, 800], [1366, 768]];

/**
 * At the screen shown now: for each width, resize, check axe and <html lang>, save
 * a screenshot (of the viewport only for a dialog). Findings are pushed to
 * `found` (so every screen is checked and shot before the test fails). Leaves the
 * viewport at the user's width.
 */
async function capture(user, screen, found, { dialog = false } = {}) {
    for (const [width, height] of SIZES) {
        await user.page.setViewportSize({ width, height });
        // Let layout settle: two frames after the resize.
        await user.page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
        const lang = await user.page.evaluate(() => document.documentElement.lang);
        if (lang !== user.lang) found.push(`${screen} ${user.lang} ${width}: <html lang="${lang}">, expected "${user.lang}"`);
        // WCAG 1.4.10 Reflow, which axe does not check: no sideways scrolling.
        const wide = await user.page.evaluate(() => {
            const doc = document.documentElement;
            if (doc.scrollWidth <= doc.clientWidth) return null;
            const over = [...document.querySelectorAll('body *')]
                .filter((e) => e.checkVisibility() && e.getBoundingClientRect().right > doc.clientWidth + 0.5)
                .filter((e) => ![...e.children].some((c) => c.getBoundingClientRect().right > doc.clientWidth + 0.5))
                .slice(0, 5)
                .map((e) => `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}${e.className ? `.${String(e.className).split(' ').join('.')}` : ''}`);
            return { scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth, over };
        });
        if (wide) {
            found.push(`${screen} ${user.lang} ${width}: page scrolls sideways (${wide.scrollWidth} px content in ${wide.clientWidth} px; widest: ${wide.over.join(', ')})`);
        }
        const violations = await axeViolations(user.page);
        if (violations.length) found.push(formatViolations(violations, `${screen} ${user.lang} ${width}`));
        const named = width === WIDTHS.narrow || (width === WIDTHS.wide && height === 800) ? width : `${width}x${height}`;
        await screenshot(user, screen, { width: named, fullPage: !dialog });
    }
    await user.page.setViewportSize({ width: user.width, height: 800 });
}

for (const lang of LANGS) {
    e2eTest(`every screen in ${lang}, narrow and wide: no axe violations, no sideways scroll, screenshots`, { browser, timeout: 360000 }, async (t, ctx) => {
        const fx = await groupFixture({ language: lang });
        const found = [];
        const sol = await ctx.user(fx.server, { label: `Sol (${lang})`, lang });
        const kim = await ctx.user(fx.server, { label: `Kim (${lang})`, lang });
        const leader = await ctx.user(fx.server, { label: `leader (${lang})`, lang });

        await sol.page.goto(url(sol, '/'));
        await onScreen(sol.page, 'home');
        await capture(sol, 'home', found);

        await openInvite(sol, fx.code);
        await onScreen(sol.page, 'join');
        await capture(sol, 'join', found);
        await join(sol, 'Sol');
        await inLobby(sol);
        await capture(sol, 'lobby', found);
        await agree(sol);

        await openInvite(kim, fx.code);
        await join(kim, 'Kim');
        await inLobby(kim);
        await agree(kim);

        await leader.page.goto(url(leader, '/leader'));
        await onScreen(leader.page, 'login');
        await capture(leader, 'login', found);
        await login(leader, fx.leaderName);
        await capture(leader, 'sessions', found);
        await enterSession(leader, fx.session);
        await visible(leader.page, '#waiting li[data-member]');
        await capture(leader, 'panel-lobby', found);
        await openSession(leader);
        await inRoom(sol);
        await inRoom(kim);

        await say(leader, { fi: 'Tervetuloa! Aloitetaan kuulumiskierroksella.', sv: 'Välkomna! Vi börjar med en runda.', en: 'Welcome! We start with a check-in.' }[lang]);
        await say(sol, { fi: 'Hei, minulle kuuluu ihan hyvää tänään.', sv: 'Hej, jag mår rätt bra i dag.', en: 'Hi, I am doing fairly well today.' }[lang]);
        await say(kim, { fi: 'Kiitos että saan olla täällä 🙂', sv: 'Tack för att jag får vara här 🙂', en: 'Thanks for having me 🙂' }[lang]);
        await click(kim.page, '#hand');
        await say(sol, { fi: 'Voinko jutella jälkeenpäin?', sv: 'Kan vi prata efteråt?', en: 'Can we talk afterwards?' }[lang], { to: 'leaders' });
        await seeMessage(kim, { fi: 'Kiitos että saan olla täällä 🙂', sv: 'Tack för att jag får vara här 🙂', en: 'Thanks for having me 🙂' }[lang]);
        await capture(sol, 'room', found);

        await click(sol.page, '#not-ok');
        await visible(sol.page, '#crisis');
        await capture(sol, 'crisis', found, { dialog: true });
        await click(sol.page, '#crisis-close');

        await visible(leader.page, '#alerts li[data-kind="not_ok"]');
        await visible(leader.page, '#hands li[data-member]');
        await capture(leader, 'panel', found);

        // The people tab on a phone, a removal asked in Kim's row.
        const kimRow = `#members li[data-member="${await memberId(leader, 'Kim')}"]`;
        await leader.page.setViewportSize({ width: 360, height: 640 });
        await click(leader.page, '#tabs button[data-tab="people"]');
        await click(leader.page, `${kimRow} button[data-action="remove"]`);
        await visible(leader.page, `${kimRow} .inline-confirm`);
        await capture(leader, 'panel-people', found);
        await leader.page.setViewportSize({ width: 360, height: 640 });
        await click(leader.page, `${kimRow} .inline-confirm button[data-action="cancel"]`);
        await click(leader.page, '#tabs button[data-tab="chat"]');
        await leader.page.setViewportSize({ width: leader.width, height: 800 });

        await click(kim.page, '#leave');
        await visible(kim.page, '#leave-dialog');
        await capture(kim, 'leave-dialog', found, { dialog: true });
        await click(kim.page, '#leave-cancel');

        await click(leader.page, '#end');
        await visible(leader.page, '#confirm');
        await capture(leader, 'confirm-end', found, { dialog: true });
        await click(leader.page, '#confirm-yes');
        await visible(sol.page, '#ended-view[data-reason="ended"]');
        await capture(sol, 'ended', found);
        await visible(leader.page, '#ended-view');
        await capture(leader, 'ended-leader', found);

        assert.deepEqual(found, [], `findings:\n${found.join('\n')}`);
    });
}

e2eTest('the language switcher changes the words and <html lang> in place', { browser }, async (t, ctx) => {
    const fx = await groupFixture();
    const u = await ctx.user(fx.server, { label: 'switcher', lang: 'fi' });
    await openInvite(u, fx.code);
    const words = {};
    for (const lang of ['fi', 'sv', 'en']) {
        if (lang !== 'fi') await switchLanguage(u, lang);
        assert.equal(await u.page.evaluate(() => document.documentElement.lang), lang);
        words[lang] = await u.page.locator('#join-button').textContent();
    }
    assert.equal(new Set(Object.values(words)).size, 3, `the join button reads the same in two languages: ${JSON.stringify(words)}`);
    await u.page.goto(url(u, `/j/${fx.code}`, 'qps-rtl'));
    await visible(u.page, '#name');
    assert.equal(await u.page.evaluate(() => document.documentElement.dir), 'rtl', 'qps-rtl sets dir=rtl');
});
