// The leader's moderation panel (protocol section 4a), loaded only for leaders and
// co-leaders: open and end, the lobby, alerts, room switches, topic, rounds, bans,
// and the per-member actions in the member list (the frequent ones in each member's
// row, the rarer behind "more"). Its markup is panel.html: the tools
// go into the room's bar, the alerts beside the conversation where nothing scrolls
// them away, the lobby queue above the members.
//
// Alerts that come in live are unread until the leader turns to them (a click or
// focus in the alerts, or the alerts tab): counted in the badges and the tab's title,
// and, if the leader turned it on, a soft beep made here (no audio file; the audio
// starts only from that click, so nothing plays before a user gesture).

import { $, el, button, setError, errorKey, openDialog, replaceKeepingFocus } from './dom.js';
import { t, tr, translate, locale, timeEl } from './i18n.js';
import { room } from './state.js';
import { render as redrawRoom } from './room.js';
import { writeTo } from './composer.js';

const SLOW_SECONDS = [0, 10, 30, 60, 120, 300];
const MUTE_MINUTES = [5, 15, 30, 60, 1440];
const ALERT_KEYS = { not_ok: 'alert.not_ok', report: 'alert.report', risk_word: 'alert.risk_word',
    disconnected: 'alert.disconnected', returned: 'alert.returned', safe: 'alert.safe' };

let conn = null;
let openMember = null; // the member whose rarer actions are shown
let pending = null; // {member, action, minutes}: the question asked in a member's row
let unread = 0;
let audio = null; // an AudioContext, made when the leader turns the sound on

const isFullLeader = () => room.role === 'leader';

/** Runs a request; a refusal shows in the panel. */
async function act(type, fields) {
    const answer = await conn.request(type, fields);
    const code = answer.error?.code;
    setError($('panel-error'), code && errorKey(code), { code });
    return answer;
}

function confirmed(key, values) {
    const dialog = $('confirm');
    tr($('confirm-text'), key, values);
    dialog.returnValue = '';
    openDialog(dialog);
    return new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue === 'yes'), { once: true }));
}

function unit(n, name) {
    return new Intl.NumberFormat(locale(), { style: 'unit', unit: name, unitDisplay: 'long' }).format(n);
}

function fillSelects() {
    const slow = $('slow');
    const seconds = SLOW_SECONDS.includes(room.flags.slow_mode) ? SLOW_SECONDS : [...SLOW_SECONDS, room.flags.slow_mode];
    slow.replaceChildren(...seconds.map((s) => {
        const o = el('option');
        o.value = s;
        o.textContent = s ? unit(s, 'second') : t('settings.slow_off');
        return o;
    }));
    slow.value = room.flags.slow_mode;
}

// Line icons for the member row's buttons (24-unit grid, drawn with the text's
// colour): a speech bubble, struck through for "mute"; a clock; leaving by a door;
// three dots.
const ICONS = {
    mute: 'M4 5h16v11H10l-5 4v-4H4zM3 3l18 18',
    unmute: 'M4 5h16v11H10l-5 4v-4H4z',
    timeout: 'M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18M12 7v5l3 2',
    remove: 'M14 4h5v16h-5M10 8l-4 4 4 4M6 12h9',
    menu: 'M5 12h.01M12 12h.01M19 12h.01',
};

/** An icon button: no visible words, its name from the catalog for assistive
 * technology and as a tooltip. */
function iconButton(action, key, values, cls = 'quiet') {
    const b = el('button', `icon ${cls}`);
    b.type = 'button';
    b.dataset.action = action;
    b.setAttribute('aria-label', t(key, values));
    b.title = t(key, values);
    const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    const path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
    path.setAttribute('d', ICONS[action]);
    svg.append(path);
    b.append(svg);
    return b;
}

// The rarer actions on one member, behind the row's "more" button.
function memberActions(m) {
    const box = el('div', 'member-actions');
    const participant = m.role === 'participant';
    if (participant) {
        if (room.hands.includes(m.member)) box.append(button('member.lower', 'lower'));
        box.append(button('member.message', 'message'), button('member.to_lobby', 'to_lobby', 'quiet'));
    }
    if (isFullLeader()) {
        if (participant) box.append(button('member.ban', 'ban', 'quiet'), button('member.promote', 'promote', 'quiet'));
        else box.append(button('member.demote', 'demote', 'quiet'));
    }
    return box;
}

// The question a timeout, a removal or a ban asks in the member's row before it is
// done: how long, or whether really. Escape or "cancel" leaves it.
function pendingBox(m) {
    const box = el('div', 'inline-confirm');
    box.setAttribute('role', 'group');
    const question = el('p');
    question.id = `pending-${m.member}`;
    box.setAttribute('aria-labelledby', question.id);
    box.append(question);
    if (pending.action === 'timeout') {
        tr(question, 'member.timeout_for', { name: m.name });
        const minutes = el('select', 'mute-minutes');
        minutes.dataset.action = 'minutes';
        minutes.setAttribute('aria-labelledby', question.id);
        minutes.append(...MUTE_MINUTES.map((n) => {
            const o = el('option');
            o.value = n;
            o.textContent = n % 60 ? unit(n, 'minute') : unit(n / 60, 'hour');
            return o;
        }));
        minutes.value = pending.minutes;
        minutes.addEventListener('change', () => { pending.minutes = minutes.value; });
        box.append(minutes, button('member.timeout', 'confirm'));
    } else {
        tr(question, `confirm.${pending.action}`, { name: m.name });
        box.append(button(`member.${pending.action}`, 'confirm', 'quiet danger'));
    }
    box.append(button('dialog.cancel', 'cancel', 'quiet'));
    box.addEventListener('keydown', (ev) => {
        if (ev.key === 'Escape') settle(m, false);
    });
    return box;
}

// Ends the question in m's row: done (confirmed) or left; the focus goes back to
// the button that asked.
async function settle(m, confirmed) {
    const { action, minutes } = pending;
    pending = null;
    redrawRoom();
    focusMember(m.member, action === 'ban' ? 'menu' : action);
    if (!confirmed) return;
    if (action === 'timeout') await act('mute', { member: m.member, minutes: Number(minutes) });
    else await act(action, { member: m.member });
}

function focusMember(member, action) {
    $('members').querySelector(`[data-member="${member}"] [data-action="${action}"]`)?.focus();
}

async function memberAction(action, m) {
    const member = m.member;
    if (action === 'menu') {
        openMember = openMember === member ? null : member;
        redrawRoom();
        focusMember(member, 'menu');
    } else if (action === 'timeout' || action === 'remove' || action === 'ban') {
        pending = { member, action, minutes: pending?.minutes ?? '15' };
        if (action === 'ban') openMember = null;
        redrawRoom();
        focusMember(member, action === 'timeout' ? 'minutes' : 'cancel');
    } else if (action === 'confirm' || action === 'cancel') await settle(m, action === 'confirm');
    else if (action === 'message') writeTo(member);
    else if (action === 'mute') await act('mute', { member });
    else if (action === 'lower') await act('hand', { member, up: false });
    else await act(action, { member });
}

/** Adds the leader's actions to a member list item (not to leaders, not to us):
 * mute or unmute, timeout and remove in the row, the rarer ones behind "more". */
export function decorateMember(li, m) {
    if (m.member === room.me || m.role === 'leader') return;
    const values = { name: m.name };
    const row = el('span', 'row-actions');
    if (m.role === 'participant') {
        // The mute button's place: mute, or unmute while muted.
        const mute = m.muted ? iconButton('unmute', 'member.unmute_name', values, 'on')
            : iconButton('mute', 'member.mute_name', values);
        mute.dataset.slot = 'mute';
        row.append(mute, iconButton('timeout', 'member.timeout_name', values),
            iconButton('remove', 'member.remove_name', values));
    }
    const more = memberActions(m);
    if (more.childElementCount) {
        const menu = iconButton('menu', 'member.more_name', values);
        menu.setAttribute('aria-expanded', String(openMember === m.member));
        row.append(menu);
    }
    if (!row.childElementCount) return;
    li.append(row);
    if (pending?.member === m.member) li.append(pendingBox(m));
    if (openMember === m.member) li.append(more);
    li.addEventListener('click', (ev) => {
        const action = ev.target.closest('button')?.dataset.action;
        if (action) memberAction(action, m);
    });
}

/** Adds move-up/down buttons to a member waiting for their turn in the round. */
export function decorateQueue(li, id) {
    const queue = room.round.queue;
    const i = queue.indexOf(id);
    const move = (d) => {
        const order = [...queue];
        [order[i], order[i + d]] = [order[i + d], order[i]];
        act('round_order', { order });
    };
    const up = button('rounds.up', 'up', 'quiet small');
    const down = button('rounds.down', 'down', 'quiet small');
    up.disabled = i === 0;
    down.disabled = i === queue.length - 1;
    up.addEventListener('click', () => move(-1));
    down.addEventListener('click', () => move(1));
    li.append(' ', up, down);
}

function waitingItem(w) {
    const li = el('li');
    li.dataset.member = w.member;
    if (w.knocked) li.dataset.knocked = '';
    if (w.agreed) li.dataset.agreed = '';
    li.append(el('bdi', 'who', w.name), ' ', tr(el('span', 'mark'), w.agreed ? 'lobby.agreed' : 'lobby.not_agreed'));
    if (w.knocked) li.append(' ', tr(el('span', 'mark warn'), 'lobby.knocked'));
    const actions = el('div', 'actions');
    actions.append(button('lobby.admit', 'admit'), button('lobby.deny', 'deny', 'quiet'), button('member.message', 'message', 'quiet'));
    actions.addEventListener('click', (ev) => {
        const action = ev.target.closest('button')?.dataset.action;
        if (action === 'message') writeTo(w.member);
        else if (action) act(action, { member: w.member });
    });
    li.append(actions);
    return li;
}

/** Redraws the panel from the room's state. */
export function render() {
    const f = room.flags;
    for (const n of document.querySelectorAll('#panel .leader-only')) n.hidden = !isFullLeader();
    $('open').hidden = room.state !== 'lobby';
    $('lock').checked = f.locked;
    $('pause').checked = f.paused;
    fillSelects();
    if (document.activeElement !== $('topic-text')) $('topic-text').value = f.topic ?? '';
    replaceKeepingFocus($('waiting'), room.waiting.map(waitingItem));
    $('waiting').previousElementSibling.hidden = room.waiting.length > 0;
    $('admit-all').parentNode.hidden = room.waiting.length === 0;
    $('round-start').disabled = Boolean(room.round);
    $('round-skip').disabled = $('round-end').disabled = !room.round;
    const waiting = room.waiting.length;
    $('lobby-count').hidden = room.state !== 'lobby' && waiting === 0;
    tr($('lobby-count'), 'lobby.count', { n: waiting });
    $('tab-lobby-count').textContent = waiting || '';
    $('alerts').previousElementSibling.hidden = $('alerts').children.length > 0;
    $('alerts-count').textContent = $('tab-alerts-count').textContent = unread || '';
    document.title = unread ? `(${unread}) ${t('app.title')}` : t('app.title');
}

function markRead() {
    if (!unread) return;
    unread = 0;
    render();
}

// A short, quiet sine tone with soft edges.
function beep() {
    if (!audio || !$('alert-sound').checked) return;
    const now = audio.currentTime;
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.frequency.value = 660;
    gain.gain.setValueAtTime(0.0001, now);
    gain.gain.exponentialRampToValueAtTime(0.12, now + 0.03);
    gain.gain.exponentialRampToValueAtTime(0.0001, now + 0.4);
    tone.connect(gain).connect(audio.destination);
    tone.start(now);
    tone.stop(now + 0.45);
}

/** An alert for the leaders: pinned in the alerts, unread until looked at. */
export function alert(msg, live) {
    if ($('alerts').querySelector(`[data-seq="${msg.seq}"]`)) return; // replayed on a resume
    const li = el('li', `alert ${msg.kind}`);
    li.dataset.seq = msg.seq;
    li.dataset.kind = msg.kind;
    li.dataset.member = msg.member;
    if (msg.target) li.dataset.target = msg.target;
    li.append(tr(el('p'), ALERT_KEYS[msg.kind] ?? 'alert.other', { name: msg.name }));
    if (msg.ts) li.firstChild.append(' ', timeEl(msg.ts, undefined, 'time'));
    const actions = el('div', 'actions');
    if (msg.target) {
        const showIt = button('alert.show', 'show', 'quiet small');
        showIt.addEventListener('click', () => {
            const target = $('log').querySelector(`[data-seq="${msg.target}"]`);
            target?.setAttribute('tabindex', '-1');
            target?.scrollIntoView({ block: 'center' });
            target?.focus();
        });
        actions.append(showIt);
    }
    const dismiss = button('alert.dismiss', 'dismiss', 'quiet small');
    dismiss.addEventListener('click', () => {
        const next = li.nextElementSibling ?? li.previousElementSibling;
        li.remove();
        render();
        (next?.querySelector('button') ?? $('alerts-heading')).focus();
    });
    actions.append(dismiss);
    li.append(actions);
    if (!live) li.classList.add('old');
    $('alerts').prepend(li);
    if (live) {
        unread += 1;
        beep();
    }
    render();
}

async function loadBans() {
    const { bans } = await act('bans');
    if (!bans) return;
    $('bans').replaceChildren(...bans.map((b) => {
        const li = el('li');
        li.dataset.ban = b.id;
        const when = el('p', 'hint');
        when.append(timeEl(b.created_at));
        const unban = button('bans.unban', 'unban', 'quiet small');
        unban.addEventListener('click', async () => {
            if (!(await act('unban', { ban: b.id })).error) loadBans();
        });
        li.append(el('bdi', 'who', b.name), when, unban);
        return li;
    }));
    if (!bans.length) $('bans').append(tr(el('li', 'hint'), 'bans.none'));
}

function wire() {
    $('open').addEventListener('click', () => act('open'));
    $('end').addEventListener('click', async () => {
        if (await confirmed('confirm.end')) act('end');
    });
    $('admit-all').addEventListener('click', () => act('admit', { all: true }));
    $('deny-all').addEventListener('click', () => act('deny', { all: true }));
    $('lock').addEventListener('change', () => act('lock', { on: $('lock').checked }));
    $('pause').addEventListener('change', () => act('pause', { on: $('pause').checked }));
    $('slow').addEventListener('change', () => act('slow', { seconds: Number($('slow').value) }));
    $('topic-set').addEventListener('click', () => act('topic', { text: $('topic-text').value.trim() }));
    $('topic-clear').addEventListener('click', () => act('topic', { text: '' }));
    $('round-start').addEventListener('click', () => act('round_start', { kind: $('round-kind').value,
        exclusive: $('round-exclusive').checked }));
    $('round-skip').addEventListener('click', () => act('round_skip'));
    $('round-end').addEventListener('click', () => act('round_end'));
    $('bans-load').addEventListener('click', loadBans);
    $('alerts-box').addEventListener('pointerdown', markRead);
    $('alerts-box').addEventListener('focusin', markRead);
    $('tabs').querySelector('[data-tab="alerts"]').addEventListener('click', markRead);
    $('alert-sound').addEventListener('change', () => {
        if (!$('alert-sound').checked) return;
        audio ??= new AudioContext();
        audio.resume().then(beep); // this click is the gesture the audio may start from
    });
}

const PARTS = ['panel', 'alerts-box', 'waiting-box', 'confirm'];

/** Builds the panel into the room: tools in the bar, alerts beside the log, the lobby
 * queue above the members, the confirm dialog in the body. */
export async function initPanel(c) {
    conn = c;
    const res = await fetch(new URL('../panel.html', import.meta.url)); // versioned, as i18n.js
    const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
    const [tools, alerts, waiting, dialog] = PARTS.map((id) => document.adoptNode(doc.getElementById(id)));
    const view = $('room-view');
    view.querySelector('.bar .title').after(tools);
    view.querySelector('.chat').append(alerts);
    view.querySelector('.side').prepend(waiting);
    document.body.append(dialog);
    for (const part of [tools, alerts, waiting, dialog]) translate(part);
    wire();
    render();
}

/** Takes the panel away (demoted, or the room is left). */
export function dropPanel() {
    for (const id of PARTS) $(id)?.remove();
    openMember = null;
    pending = null;
    unread = 0;
    document.title = t('app.title');
}
