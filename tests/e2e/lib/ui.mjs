// What a person does in the web client, in the words of web/README.md's "Test
// hooks": every selector the suite uses is here, so a change of hook is a change
// of this file. Each action waits for what the person would wait for and fails
// (within ACTION_TIMEOUT_MS) naming the hook it did not find.

import { LEADER_PASSWORD } from '../../integration/lib/harness.mjs';
import { ACTION_TIMEOUT_MS } from './browser.mjs';

export const SCREENS = ['home', 'join', 'login', 'sessions', 'room', 'ended'];

/** The page's URL for path on user's server, with ?lang= when lang is given. */
export function url(user, p, lang = user.lang) {
    return `${user.server.origin}${p}${lang ? `?lang=${lang}` : ''}`;
}

/** Waits until the element matching sel is visible; resolves its locator. */
export async function visible(page, sel, { timeout = ACTION_TIMEOUT_MS } = {}) {
    const loc = page.locator(sel).first();
    try {
        await loc.waitFor({ state: 'visible', timeout });
    } catch (e) {
        throw new Error(`${sel} did not become visible within ${timeout} ms on ${page.url()}`, { cause: e });
    }
    return loc;
}

/** Waits until the element matching sel is absent or hidden. */
export async function gone(page, sel, { timeout = ACTION_TIMEOUT_MS } = {}) {
    try {
        await page.locator(sel).first().waitFor({ state: 'hidden', timeout });
    } catch (e) {
        throw new Error(`${sel} was still visible after ${timeout} ms on ${page.url()}`, { cause: e });
    }
}

/** Waits until the screen `name` (an id prefix: join, room, ...) is the one shown. */
export async function onScreen(page, name, { state, timeout } = {}) {
    const sel = `#${name}-view${state ? `[data-state="${state}"]` : ''}`;
    return visible(page, sel, { timeout });
}

/**
 * Opens every closed <details> around the element matching sel, outermost first,
 * by clicking its summary, as a person would to reach a tucked-away control.
 */
export async function reveal(page, sel) {
    for (let i = 0; i < 4; i++) {
        const summary = page.locator(`details:not([open]):has(${sel}) > summary`).first();
        if (!(await summary.count()) || !(await summary.isVisible())) return;
        await summary.click();
    }
}

/** Waits for the control matching sel, revealing it first (see reveal). */
export async function control(page, sel) {
    await reveal(page, sel);
    return visible(page, sel);
}

/** Clicks the element matching sel once it is visible and enabled (revealing it first). */
export async function click(page, sel) {
    const loc = await control(page, sel);
    await loc.click();
}

// ---------------------------------------------------------------------------
// Participants

/** Opens the invite link /j/<code> (with ?lang= of the user). */
export async function openInvite(user, code, { lang } = {}) {
    await user.page.goto(url(user, `/j/${code}`, lang ?? user.lang));
    await visible(user.page, '#name');
}

/** Types a pseudonym and presses the join button (the invite page is open). */
export async function join(user, name) {
    await (await visible(user.page, '#name')).fill(name);
    await click(user.page, '#join-button');
}

/** Waits for the lobby (a participant before the session is open). */
export async function inLobby(user) {
    await onScreen(user.page, 'room', { state: 'lobby' });
    await visible(user.page, '#lobby-info');
}

/**
 * Accepts the group agreement; waits for the accepted note (lobby) or for the
 * agreement gate to go away (room).
 */
export async function agree(user) {
    await click(user.page, '#agree');
    try {
        await user.page.waitForFunction(() => {
            const shown = (id) => document.getElementById(id)?.checkVisibility() ?? false;
            return shown('agreed') || !shown('agreement');
        });
    } catch (e) {
        throw new Error(`${user.label}: after #agree neither #agreed showed nor #agreement went away`, { cause: e });
    }
}

/** Waits until the room is open for this user (the composer shows). */
export async function inRoom(user) {
    await onScreen(user.page, 'room', { state: 'open' });
    await visible(user.page, '#text');
}

// ---------------------------------------------------------------------------
// Leaders

/** Opens /leader and logs in; waits for the session list. */
export async function login(user, username, password = LEADER_PASSWORD) {
    await user.page.goto(url(user, '/leader'));
    await onScreen(user.page, 'login');
    await (await visible(user.page, '#username')).fill(username);
    await (await visible(user.page, '#password')).fill(password);
    await click(user.page, '#login-button');
    await onScreen(user.page, 'sessions');
    await visible(user.page, '#sessions li[data-session]');
}

/** Enters session id from the session list; waits for the room with the panel. */
export async function enterSession(user, session) {
    await click(user.page, `#sessions li[data-session="${session}"] button[data-action="enter"]`);
    await onScreen(user.page, 'room');
    await visible(user.page, '#panel');
}

/** Opens the session (the leader is in the room, before open). */
export async function openSession(user) {
    await click(user.page, '#open');
    await visible(user.page, '#room-view[data-state="open"]');
}

/** Ends the session through the confirm dialog. */
export async function endSession(user) {
    await click(user.page, '#end');
    await visible(user.page, '#confirm');
    await click(user.page, '#confirm-yes');
}

/** The waiting person named name in the leader's lobby list; resolves their member id. */
export async function waitingMember(user, name) {
    const li = user.page.locator('#waiting li[data-member]', { hasText: name }).first();
    await li.waitFor({ state: 'visible' });
    return Number(await li.getAttribute('data-member'));
}

/** Admits the waiting member. */
export async function admit(user, member) {
    await click(user.page, `#waiting li[data-member="${member}"] button[data-action="admit"]`);
}

/** The member id of the member named name in #members. */
export async function memberId(user, name) {
    const li = user.page.locator('#members li[data-member]', { hasText: name }).first();
    await li.waitFor({ state: 'visible' });
    return Number(await li.getAttribute('data-member'));
}

/**
 * Does action (mute, unmute, timeout, remove in the member's row; the others
 * behind its "more" button) to a member in #members. A timeout asks how long
 * (minutes, default 15) and a removal or a ban whether really, in the row:
 * answered yes unless confirm is false (then cancelled).
 */
export async function memberAction(user, member, action, { minutes, confirm = true } = {}) {
    const li = `#members li[data-member="${member}"]`;
    // The rarer actions are behind a disclosure: open it unless it is open already.
    if (!(await user.page.locator(`${li} button[data-action="${action}"]`).isVisible())) {
        await click(user.page, `${li} button[data-action="menu"]`);
    }
    await click(user.page, `${li} button[data-action="${action}"]`);
    if (!['timeout', 'remove', 'ban'].includes(action)) return;
    if (minutes !== undefined) {
        await (await control(user.page, `${li} .inline-confirm select.mute-minutes`)).selectOption(String(minutes));
    }
    await click(user.page, `${li} .inline-confirm button[data-action="${confirm ? 'confirm' : 'cancel'}"]`);
}

// ---------------------------------------------------------------------------
// Messages

/**
 * Types text into the composer and presses Enter. to: room (default), leaders or a
 * member id, chosen in #to when the composer offers a choice.
 */
export async function say(user, text, { to = 'room' } = {}) {
    const select = user.page.locator('#to');
    if (await select.isVisible()) {
        if ((await select.inputValue()) !== String(to)) await select.selectOption(String(to));
    } else if (to !== 'room') {
        await (await visible(user.page, '#to')).selectOption(String(to)); // fails naming #to
    }
    const box = await visible(user.page, '#text');
    await box.fill(text);
    await box.press('Enter');
}

/** The locator of the log's messages (li.msg) whose text is exactly text. */
export function messageItem(user, text) {
    return user.page.locator('#log li.msg').filter({ has: user.page.locator('.text', { hasText: exact(text) }) });
}

/** Waits until a message with exactly this text is in the log; resolves its li. */
export async function seeMessage(user, text, { timeout = ACTION_TIMEOUT_MS } = {}) {
    const li = messageItem(user, text).first();
    try {
        await li.waitFor({ state: 'visible', timeout });
    } catch (e) {
        const have = await messageTexts(user).catch(() => []);
        throw new Error(`${user.label} did not see the message ${JSON.stringify(text)} within ${timeout} ms; log has ${JSON.stringify(have.slice(-10))}`, { cause: e });
    }
    return li;
}

/** Every message text in the log, in order (tombstones as null). */
export async function messageTexts(user) {
    return user.page.$$eval('#log li.msg', (lis) => lis.map((li) => (li.querySelector('.text')?.textContent ?? null)));
}

/** The seq of the (first) message with exactly this text. */
export async function seqOf(user, text) {
    return Number(await (await seeMessage(user, text)).getAttribute('data-seq'));
}

/** Switches the language with the header's switcher (#lang). */
export async function switchLanguage(user, lang) {
    await (await visible(user.page, '#lang')).selectOption(lang);
    await user.page.waitForFunction((l) => document.documentElement.lang === l, lang);
    user.lang = lang;
}

function exact(text) {
    return new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
}
