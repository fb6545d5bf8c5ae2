// The message log (append-only by seq, role=log) and the outbox of our messages that
// are not acknowledged yet. History (the welcome's replay) is added while the log is
// not live, so a screen reader announces each new message once and never the backlog.

import { $, el, button, setStatus, errorKey } from './dom.js';
import { t, tr, timeEl, when } from './i18n.js';
import { room, isLeader, nameOf } from './state.js';

const QUIET_MS = 1500; // after a welcome, how long replayed events may keep arriving
const GROUP_MS = 5 * 60 * 1000; // messages of one person this close together read as one turn

let conn = null;
let quietTimer = 0;
let stuck = true; // the log shows its newest line; it keeps doing so when it changes size
const pending = new Map(); // message id -> {li, text, to}, until acknowledged
const awaitingEvent = new Map(); // seq -> outbox li, acknowledged, until its event shows

const log = () => $('log');
const shown = (seq) => log().querySelector(`[data-seq="${seq}"]`);

function setLive(on) {
    clearTimeout(quietTimer);
    $('log-region').setAttribute('aria-live', on ? 'polite' : 'off');
}

/** After a welcome: what follows is history until a live event or a short while. */
export function quiet() {
    setLive(false);
    quietTimer = setTimeout(() => setLive(true), QUIET_MS);
}

// A message that follows one of the same person, scope and turn shows no name again;
// the name stays for screen readers (the meta is only visually hidden).
function continues(li, prev) {
    return prev?.classList.contains('msg') && !prev.classList.contains('deleted') &&
        prev.dataset.member === li.dataset.member && prev.dataset.scope === li.dataset.scope &&
        Number(li.dataset.ts) - Number(prev.dataset.ts) < GROUP_MS;
}

function append(li, live) {
    if (live) setLive(true);
    const box = log();
    if (li.classList.contains('msg') && continues(li, box.lastElementChild)) li.classList.add('cont');
    box.append(li);
    if (stuck) box.scrollTop = box.scrollHeight;
}

// The words that say who a non-room message is between.
function scopeLabel(scope, withId) {
    if (scope === 'leaders') return ['msg.scope_leaders'];
    if (scope === 'direct') return ['msg.scope_direct'];
    if (isLeader()) return ['msg.scope_private_with', { name: nameOf(withId) ?? '?' }];
    return ['msg.scope_private'];
}

function meta(name, scope, withId, ts, member) {
    const p = el('p', 'meta');
    if (name) p.append(el('bdi', 'who', name));
    // Own messages sit at the end side and are tinted; this says it in words too.
    if (member !== undefined && member === room.me) p.append(' ', tr(el('span', 'mark'), 'members.you'));
    const role = room.members.get(member)?.role;
    if (role && role !== 'participant') p.append(' ', tr(el('span', 'mark'), `role.${role}`));
    if (scope) p.append(' ', tr(el('span', 'scope'), ...scopeLabel(scope, withId)));
    if (ts) p.append(' ', timeEl(ts, undefined, 'time'));
    return p;
}

function tombstone(li) {
    li.classList.add('deleted');
    li.dataset.deleted = '';
    li.querySelector('.msg-menu')?.remove();
    li.querySelector('.msg-actions')?.remove();
    tr(li.querySelector('.text'), 'msg.deleted');
}

/** A message event (or its tombstone); `live`: new now, not history. */
export function addMessage(msg, live) {
    if (shown(msg.seq)) return;
    const own = msg.member === room.me;
    const li = el('li', own ? 'msg own' : 'msg');
    li.dataset.seq = msg.seq;
    li.dataset.member = msg.member;
    if (own) li.dataset.own = '';
    if (msg.scope) li.dataset.scope = msg.scope;
    li.dataset.ts = msg.ts ?? Date.now();
    // The button shows a glyph (CSS); its name comes from the catalog.
    const menu = el('button', 'quiet msg-menu');
    menu.type = 'button';
    menu.dataset.action = 'menu';
    menu.dataset.i18nLabel = 'msg.menu_label';
    menu.setAttribute('aria-label', t('msg.menu_label'));
    menu.setAttribute('aria-expanded', 'false');
    li.append(meta(msg.name, msg.scope, msg.with, msg.ts, msg.member), el('p', 'text', msg.text ?? ''), menu);
    if (msg.deleted) tombstone(li);
    append(li, live);
    awaitingEvent.get(msg.seq)?.remove();
    awaitingEvent.delete(msg.seq);
}

/** A line about the room (joined, left, opened); `values` may hold names. */
export function addSystem(seq, key, values, live) {
    if (shown(seq)) return;
    const li = tr(el('li', 'sys'), key, values);
    li.dataset.seq = seq;
    append(li, live);
}

export function markDeleted(seq) {
    const li = shown(seq);
    if (li?.classList.contains('msg')) tombstone(li);
}

/**
 * "Messages may be missing here", once in a row; after a server restart
 * "The server restarted. Earlier messages are gone." instead, which wins.
 */
export function addGap(restarted = false) {
    const key = restarted ? 'msg.restarted' : 'msg.gap';
    const last = log().lastElementChild;
    if (last?.classList.contains('gap') && (last.dataset.i18n === key || !restarted)) return;
    append(tr(el('li', 'gap'), key), false);
}

/** A restarted server counts seqs afresh: the old ones no longer name events. */
export function forgetSeqs() {
    for (const li of log().querySelectorAll('[data-seq]')) delete li.dataset.seq;
}

export function clearLog() {
    pending.clear();
    awaitingEvent.clear();
    log().replaceChildren();
    $('outbox').replaceChildren();
}

// Report and delete, shown under a message on demand so the log stays quiet to hear.
function toggleMenu(li, menu) {
    const open = menu.getAttribute('aria-expanded') !== 'true';
    menu.setAttribute('aria-expanded', String(open));
    li.querySelector('.msg-actions')?.remove();
    if (!open) return;
    const box = el('div', 'msg-actions');
    const seq = Number(li.dataset.seq);
    if (!('own' in li.dataset)) box.append(button('msg.report', 'report', 'quiet'));
    if ('own' in li.dataset || isLeader()) box.append(button('msg.delete', 'delete', 'quiet'));
    box.addEventListener('click', async (ev) => {
        const action = ev.target.closest('button')?.dataset.action;
        if (!action) return;
        const { error } = await conn.request(action, { seq });
        if (error) setStatus(errorKey(error.code), { code: error.code }, { fade: true });
        else if (action === 'report') {
            li.dataset.reported = '';
            setStatus('msg.reported', null, { fade: true });
        }
        toggleMenu(li, menu);
    });
    li.append(box);
    box.querySelector('button').focus();
}

/* ---- the outbox ---- */

function status(li, key, values) {
    tr(li.querySelector('.status'), key, values);
}

// The scope and partner a message of ours gets, as the server would describe it.
function scopeOf(to) {
    if (to === undefined) return {};
    if (to === 'leaders') return isLeader() ? { scope: 'leaders' } : { scope: 'private', with: room.me };
    return { scope: 'private', with: to };
}

/** Shows a message we are sending. */
export function addPending(id, text, to) {
    const li = el('li', 'msg own pending');
    li.dataset.id = id;
    const { scope, with: withId } = scopeOf(to);
    li.append(meta(null, scope, withId), el('p', 'text', text), el('p', 'status'));
    status(li, 'msg.sending');
    $('outbox').append(li);
    pending.set(id, { li, text, to });
}

/** Our message `id` was posted as `seq`. */
export function acked(id, seq) {
    const p = pending.get(id);
    if (!p) return;
    pending.delete(id);
    if (seq > conn.lastSeq) {
        awaitingEvent.set(seq, p.li); // its message event follows at once
        return;
    }
    // Posted on an earlier connection; show it if its event never reached us.
    addMessage({ seq, member: room.me, name: conn.session?.name ?? '', text: p.text, ...scopeOf(p.to) }, false);
    p.li.remove();
}

/** Our message `id` was refused: say why, offer to try again or edit. */
export function failed(id, error, putBack) {
    const p = pending.get(id);
    if (!p) return;
    pending.delete(id);
    const { li, text, to } = p;
    li.classList.replace('pending', 'failed');
    li.dataset.code = error.code;
    const values = { code: error.code, s: Math.ceil((error.retry_after_ms ?? 0) / 1000) };
    let key = errorKey(error.code);
    if (error.code === 'muted' && error.until) {
        key = 'err.muted_until';
        values.time = when(error.until, undefined, 'time');
    }
    status(li, key, values);
    const retry = button('msg.retry', 'retry');
    const edit = button('msg.edit', 'edit', 'quiet');
    retry.addEventListener('click', () => {
        li.remove();
        addPending(conn.say(text, to), text, to);
    });
    edit.addEventListener('click', () => {
        li.remove();
        putBack(text, to);
    });
    li.append(el('div', 'actions'));
    li.lastChild.append(retry, edit);
}

export const unsent = () => pending.size;

export function initLog(c) {
    conn = c;
    // A phone's keyboard opening, or a rotated screen, must not scroll the newest line away.
    // Only the reader moves away from the bottom (wheel, touch, keys); a scroll the
    // layout causes (the outbox growing, a keyboard opening) does not unstick it.
    const moved = () => {
        const box = log();
        requestAnimationFrame(() => { stuck = box.scrollHeight - box.scrollTop - box.clientHeight < 48; });
    };
    for (const ev of ['wheel', 'touchmove', 'keydown', 'pointerup']) log().addEventListener(ev, moved, { passive: true });
    new ResizeObserver(() => {
        if (stuck) log().scrollTop = log().scrollHeight;
    }).observe(log());
    log().addEventListener('click', (ev) => {
        const menu = ev.target.closest('button[data-action="menu"]');
        if (menu) toggleMenu(menu.closest('li'), menu);
    });
}
