// A whole support-group session in real browsers: a leader and three participants,
// each in a browser context of their own, through lobby, admission, agreement,
// chat, hands, a private message to the leaders, "I'm not OK", delete, mute, a
// round and the end; and a participant whose network drops while typing.
// Hooks: web/README.md "Test hooks"; every selector is in lib/ui.mjs.

import assert from 'node:assert/strict';
import { browserFixture, e2eTest } from './lib/browser.mjs';
import { CRISIS, bringIn, groupFixture } from './lib/flows.mjs';
import { cableProxy } from './lib/netcut.mjs';
import {
    admit, agree, click, control, endSession, enterSession, gone, inLobby, inRoom, join, login, memberAction,
    memberId, messageItem, messageTexts, onScreen, openInvite, openSession, say, seeMessage, seqOf, visible,
    waitingMember,
} from './lib/ui.mjs';

const browser = browserFixture();

/** Fails unless every user's log holds text exactly once. */
async function onceForAll(users, text) {
    for (const u of users) {
        await seeMessage(u, text);
        const n = (await messageTexts(u)).filter((t) => t === text).length;
        assert.equal(n, 1, `${u.label} shows ${JSON.stringify(text)} ${n} times`);
    }
}

/**
 * user's room message text is refused with code: shown as failed in the outbox
 * (or the composer does not send at all), and it reaches none of others. A
 * message from fence (a leader) afterwards shows the others had time to get it.
 */
async function refused(t, user, text, code, fence, others) {
    await say(user, text);
    const failed = await visible(user.page, `#outbox li.failed[data-code="${code}"]`).catch(async (e) => {
        if (await user.page.locator('#text').isDisabled()) return null; // the composer kept it
        throw e;
    });
    const after = `${fence.label}: ${code} ${Date.now()}`;
    await say(fence, after);
    for (const u of others) {
        await seeMessage(u, after);
        assert.ok(!(await messageTexts(u)).includes(text), `${u.label} got a message refused as ${code}`);
    }
    t.diagnostic(failed ? `${code}: shown as failed in the outbox` : `${code}: composer disabled`);
}

e2eTest('lobby, locked room, admission one by one and all, agreement gate, chat for all', { browser }, async (t, ctx) => {
    const fx = await groupFixture();
    const names = ['Sol', 'Kim', 'Ilo'];
    const p = {};
    for (const [i, name] of names.entries()) {
        const u = await ctx.user(fx.server, { label: name, lang: ['fi', 'sv', 'en'][i] });
        await openInvite(u, fx.code);
        await join(u, name);
        await inLobby(u);
        // The lobby shows the group, its description and the agreement, nothing of the room.
        assert.equal(await u.page.locator('#room-title').textContent(), fx.group);
        assert.match(await u.page.locator('#lobby-desc').textContent(), /Vertaistukea torstaisin/);
        assert.match(await u.page.locator('#agreement-text').textContent(), /jää tänne/);
        assert.equal(await u.page.locator('#log li.msg').count(), 0, `${name} sees no messages in the lobby`);
        p[name] = u;
    }
    await agree(p.Sol); // Kim and Ilo agree later, in the room

    const leader = await ctx.user(fx.server, { label: 'leader', lang: 'fi' });
    await login(leader, fx.leaderName);
    await enterSession(leader, fx.session);
    const ids = {};
    for (const name of names) ids[name] = await waitingMember(leader, name);
    const agreed = async (name) => leader.page.locator(`#waiting li[data-member="${ids[name]}"]`).getAttribute('data-agreed');
    assert.ok(![null, 'false'].includes(await agreed('Sol')), 'Sol agreed in the lobby: data-agreed');
    assert.ok([null, 'false'].includes(await agreed('Kim')), 'Kim has not agreed: no data-agreed');

    // Locked before it opens: opening lets nobody in; the leader admits them.
    const lock = await control(leader.page, '#lock');
    await lock.check();
    await openSession(leader);
    await admit(leader, ids.Sol);
    await inRoom(p.Sol);
    // In the room, what one types goes to the room unless one picks otherwise.
    if (await p.Sol.page.locator('#to').isVisible()) {
        assert.equal(await p.Sol.page.locator('#to').inputValue(), 'room', "Sol's composer is addressed to the room");
    }
    for (const name of ['Kim', 'Ilo']) await inLobby(p[name]);
    await click(leader.page, '#admit-all');
    await gone(leader.page, '#waiting li[data-member]');
    await lock.uncheck();

    // Kim and Ilo are in the room but must agree before the composer shows.
    for (const name of ['Kim', 'Ilo']) {
        await onScreen(p[name].page, 'room', { state: 'open' });
        await visible(p[name].page, '#agreement');
        assert.equal(await p[name].page.locator('#text').isVisible(), false, `${name}'s composer hides until agreed`);
        await agree(p[name]);
        await inRoom(p[name]);
    }

    const everyone = [leader, p.Sol, p.Kim, p.Ilo];
    await say(p.Sol, 'Hei kaikki, kiva olla täällä');
    await say(leader, 'Tervetuloa jokainen');
    await say(p.Ilo, 'Hej allihop 👋');
    for (const text of ['Hei kaikki, kiva olla täällä', 'Tervetuloa jokainen', 'Hej allihop 👋']) await onceForAll(everyone, text);
    for (const u of everyone) {
        assert.equal(await u.page.locator('#members li[data-member]').count(), 4, `${u.label} lists four members`);
    }
    assert.ok(await messageItem(p.Sol, 'Hei kaikki, kiva olla täällä').getAttribute('data-own') !== null, 'own message is marked');
});

e2eTest('hand, private message to the leaders, "I\'m not OK" with crisis resources', { browser }, async (t, ctx) => {
    const fx = await groupFixture();
    const { leader, p } = await bringIn(ctx, fx, ['Sol', 'Kim', 'Ilo']);
    const kim = await memberId(leader, 'Kim');
    const ilo = await memberId(leader, 'Ilo');

    // The leader's keyboard focus sits on Ilo's actions button; the member list
    // redraws for Kim's hand and the focus stays on that button.
    const iloActions = `#members li[data-member="${ilo}"] [data-action="menu"]`;
    await leader.page.locator(iloActions).focus();
    // Kim raises a hand: the button is pressed, everyone sees the queue, the leader the member.
    await click(p.Kim.page, '#hand');
    await visible(p.Kim.page, '#hand[aria-pressed="true"]');
    for (const u of [leader, p.Sol, p.Kim]) await visible(u.page, `#hands li[data-member="${kim}"]`);
    await visible(leader.page, `#members li[data-member="${kim}"][data-hand]`);
    assert.ok(await leader.page.locator(iloActions).evaluate((b) => b === document.activeElement),
        'keyboard focus survives the member list redrawing');
    await click(p.Kim.page, '#hand');
    await visible(p.Kim.page, '#hand[aria-pressed="false"]');
    await gone(leader.page, `#hands li[data-member="${kim}"]`);

    // Ilo writes to the leaders only.
    await say(p.Ilo, 'Minulla on tänään vaikeaa', { to: 'leaders' });
    const priv = await seeMessage(leader, 'Minulla on tänään vaikeaa');
    assert.equal(await priv.getAttribute('data-scope'), 'private');
    await seeMessage(p.Ilo, 'Minulla on tänään vaikeaa');
    // A room message after it is the fence: once Sol and Kim see it, they would have the private one.
    await say(leader, 'Jatketaan');
    for (const u of [p.Sol, p.Kim]) {
        await seeMessage(u, 'Jatketaan');
        assert.ok(!(await messageTexts(u)).includes('Minulla on tänään vaikeaa'), `${u.label} must not see a private message`);
    }

    // "I'm not OK": the crisis resources open for Ilo, and only the leaders are told.
    await click(p.Ilo.page, '#not-ok');
    await visible(p.Ilo.page, '#crisis');
    await visible(p.Ilo.page, '#crisis-told');
    const entry = p.Ilo.page.locator('#crisis-list li').first();
    await entry.waitFor({ state: 'visible' });
    const lang = p.Ilo.lang;
    assert.equal(await entry.locator('.name').textContent(), CRISIS[lang][0].name);
    assert.equal(await entry.locator('a[href^="tel:"]').count(), 1);
    assert.equal(await entry.locator(`a[href="${CRISIS[lang][0].url}"]`).count(), 1);
    await visible(leader.page, `#alerts li[data-kind="not_ok"][data-member="${ilo}"]`);
    for (const u of [p.Sol, p.Kim]) assert.equal(await u.page.locator('#alerts').count(), 0, `${u.label} has no alerts`);
    await click(p.Ilo.page, '#crisis-close');
    await gone(p.Ilo.page, '#crisis');
});

e2eTest('a leader deletes a message for everyone, mutes, times out and removes a participant from the member list', { browser }, async (t, ctx) => {
    const fx = await groupFixture();
    const { leader, p, all } = await bringIn(ctx, fx, ['Sol', 'Kim', 'Ilo']);
    const kim = await memberId(leader, 'Kim');

    await say(p.Kim, 'Tämä viesti poistetaan');
    await onceForAll(all, 'Tämä viesti poistetaan');
    const seq = await seqOf(leader, 'Tämä viesti poistetaan');
    const li = `#log li.msg[data-seq="${seq}"]`;
    await click(leader.page, `${li} button[data-action="menu"]`);
    await click(leader.page, `${li} button[data-action="delete"]`);
    for (const u of all) {
        await visible(u.page, `${li}.deleted[data-deleted]`);
        assert.ok(!(await messageTexts(u)).includes('Tämä viesti poistetaan'), `${u.label} still shows the deleted text`);
    }

    // Mute and unmute are one button in Kim's row; the keyboard focus stays on it.
    const row = `#members li[data-member="${kim}"]`;
    await memberAction(leader, kim, 'mute');
    await visible(leader.page, `${row}[data-muted] button[data-action="unmute"]`);
    await visible(p.Kim.page, '#room-flags li[data-flag="muted"]');
    await refused(t, p.Kim, 'Saanko puhua?', 'muted', leader, [leader, p.Sol]);

    await leader.page.locator(`${row} button[data-action="unmute"]`).focus();
    await leader.page.keyboard.press('Enter');
    await gone(p.Kim.page, '#room-flags li[data-flag="muted"]');
    await visible(leader.page, `${row}:not([data-muted]) button[data-action="mute"]`);
    assert.ok(await leader.page.locator(`${row} button[data-action="mute"]`).evaluate((b) => b === document.activeElement),
        'the focus stays in the mute button\'s place');
    await say(p.Kim, 'Kiitos');
    await onceForAll(all, 'Kiitos');

    // A timeout asks how long in the row: Kim is muted until it ends.
    await memberAction(leader, kim, 'timeout', { minutes: 5 });
    await visible(p.Kim.page, '#room-flags li[data-flag="muted"]');
    await memberAction(leader, kim, 'unmute');
    await gone(p.Kim.page, '#room-flags li[data-flag="muted"]');

    // A removal asks in the row: cancelled, Kim stays; confirmed, Kim is out.
    await memberAction(leader, kim, 'remove', { confirm: false });
    await gone(leader.page, `${row} .inline-confirm`);
    await memberAction(leader, kim, 'remove');
    await visible(p.Kim.page, '#ended-view[data-reason="removed"]');
    await gone(leader.page, row);
});

e2eTest('a check-in round: speaker, done, pass, the round ends by itself', { browser }, async (t, ctx) => {
    const fx = await groupFixture();
    const { leader, p, all } = await bringIn(ctx, fx, ['Sol', 'Kim', 'Ilo']);
    const ids = {};
    for (const name of ['Sol', 'Kim', 'Ilo']) ids[name] = await memberId(leader, name);
    const order = Object.entries(ids).sort((a, b) => a[1] - b[1]).map(([name]) => name); // default: by member id

    await (await control(leader.page, '#round-kind')).selectOption('check_in');
    await click(leader.page, '#round-start');
    for (const u of all) {
        await visible(u.page, '#round[data-kind="check_in"]');
        // The speaker is told it is their turn; everyone else sees who speaks.
        if (u === p[order[0]]) await visible(u.page, '#round-done');
        else await visible(u.page, `#round-speaker:has-text("${order[0]}")`);
    }
    // Only the speaker gets done/pass; an exclusive round keeps the others quiet.
    for (const name of order.slice(1)) assert.equal(await p[name].page.locator('#round-done').isVisible(), false, `${name} is not speaking`);
    await refused(t, p[order[1]], 'Saanko sanoa jotain?', 'not_your_turn', leader, [leader, p[order[0]]]);
    await say(p[order[0]], 'Kuulumisia minulta');
    await onceForAll(all, 'Kuulumisia minulta');
    await click(p[order[0]].page, '#round-done');
    await visible(leader.page, `#round-speaker:has-text("${order[1]}")`);
    await visible(p[order[1]].page, '#round-pass');
    await click(p[order[1]].page, '#round-pass');
    await visible(p[order[2]].page, '#round-done');
    await click(p[order[2]].page, '#round-done');
    for (const u of all) await gone(u.page, '#round');
});

e2eTest('the leader ends the session: everyone sees the end screen', { browser }, async (t, ctx) => {
    const fx = await groupFixture();
    const { leader, p } = await bringIn(ctx, fx, ['Sol', 'Kim', 'Ilo']);
    await say(p.Sol, 'Kiitos tästä kerrasta');
    await seeMessage(leader, 'Kiitos tästä kerrasta');
    await endSession(leader);
    for (const u of Object.values(p)) {
        await visible(u.page, '#ended-view[data-reason="ended"]');
        assert.equal(await u.page.locator('#log li.msg').count(), 0, `${u.label}: the messages are gone from the page`);
    }
    await visible(leader.page, '#ended-view');
    await visible(leader.page, '#back');
    // Back to the list: the ended session can no longer be entered.
    await click(leader.page, '#back');
    await onScreen(leader.page, 'sessions');
    // (The list reloads after it shows: wait for the fresh one.)
    await gone(leader.page, `#sessions li[data-session="${fx.session}"] button[data-action="enter"]`);
});

e2eTest('network cut while typing two messages: after reconnect both arrive exactly once for everyone', { browser }, async (t, ctx) => {
    const fx = await groupFixture();
    // Sol's traffic goes through a cable we can pull (lib/netcut.mjs): offline
    // emulation alone leaves the open WebSocket open.
    const cable = await cableProxy();
    try {
        const { leader, p, all } = await bringIn(ctx, fx, ['Sol', 'Kim', 'Ilo'], { userOpts: { Sol: { proxy: cable.server } } });
        const sol = p.Sol;
        // The failed reconnects while offline are expected console noise.
        sol.allowConsole.push(/WebSocket connection to .* failed/);
        await say(sol, 'Ennen katkoa');
        await onceForAll(all, 'Ennen katkoa');
        const sockets = sol.sockets.length;

        const status = () => sol.page.locator('#status').textContent();
        const connected = await status();
        await sol.context.setOffline(true);
        cable.cut();
        // The banner tells Sol the connection is gone (it said something else before).
        await visible(sol.page, '#banner');
        await sol.page.waitForFunction((was) => {
            const now = document.getElementById('status')?.textContent.trim();
            return now && now !== was.trim();
        }, connected);
        t.diagnostic(`status while cut: ${JSON.stringify(await status())} (was ${JSON.stringify(connected)})`);
        await say(sol, 'Ensimmäinen katkon aikana');
        await say(sol, 'Toinen katkon aikana');
        await visible(sol.page, '#outbox li.pending >> nth=1');
        assert.equal(await sol.page.locator('#outbox li.pending').count(), 2, 'both wait in the outbox');
        await say(leader, 'Sol, oletko siellä?');
        await seeMessage(p.Kim, 'Sol, oletko siellä?');
        for (const u of [leader, p.Kim, p.Ilo]) {
            assert.ok(!(await messageTexts(u)).includes('Ensimmäinen katkon aikana'), `${u.label} got a message sent offline`);
        }

        cable.restore();
        await sol.context.setOffline(false);
        for (const text of ['Ensimmäinen katkon aikana', 'Toinen katkon aikana', 'Sol, oletko siellä?']) {
            await onceForAll(all, text);
        }
        await gone(sol.page, '#outbox li.pending');
        assert.ok(sol.sockets.length > sockets, 'Sol reconnected on a new WebSocket');
        for (const u of all) {
            const texts = (await messageTexts(u)).filter((x) => x?.includes('katkon aikana'));
            assert.deepEqual(texts, ['Ensimmäinen katkon aikana', 'Toinen katkon aikana'], `${u.label}: in order, once each`);
        }
        // Nobody saw Sol leave and come back: the membership was resumed.
        for (const u of [leader, p.Kim]) {
            assert.equal(await u.page.locator('#members li[data-member]').count(), 4, `${u.label} lists four members`);
        }
    } finally {
        await cable.close();
    }
});
