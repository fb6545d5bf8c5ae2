// Leaders by setup link in the browser (protocol/README.md §12): a coordinator adds a
// leader in the console and gets a one-time link; the leader opens it, chooses a
// password and logs in; the link then says it was used. A group is archived and
// comes back. The leaders section and the setup page are axe-clean at 360 and 1280 px
// in fi, sv and en, with screenshots.

import assert from 'node:assert/strict';
import { LEADER_PASSWORD, ctl, ctlJson, serverFixture, uid } from '../integration/lib/harness.mjs';
import { browserFixture, e2eTest } from './lib/browser.mjs';
import { login, url, visible } from './lib/ui.mjs';
import { addLeader, coordinator, everyLook, logIn } from './lib/console.mjs';

const browser = browserFixture();
const server = serverFixture();
const REFUSED = [/status of 4\d\d/];

e2eTest('a leader added by a setup link chooses a password, logs in, and the link is spent', { browser }, async (t, { user }) => {
    const s = await server();
    const coord = await coordinator(s);
    const group = uid('Torstairyhmä ');
    await ctl(s, ['group', 'add', group, '--language', 'fi']);
    await ctl(s, ['session', 'add', group, '--start', new Date(Date.now() + 3600e3).toISOString().slice(0, 16).replace('T', ' '),
        '--duration', '60', '--tz', 'UTC']);
    const c = await user(s, { label: 'coordinator', lang: 'en' });
    await c.page.goto(url(c, '/admin'));
    await logIn(c.page, coord);
    const username = uid('aino').toLowerCase();
    const link = await addLeader(c.page, username);
    assert.match(link, new RegExp(`^${s.origin}/setup#[A-Za-z0-9_-]{22}$`));
    const item = await visible(c.page, `#leaders li:has-text("${username}")`);
    assert.match(await item.innerText(), /waiting for the password/);
    await item.locator('select').selectOption({ label: group });
    await item.locator('button:has-text("Make a leader of this group")').click();
    await visible(c.page, `#leaders li:has-text("${username}") li:has-text("${group}")`);
    assert.deepEqual((await ctlJson(s, ['leader', 'list'])).find((l) => l.username === username).groups, [group]);

    // The leader, in a browser of their own.
    const l = await user(s, { label: 'leader', lang: 'en', allowConsole: REFUSED });
    await l.page.goto(url(l, '/setup') + link.slice(link.indexOf('#')));
    await visible(l.page, '#setup-fields');
    assert.equal(await l.page.inputValue('#setup-username'), username);
    assert.equal(new URL(l.page.url()).hash, '', 'the code leaves the address bar');
    await l.page.fill('#setup-password', 'one password here');
    await l.page.fill('#setup-again', 'another one here');
    await l.page.click('#setup-button');
    await visible(l.page, '#setup-error:not(:empty)');
    assert.equal(await l.page.locator('#setup-again').getAttribute('aria-invalid'), 'true');
    await l.page.fill('#setup-password', LEADER_PASSWORD);
    await l.page.fill('#setup-again', LEADER_PASSWORD);
    await l.page.click('#setup-button');
    await visible(l.page, '#setup-done');
    assert.match(await l.page.locator('#setup-done').innerText(), new RegExp(username));
    await l.page.click('#setup-login');
    await login(l, username);
    assert.match(await l.page.locator('#sessions').innerText(), new RegExp(group));

    // The link again: used.
    const again = await user(s, { label: 'again', lang: 'fi', allowConsole: REFUSED });
    await again.page.goto(url(again, '/setup') + link.slice(link.indexOf('#')));
    await visible(again.page, '#setup-error:not(:empty)');
    assert.match(await again.page.locator('#setup-error').innerText(), /jo käytetty/);
    assert.ok(await again.page.locator('#setup-fields').isHidden());

    // The console shows the account in use; the audit has each step.
    await c.page.click('[data-section="audit"]');
    await c.page.click('[data-section="leaders"]');
    await visible(c.page, `#leaders li:has-text("${username}"):has-text("can log in")`);
    const rows = (await ctlJson(s, ['audit'])).map((r) => `${r.actor} ${r.action}`);
    for (const want of [`coordinator:${coord} leader_add`, `coordinator:${coord} group_leader_add`, `leader:${username} leader_setup`])
        assert.ok(rows.includes(want), want);

    // Archive the group: it leaves the list, and comes back.
    await c.page.click('[data-section="groups"]');
    const g = await visible(c.page, `#groups li:has-text("${group}")`);
    await g.locator('button:has-text("Archive")').click();
    await visible(c.page, '#console-status:has-text("archived")');
    assert.equal(await c.page.locator(`#groups li:has-text("${group}")`).count(), 0);
    await c.page.check('#groups-archived');
    const back = await visible(c.page, `#groups li:has-text("${group}")`);
    await back.locator('button:has-text("Take out of the archive")').click();
    await visible(c.page, '#console-status:has-text("back in use")');
    assert.equal((await ctlJson(s, ['group', 'list'])).filter((x) => x.name === group).length, 1);
    assert.deepEqual([...c.tokenUrls, ...l.tokenUrls], []);
});

e2eTest('the leaders section and the setup page are accessible at 360 and 1280 px in fi, sv and en', { browser }, async (t, { user }) => {
    const s = await server();
    const coord = await coordinator(s);
    const group = uid('Keskiviikon ryhmä ');
    await ctl(s, ['group', 'add', group, '--language', 'fi']);
    await ctl(s, ['leader', 'add', uid('lead').toLowerCase(), '--setup-link']);
    const c = await user(s, { label: 'coordinator', lang: 'fi' });
    await c.page.goto(url(c, '/admin'));
    await logIn(c.page, coord);
    const username = uid('lead').toLowerCase();
    const link = await addLeader(c.page, username);
    await everyLook(c, c.page, 'admin-leaders-link');
    await c.page.click('#setup-close');
    await everyLook(c, c.page, 'admin-leaders');
    await ctl(s, ['group', 'archive', group]);
    await c.page.click('[data-section="groups"]');
    await c.page.check('#groups-archived');
    await visible(c.page, `#groups li:has-text("${group}")`);
    await everyLook(c, c.page, 'admin-archived');

    const l = await user(s, { label: 'setup', lang: 'fi', allowConsole: REFUSED });
    await l.page.goto(url(l, '/setup') + link.slice(link.indexOf('#')));
    await visible(l.page, '#setup-fields');
    await everyLook(l, l.page, 'setup');
    await l.page.fill('#setup-password', 'short');
    await l.page.click('#setup-button');
    await visible(l.page, '#setup-error:not(:empty)');
    await everyLook(l, l.page, 'setup-error');
    await l.page.fill('#setup-password', LEADER_PASSWORD);
    await l.page.fill('#setup-again', LEADER_PASSWORD);
    await l.page.click('#setup-button');
    await visible(l.page, '#setup-done');
    await everyLook(l, l.page, 'setup-done');
    await l.page.goto('about:blank'); // else the link is only a jump within the page
    await l.page.goto(url(l, '/setup') + link.slice(link.indexOf('#')));
    await visible(l.page, '#setup-error:not(:empty)');
    await everyLook(l, l.page, 'setup-used');
});
