// The room as a chat app and the leader's console on one screen, measured in the
// browser at 360x640, 768x1024, 1280x800 and 1366x768: the page itself never scrolls
// (the log does), the composer and the alerts (on a phone: the alerts tab with its
// badge) are inside the viewport, an unread "not OK" is counted in the badges and the
// tab's title until the leader turns to it; leaders see how many wait in the lobby
// before they open, and no "Raise hand". The language the user chose survives a
// reload and a refusal, and the browser's language wins over the group's. An Arabic
// room and console are right-to-left. Screenshots: layout-<screen>-<lang>-<w>x<h>.png.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { axeViolations, browserFixture, e2eTest, formatViolations, SCREENSHOT_DIR } from './lib/browser.mjs';
import { bringIn, groupFixture } from './lib/flows.mjs';
import {
    agree, click, enterSession, inLobby, inRoom, join, login, onScreen, openInvite, openSession, say, seeMessage,
    switchLanguage, url, visible,
} from './lib/ui.mjs';

const browser = browserFixture();
export const SIZES = [[360, 640], [768, 1024], [1280, 800], [1366, 768]];
const PHONE = 360;

async function setSize(user, [width, height]) {
    await user.page.setViewportSize({ width, height });
    await user.page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

async function shot(user, screen, [w, h]) {
    fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await user.page.screenshot({ path: path.join(SCREENSHOT_DIR, `layout-${screen}-${user.lang}-${w}x${h}.png`), caret: 'hide', animations: 'disabled' });
}

/** Where the page and its key controls are, in viewport coordinates. */
function measure(user) {
    return user.page.evaluate(() => {
        const box = (sel) => {
            const e = document.querySelector(sel);
            if (!e?.checkVisibility()) return null;
            const r = e.getBoundingClientRect();
            return { top: r.top, bottom: r.bottom, left: r.left, right: r.right };
        };
        return {
            scrollHeight: document.scrollingElement.scrollHeight,
            innerHeight,
            innerWidth,
            text: box('#text'),
            send: box('#send'),
            alerts: box('#alerts-box'),
            alertsTab: box('#tabs [data-tab="alerts"]'),
            hand: box('#hand'),
        };
    });
}

const inside = (b, m) => b && b.top >= 0 && b.left >= 0 && b.bottom <= m.innerHeight + 0.5 && b.right <= m.innerWidth + 0.5;

/** Findings for one user at one size: page scroll, composer, alerts. */
async function layoutFindings(user, size, { leader = false } = {}) {
    const m = await measure(user);
    const where = `${user.label} ${size.join('x')}`;
    const found = [];
    if (m.scrollHeight > m.innerHeight) found.push(`${where}: the page scrolls (${m.scrollHeight} px in ${m.innerHeight})`);
    if (!inside(m.text, m) || !inside(m.send, m)) found.push(`${where}: the composer is not in the viewport ${JSON.stringify([m.text, m.send])}`);
    if (leader) {
        const alerts = size[0] <= PHONE ? m.alertsTab : m.alerts;
        if (!inside(alerts, m)) found.push(`${where}: the alerts are not in the viewport ${JSON.stringify(alerts)}`);
        if (m.hand) found.push(`${where}: a leader is offered "Raise hand"`);
    }
    return found;
}

e2eTest('room and leader console fit every screen; unread alerts are counted in the badge and the title', { browser, timeout: 240000 }, async (t, ctx) => {
    const fx = await groupFixture({ language: 'en' });
    const { leader, p } = await bringIn(ctx, fx, ['Sol', 'Kim'], { langs: ['en', 'fi'], leaderLang: 'en' });
    const { Sol: sol, Kim: kim } = p;
    // Enough conversation that the log must scroll inside itself.
    for (let i = 1; i <= 14; i++) await say(i % 2 ? sol : kim, `Viesti ${i}: ${'sana '.repeat(i % 5 * 6)}`.trim());
    await say(sol, 'Ja vielä yksi perään');
    await say(sol, 'ja toinen samaan syssyyn');
    await say(leader, 'Kiitos kaikille');
    await seeMessage(kim, 'Kiitos kaikille');

    await click(sol.page, '#not-ok');
    await click(sol.page, '#crisis-close');
    await visible(leader.page, '#alerts li[data-kind="not_ok"]');

    const found = [];
    for (const size of SIZES) {
        for (const u of [sol, leader]) {
            await setSize(u, size);
            found.push(...await layoutFindings(u, size, { leader: u === leader }));
            await shot(u, u === leader ? 'console' : 'room', size);
        }
        // The badge counts the unread alert wherever the leader looks.
        const badge = size[0] <= PHONE ? '#tab-alerts-count' : '#alerts-count';
        assert.equal((await leader.page.locator(badge).textContent()).trim(), '1', `${size}: ${badge}`);
        if (size[0] <= PHONE) {
            await click(leader.page, '#tabs [data-tab="people"]');
            found.push(...(await layoutFindings(leader, size, { leader: true })).filter((f) => !/composer/.test(f)));
            await shot(leader, 'console-people', size);
            await click(leader.page, '#tabs [data-tab="chat"]');
        }
    }
    assert.match(await leader.page.title(), /^\(1\) /, 'the title counts the unread alert');
    // Messages in a row from one person are one turn; own messages say so in words.
    assert.ok(await sol.page.locator('#log li.msg.cont').count() > 0, 'consecutive messages are grouped');
    assert.ok(await sol.page.locator('#log li.msg[data-own] .meta .mark').count() > 0, 'own messages are labelled');

    // Turning to the alerts reads them: badge and title go back.
    await setSize(leader, [1280, 800]);
    await click(leader.page, '#alerts li[data-kind="not_ok"] button[data-action="dismiss"]');
    await leader.page.waitForFunction(() => !document.title.startsWith('('));
    assert.equal((await leader.page.locator('#alerts-count').textContent()).trim(), '');
    // No "Connected" bar once all is well.
    assert.equal(await sol.page.locator('#banner').isVisible(), false, 'the connection banner shows only when not fine');
    assert.deepEqual(found, [], `findings:\n${found.join('\n')}`);
});

e2eTest('the lobby count shows before the session opens, on every size', { browser, timeout: 180000 }, async (t, ctx) => {
    const fx = await groupFixture({ language: 'en' });
    const sol = await ctx.user(fx.server, { label: 'Sol', lang: 'en' });
    await openInvite(sol, fx.code);
    await join(sol, 'Sol');
    await inLobby(sol);
    const leader = await ctx.user(fx.server, { label: 'leader', lang: 'en' });
    await login(leader, fx.leaderName);
    await enterSession(leader, fx.session);
    await visible(leader.page, '#waiting li[data-member]');
    const found = [];
    for (const size of SIZES) {
        await setSize(leader, size);
        const count = await visible(leader.page, '#lobby-count');
        assert.match(await count.textContent(), /1/, `${size}: #lobby-count`);
        found.push(...(await layoutFindings(leader, size, { leader: true })).filter((f) => !/composer/.test(f)));
        await shot(leader, 'console-lobby', size);
        await setSize(sol, size);
        found.push(...(await layoutFindings(sol, size)).filter((f) => !/composer/.test(f)));
        await shot(sol, 'lobby', size);
    }
    assert.deepEqual(found, [], `findings:\n${found.join('\n')}`);
});

e2eTest('the chosen language survives a reload and a refusal; the browser\'s wins over the group\'s', { browser }, async (t, ctx) => {
    const fx = await groupFixture({ language: 'en' });
    const lang = () => u.page.evaluate(() => document.documentElement.lang);
    // A Finnish browser with no choice made: Finnish on the join page and in the lobby
    // of an English-speaking group.
    const fi = await ctx.user(fx.server, { label: 'fi-FI', lang: 'fi' });
    await fi.page.goto(url(fi, `/j/${fx.code}`, null));
    await visible(fi.page, '#name');
    assert.equal(await fi.page.evaluate(() => document.documentElement.lang), 'fi');
    await join(fi, 'Aino');
    await inLobby(fi);
    assert.equal(await fi.page.evaluate(() => document.documentElement.lang), 'fi', 'the group\'s language replaced the browser\'s');

    // A Finnish browser that chose Swedish: Swedish after a reload, after a refusal, in the lobby.
    const u = await ctx.user(fx.server, { label: 'chooser', lang: 'fi' });
    await u.page.goto(url(u, `/j/${fx.code}`, null));
    await visible(u.page, '#name');
    await switchLanguage(u, 'sv');
    await u.page.reload();
    await visible(u.page, '#name');
    assert.equal(await lang(), 'sv', 'after a reload');
    await join(u, 'Aino'); // taken by the first: refused
    await visible(u.page, '#join-error[data-code="name_taken"]');
    assert.equal(await lang(), 'sv', 'after a refusal');
    await join(u, 'Linnea');
    await inLobby(u);
    assert.equal(await lang(), 'sv', 'in the lobby of an English group');
});

e2eTest('an Arabic room and leader console are right-to-left, fit and pass axe', { browser, timeout: 180000 }, async (t, ctx) => {
    const fx = await groupFixture({ language: 'en' });
    const { leader, p } = await bringIn(ctx, fx, ['Sol'], { langs: ['ar'], leaderLang: 'ar' });
    const sol = p.Sol;
    await say(sol, 'مرحبا بالجميع');
    await say(sol, 'Hello everyone');
    await say(leader, 'أهلًا وسهلًا');
    await seeMessage(sol, 'أهلًا وسهلًا');
    await click(sol.page, '#not-ok');
    await click(sol.page, '#crisis-close');
    await visible(leader.page, '#alerts li[data-kind="not_ok"]');
    const found = [];
    for (const u of [sol, leader]) {
        assert.equal(await u.page.evaluate(() => `${document.documentElement.lang} ${document.documentElement.dir}`), 'ar rtl');
        for (const size of [[360, 640], [1280, 800]]) {
            await setSize(u, size);
            found.push(...await layoutFindings(u, size, { leader: u === leader }));
            const v = await axeViolations(u.page);
            if (v.length) found.push(formatViolations(v, `${u.label} ar ${size}`));
            await shot(u, u === leader ? 'console' : 'room', size);
        }
    }
    assert.deepEqual(found, [], `findings:\n${found.join('\n')}`);
});
