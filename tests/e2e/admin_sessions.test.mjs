// Sessions and bans in the browser (protocol/README.md §12, "Schedules, sessions and
// bans of a group"): a coordinator adds a weekly schedule in the console and sees
// its sessions, cancels one, adds a one-off and removes the schedule; lifts a ban a
// leader made in a real session; a leader starts a session early with "Start now",
// a co-leader sees how many wait in its lobby and holds "A session now" in a group
// that allows one. kamratctl sees what the console did. The new screens are axe-clean
// at 360 and 1280 px in fi, sv and en, with screenshots.

import assert from 'node:assert/strict';
import { addGroupLeader, ctl, ctlJson, enter, leaderLogin, participantKey, serverFixture, setUpGroup, uid, waitFor } from '../integration/lib/harness.mjs';
import { browserFixture, e2eTest } from './lib/browser.mjs';
import { inLobby, join, login, onScreen, openInvite, url, visible } from './lib/ui.mjs';
import { coordinator, everyLook, logIn, pickGroup } from './lib/console.mjs';

const browser = browserFixture();
const server = serverFixture();
const REFUSED = [/status of 4\d\d/];

/** The local date in Helsinki (the browsers' zone) days from now, as YYYY-MM-DD. */
function helsinkiDate(days) {
    return new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Helsinki' }).format(Date.now() + days * 86400e3);
}

/** Answers the confirmation dialog: yes, or back. */
async function confirm(page, yes = true) {
    await visible(page, '#confirm-dialog');
    await page.click(yes ? '#confirm-yes' : '#confirm-no');
}

e2eTest('a weekly schedule and its sessions, a cancelled one and a one-off in the console; kamratctl agrees', { browser }, async (t, { user }) => {
    const s = await server();
    const coord = await coordinator(s);
    const group = uid('Torstairyhmä ');
    await ctl(s, ['group', 'add', group, '--language', 'fi']);
    const c = await user(s, { label: 'coordinator', lang: 'en', allowConsole: REFUSED });
    await c.page.goto(url(c, '/admin'));
    await logIn(c.page, coord);
    await pickGroup(c.page, 'sessions', group);
    await visible(c.page, '#schedules-none');
    await visible(c.page, '#upcoming-none');
    assert.equal(await c.page.inputValue('#sc-tz'), 'Europe/Helsinki', 'the zone is the browser\'s');

    // A weekly schedule: its sessions are planned at once.
    await c.page.selectOption('#sc-weekday', 'thu');
    await c.page.fill('#sc-time', '18:00');
    await c.page.fill('#sc-duration', '90');
    await c.page.click('#schedule-add');
    const sc = await visible(c.page, '#schedules li[data-schedule]');
    assert.match(await sc.innerText(), /Every Thursday at 18:00, 90 min/);
    assert.match(await sc.innerText(), /Europe\/Helsinki · lobby 15 min before · from /);
    await visible(c.page, '#console-status:has-text("8 sessions planned")');
    await waitFor(async () => (await c.page.locator('#upcoming li[data-state="scheduled"]').count()) === 8, { desc: '8 sessions listed' });
    const first = c.page.locator('#upcoming li[data-session]').first();
    assert.match(await first.innerText(), /^Thu, .*6:00.*7:30/, 'in the viewer\'s locale and zone');
    assert.match(await first.innerText(), /Planned · weekly/);
    const listed = await ctlJson(s, ['schedule', 'list', group]);
    assert.equal(listed.length, 1);
    const planned = await ctlJson(s, ['session', 'list', group]);
    assert.equal(planned.length, 8);

    // Cancel the first, after going back once.
    const id = await first.getAttribute('data-session');
    await first.locator('button:has-text("Cancel the session")').click();
    await confirm(c.page, false);
    assert.equal(await first.getAttribute('data-state'), 'scheduled');
    await first.locator('button:has-text("Cancel the session")').click();
    await confirm(c.page);
    await visible(c.page, `#upcoming li[data-session="${id}"][data-state="cancelled"]`);
    assert.equal(await c.page.locator(`#upcoming li[data-session="${id}"] button`).count(), 0);
    await visible(c.page, '#console-status:has-text("is cancelled")');
    assert.equal((await ctlJson(s, ['session', 'list', group, '--all'])).find((x) => String(x.id) === id).state, 'cancelled');

    // A one-off: refused in the past, then made.
    await c.page.fill('#so-date', helsinkiDate(-2));
    await c.page.fill('#so-time', '10:00');
    await c.page.click('#oneoff-add');
    await visible(c.page, '#oneoff-error:has-text("still to come")');
    assert.equal(await c.page.locator('#so-date').getAttribute('aria-invalid'), 'true');
    await c.page.fill('#so-date', helsinkiDate(2));
    await c.page.fill('#so-duration', '60');
    await c.page.click('#oneoff-add');
    await visible(c.page, '#console-status:has-text("Session added")');
    assert.equal(await c.page.locator('#oneoff-error').innerText(), '');
    await visible(c.page, '#upcoming li:has-text("one-off")');
    const oneOff = (await ctlJson(s, ['session', 'list', group])).filter((x) => !planned.some((p) => p.id === x.id));
    assert.equal(oneOff.length, 1);

    // kamratctl's one-off shows in the console at once.
    await ctl(s, ['session', 'add', group, '--start', `${helsinkiDate(3)} 12:00`, '--duration', '45', '--tz', 'Europe/Stockholm']);
    await c.page.click('[data-section="groups"]');
    await c.page.click('[data-section="sessions"]');
    await visible(c.page, '#upcoming li:has-text("in Europe/Stockholm")');

    // Remove the schedule: its planned sessions go, the one-offs stay.
    await c.page.click('#schedules li[data-schedule] button:has-text("Remove")');
    await confirm(c.page);
    await visible(c.page, '#schedules-none');
    await waitFor(async () => (await c.page.locator('#upcoming li[data-session]').count()) === 2, { desc: 'the one-offs left' });
    assert.deepEqual(await ctlJson(s, ['schedule', 'list', group]), []);

    const rows = (await ctlJson(s, ['audit'])).map((r) => `${r.actor} ${r.action}`);
    for (const action of ['schedule_add', 'session_cancel', 'session_add', 'schedule_remove'])
        assert.ok(rows.includes(`coordinator:${coord} ${action}`), action);
});

/** A ban a leader makes in a real session: the leader opens the room, `name` enters
 * with the group invite and is banned. */
async function banInSession(s, g, name) {
    const token = await leaderLogin(s, g.leaders[0]);
    const { client: leader } = await enter(s, { token, session: g.session });
    assert.equal((await leader.request({ type: 'open' })).type, 'ack');
    const { client, reply } = await enter(s, { invite: g.code, name, key: participantKey() });
    assert.equal(reply.type, 'welcome', JSON.stringify(reply));
    const ban = await leader.request({ type: 'ban', member: client.member });
    assert.equal(ban.type, 'ack', JSON.stringify(ban));
    leader.close();
    client.close();
    return ban.ban;
}

e2eTest('a ban made in a session is listed in the console and lifted there; kamratctl agrees', { browser }, async (t, { user }) => {
    const s = await server();
    const coord = await coordinator(s);
    const g = await setUpGroup(s);
    const other = await setUpGroup(s);
    const ban = await banInSession(s, g, 'Sol');
    const c = await user(s, { label: 'coordinator', lang: 'en' });
    await c.page.goto(url(c, '/admin'));
    await logIn(c.page, coord);
    await pickGroup(c.page, 'bans', other.group);
    await visible(c.page, '#bans-none');
    await c.page.selectOption('#b-group', { label: g.group });
    const item = await visible(c.page, `#bans li[data-ban="${ban}"]`);
    assert.match(await item.innerText(), /^Sol\n/);
    assert.match(await item.innerText(), new RegExp(`by leader:${g.leaders[0]} · bound to their browser`));

    // The sessions section starts at the group picked here.
    await c.page.click('[data-section="sessions"]');
    assert.equal(await c.page.locator('#s-group option:checked').innerText(), g.group);
    await c.page.click('[data-section="bans"]');

    await item.locator('button:has-text("Lift ban")').click();
    await visible(c.page, '#confirm-dialog:has-text("Lift the ban on Sol?")');
    await confirm(c.page);
    await visible(c.page, '#bans-none');
    await visible(c.page, '#console-status:has-text("The ban on Sol is lifted.")');
    const all = await ctlJson(s, ['ban', 'list', '--group', g.group, '--all']);
    assert.ok(all.find((b) => b.id === ban).lifted_at, 'kamratctl sees it lifted');
    await c.page.check('#bans-all');
    const lifted = await visible(c.page, `#bans li[data-ban="${ban}"]`);
    assert.match(await lifted.innerText(), /lifted /);
    assert.equal(await lifted.locator('button').count(), 0);
    const rows = (await ctlJson(s, ['audit'])).map((r) => `${r.actor} ${r.action}`);
    assert.ok(rows.includes(`coordinator:${coord} unban`));
});

e2eTest('a leader starts a session early, a co-leader sees who waits and holds a session now', { browser }, async (t, { user }) => {
    const s = await server();
    // The session begins in 10 minutes, within early_start (15), and its lobby opens 5 before.
    const a = await setUpGroup(s, { start: 10, lobby: 5 });
    const second = uid('co').toLowerCase();
    await addGroupLeader(s, a.group, second);
    const b = uid('Tukipari ');
    await ctl(s, ['group', 'add', b, '--language', 'en', '--adhoc-sessions', 'yes']);
    await ctl(s, ['group', 'leader', 'add', b, second]);

    const l = await user(s, { label: 'leader', lang: 'en' });
    await login(l, a.leaders[0]);
    const row = `#sessions li[data-session="${a.session}"]`;
    await visible(l.page, `${row}[data-state="scheduled"]`);
    assert.equal(await l.page.locator('#sessions-adhoc button').count(), 0, 'no session now where the group does not allow it');
    await l.page.click(`${row} button[data-action="start"]`);
    await onScreen(l.page, 'room');
    await visible(l.page, '#panel');
    assert.equal((await ctlJson(s, ['session', 'list', a.group])).find((x) => x.id === a.session).state, 'lobby');

    const p = await user(s, { label: 'participant', lang: 'fi' });
    await openInvite(p, a.code);
    await join(p, 'Kim');
    await inLobby(p);

    const co = await user(s, { label: 'co-leader', lang: 'en' });
    await login(co, second);
    await visible(co.page, `${row}[data-state="lobby"] .waiting:has-text("Waiting in the lobby: 1")`);
    const now = await visible(co.page, '#sessions-adhoc button[data-action="adhoc"]');
    assert.equal(await now.getAttribute('aria-label'), `A session now: ${b}`);
    await now.click();
    await onScreen(co.page, 'room');
    await visible(co.page, '#panel');
    const made = await ctlJson(s, ['session', 'list', b]);
    assert.equal(made.length, 1);
    assert.ok(['lobby', 'running'].includes(made[0].state), made[0].state);
    const rows = (await ctlJson(s, ['audit'])).map((r) => `${r.actor} ${r.action}`);
    assert.ok(rows.includes(`leader:${a.leaders[0]} session_start`));
    assert.ok(rows.includes(`leader:${second} session_add`));
});

e2eTest('the sessions and bans sections are accessible at 360 and 1280 px in fi, sv and en', { browser }, async (t, { user }) => {
    const s = await server();
    const coord = await coordinator(s);
    const g = await setUpGroup(s, { group: uid('Keskiviikon vertaisryhmä ') });
    await banInSession(s, g, 'Sol');
    await ctl(s, ['schedule', 'add', g.group, '--weekday', 'wed', '--time', '17:30', '--duration', '90', '--tz', 'Europe/Helsinki']);
    await ctl(s, ['session', 'add', g.group, '--start', `${helsinkiDate(1)} 09:00`, '--duration', '60', '--tz', 'America/New_York']);
    const c = await user(s, { label: 'coordinator', lang: 'fi', allowConsole: REFUSED });
    await c.page.goto(url(c, '/admin'));
    await logIn(c.page, coord);
    await pickGroup(c.page, 'sessions', g.group);
    await visible(c.page, '#schedules li[data-schedule]');
    await everyLook(c, c.page, 'admin-sessions');
    await c.page.fill('#so-date', helsinkiDate(-1));
    await c.page.fill('#so-time', '09:00');
    await c.page.click('#oneoff-add');
    await visible(c.page, '#oneoff-error:not(:empty)');
    await everyLook(c, c.page, 'admin-sessions-error');
    await c.page.click('#upcoming li[data-session] button');
    await visible(c.page, '#confirm-dialog');
    await everyLook(c, c.page, 'admin-sessions-confirm', { fullPage: false });
    await c.page.click('#confirm-no');
    await pickGroup(c.page, 'bans', g.group);
    await visible(c.page, '#bans li[data-ban]');
    await everyLook(c, c.page, 'admin-bans');
    await c.page.click('[data-section="groups"]');
    await c.page.click(`#groups li:has-text("${g.group}") button[data-i18n="admin.edit"]`);
    await visible(c.page, '#g-adhoc');
    await everyLook(c, c.page, 'admin-group-adhoc');
});
