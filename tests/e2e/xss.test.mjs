// Hostile text renders as text (TESTPLAN B5, D4): a pseudonym, messages, a topic
// and a group's own texts holding markup and javascript: links. Nothing runs
// (window.__xss stays undefined), no element is made from them, no CSP violation
// is reported and nothing is requested from another origin (e2eTest checks the
// last two for every user after the body).

import assert from 'node:assert/strict';
import { browserFixture, e2eTest } from './lib/browser.mjs';
import { groupFixture } from './lib/flows.mjs';
import {
    agree, click, control, enterSession, inLobby, inRoom, join, login, memberId, openInvite, openSession, say, seeMessage,
    visible,
} from './lib/ui.mjs';

const browser = browserFixture();

const IMG = '<img src=x onerror=window.__xss=1>';
const NAME = '<img src=x onerror=window.__xss=1>'; // 35 code points: a valid pseudonym
const SCRIPT = '<script>window.__xss=2</script>';
const LINK = 'javascript:window.__xss=3';
const ANCHOR = '<a href="javascript:window.__xss=4">klikkaa tästä</a>';
const MARKDOWN = '[klikkaa](javascript:window.__xss=5) **lihava**';
const SVG = '<svg onload=window.__xss=6></svg>';
const MESSAGES = [IMG, SCRIPT, LINK, ANCHOR, MARKDOWN, SVG, `${IMG} & ${LINK} &lt;b&gt;`];

/** What the page made of the hostile text: elements or links that should not exist. */
async function injected(page) {
    return page.evaluate(() => ({
        xss: window.__xss,
        // The page's own: the association's logo (web/js/brand.js).
        imgs: [...document.querySelectorAll('img:not(#brand-logo)')].map((i) => i.outerHTML),
        scripts: [...document.querySelectorAll('script')].filter((s) => !s.src).map((s) => s.outerHTML),
        svgs: [...document.querySelectorAll('svg[onload], [onerror], [onload], [onclick]')].map((e) => e.outerHTML),
        jsLinks: [...document.querySelectorAll('a[href], area[href], [src], [action], [formaction]')]
            .map((e) => e.getAttribute('href') ?? e.getAttribute('src') ?? e.getAttribute('action') ?? e.getAttribute('formaction'))
            .filter((h) => /^\s*javascript:/i.test(h ?? '')),
    }));
}

async function assertInert(user) {
    const got = await injected(user.page);
    assert.deepEqual(got, { xss: undefined, imgs: [], scripts: [], svgs: [], jsLinks: [] }, `${user.label}: hostile text became markup`);
    const requested = user.requests.filter((r) => /\/x(\?|$)/.test(r));
    assert.deepEqual(requested, [], `${user.label} requested the payload's image`);
}

e2eTest('markup and javascript: links in a pseudonym, messages, topic and group texts render as text', { browser }, async (t, ctx) => {
    const fx = await groupFixture({
        description: `Kuvaus ${IMG} ${ANCHOR}`,
        agreement: `Sopimus ${SCRIPT}\n${LINK}\n`,
    });
    const eve = await ctx.user(fx.server, { label: 'hostile participant', lang: 'fi' });
    await openInvite(eve, fx.code);
    await join(eve, NAME);
    await inLobby(eve);
    assert.equal(await eve.page.locator('#lobby-desc').textContent(), `Kuvaus ${IMG} ${ANCHOR}`);
    assert.match(await eve.page.locator('#agreement-text').textContent(), /<script>window.__xss=2<\/script>/);
    await assertInert(eve);
    await agree(eve);

    const other = await ctx.user(fx.server, { label: 'Sol', lang: 'sv' });
    await openInvite(other, fx.code);
    await join(other, 'Sol');
    await inLobby(other);
    await agree(other);

    const leader = await ctx.user(fx.server, { label: 'leader', lang: 'en' });
    await login(leader, fx.leaderName);
    await enterSession(leader, fx.session);
    // The waiting list shows the pseudonym as text.
    await visible(leader.page, '#waiting li[data-member]');
    assert.ok((await leader.page.locator('#waiting').textContent()).includes(NAME), 'pseudonym shown as text in the lobby list');
    await assertInert(leader);
    await openSession(leader);
    await inRoom(eve);
    await inRoom(other);

    for (const text of MESSAGES) await say(eve, text);
    const topic = await control(leader.page, '#topic-text');
    await topic.fill(`${IMG} ${LINK}`);
    await click(leader.page, '#topic-set');

    for (const u of [eve, other, leader]) {
        for (const text of MESSAGES) {
            const li = await seeMessage(u, text);
            assert.equal(await li.locator('.text').textContent(), text);
            assert.ok((await li.textContent()).includes(NAME), `${u.label}: the sender's pseudonym is shown as text`);
        }
        await visible(u.page, '#topic');
        assert.equal((await u.page.locator('#topic').textContent()).includes(`${IMG} ${LINK}`), true, `${u.label}: topic as text`);
        const id = await memberId(u, NAME);
        assert.ok(id > 0);
        // Clicking the texts follows nothing.
        for (const text of [LINK, ANCHOR, MARKDOWN]) await (await seeMessage(u, text)).locator('.text').click();
        await assertInert(u);
    }
    assert.equal(await leader.page.evaluate(() => document.title.includes('<')), false, 'title untouched');
    // Said outright although e2eTest checks it for every test: not one CSP report,
    // nothing from another origin.
    for (const u of [eve, other, leader]) {
        assert.deepEqual(u.csp, [], `${u.label}: CSP reports`);
        assert.deepEqual(u.foreign, [], `${u.label}: requests to other origins`);
        assert.deepEqual(await u.page.evaluate(() => [...window.__kamratCsp]), [], `${u.label}: CSP events in the page`);
    }
});
