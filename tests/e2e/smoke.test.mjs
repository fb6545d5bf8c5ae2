// The shortest path through the real client: a participant opens an invite link and
// waits in the lobby; a leader logs in at /leader, enters the session and opens it;
// they exchange a message and both see both. Kept to the few hooks every version of
// the client has had, so it shows the pipeline works even while the client changes.
// Also checks the harness's own detectors, so a silent one cannot pass a test.

import assert from 'node:assert/strict';
import { sessionFixture } from '../integration/lib/harness.mjs';
import { axeViolations, browserFixture, e2eTest, userProblems } from './lib/browser.mjs';
import { url, visible } from './lib/ui.mjs';

const browser = browserFixture();

e2eTest('smoke: invite link, lobby, leader login, open, chat both ways', { browser }, async (t, { user }) => {
    const fx = await sessionFixture({ participants: 0, leaderEnters: false });
    const sol = await user(fx.server, { label: 'Sol' });
    const lead = await user(fx.server, { label: fx.leaderName });

    await sol.page.goto(url(sol, `/j/${fx.code}`, null));
    await (await visible(sol.page, '#name')).fill('Sol');
    await (await visible(sol.page, '#join-button')).click();
    await (await visible(sol.page, '#agree')).click();
    await visible(sol.page, '#agreed');

    await lead.page.goto(url(lead, '/leader', null));
    await (await visible(lead.page, '#username')).fill(fx.leaderName);
    await (await visible(lead.page, '#password')).fill('lived experience 2026');
    await (await visible(lead.page, '#login-button')).click();
    await (await visible(lead.page, '#sessions li button')).click();
    await (await visible(lead.page, '#open')).click();

    const solBox = await visible(sol.page, '#text');
    await solBox.fill('Hei kaikki');
    await solBox.press('Enter');
    const leadBox = await visible(lead.page, '#text');
    await leadBox.fill('Tervetuloa, Sol');
    await leadBox.press('Enter');

    for (const u of [sol, lead]) {
        for (const text of ['Hei kaikki', 'Tervetuloa, Sol']) {
            await u.page.locator('#log li.msg .text', { hasText: text }).first().waitFor({ state: 'visible' });
        }
        const texts = await u.page.$$eval('#log li.msg .text', (ps) => ps.map((p) => p.textContent));
        assert.deepEqual(texts, ['Hei kaikki', 'Tervetuloa, Sol'], `${u.label}'s log`);
    }
});

e2eTest('harness: CSP reports, foreign requests, console errors and axe findings are caught', { browser, clean: false }, async (t, { user }) => {
    const fx = await sessionFixture({ participants: 0, leaderEnters: false });
    const u = await user(fx.server, { label: 'probe' });
    // Only what the probe adds counts: the client may have problems of its own,
    // which the other tests report.
    await u.page.goto(url(u, `/j/${fx.code}`, null), { waitUntil: 'load' });
    assert.equal(await u.page.evaluate(() => Array.isArray(window.__kamratCsp)), true, 'init script ran under the CSP');
    const before = new Set(userProblems(u));
    const axeBefore = new Set((await axeViolations(u.page)).map((v) => v.id));

    // An inline script (blocked by script-src 'self') and an image from elsewhere.
    await u.page.evaluate(() => {
        const s = document.createElement('script');
        s.textContent = 'window.__probe = 1';
        document.head.append(s);
        const img = document.createElement('img');
        img.src = 'https://elsewhere.invalid/pixel.png';
        document.body.append(img);
    });
    await u.page.waitForFunction(() => window.__kamratCsp.length >= 2);
    assert.equal(await u.page.evaluate(() => window.__probe), undefined, 'the inline script did not run');
    const problems = userProblems(u).filter((p) => !before.has(p)).join('\n');
    assert.match(problems, /CSP violation: .*script-src/);
    assert.match(problems, /CSP violation: .*img-src/);
    assert.match(problems, /request to another origin: image https:\/\/elsewhere\.invalid/);
    assert.match(problems, /console error: .*Content Security Policy/);
    const ids = (await axeViolations(u.page)).map((v) => v.id);
    assert.ok(!axeBefore.has('image-alt') && ids.includes('image-alt'), `axe reports the image without alt (got ${ids})`);
});
