// The composer: whom to write to (the room, the leaders, or, for leaders, one
// participant), the text with its length counter, and sending into the outbox.

import { $ } from './dom.js';
import { t, tr } from './i18n.js';
import { room, isLeader } from './state.js';
import { addPending } from './log.js';

// say.text allows line feed and tab, no other control character.
const TEXT_DROP = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

let conn = null;
let chosen = null; // the recipient the user picked, kept while it can be written to

const codePoints = (s) => [...s].length;

function option(value, text) {
    const o = document.createElement('option');
    o.value = value;
    o.textContent = text;
    return o;
}

/** Who can be written to now, given the role, the room's state and the group's policy. */
export function renderTo() {
    const select = $('to');
    const opts = [];
    const lobby = room.state === 'lobby' && !isLeader();
    if (!lobby) opts.push(option('room', t('to.room')));
    if (isLeader()) {
        opts.push(option('leaders', t('to.backchannel')));
        const people = [...room.members.values(), ...room.waiting].filter((m) => (m.role ?? 'participant') === 'participant');
        for (const m of people) opts.push(option(m.member, t('to.member', { name: m.name })));
    } else if (room.privateMessages !== 'off') {
        opts.push(option('leaders', t('to.leaders')));
    }
    select.replaceChildren(...opts);
    select.value = opts.some((o) => o.value === chosen) ? chosen : opts[0]?.value ?? '';
    $('composer').hidden = opts.length === 0 || (!room.agreed && !lobby);
}

/** Writes to `to` next ("leaders" or a member id). */
export function writeTo(to) {
    chosen = String(to);
    $('to').value = chosen;
    $('text').focus();
}

function target() {
    const v = $('to').value;
    if (v === 'room') return undefined;
    return v === 'leaders' ? v : Number(v);
}

function updateCounter() {
    const left = conn.limits.max_text_chars - codePoints($('text').value);
    const counter = $('counter');
    if (left < 200) tr(counter, 'composer.left', { n: left });
    else counter.replaceChildren();
    counter.classList.toggle('over', left < 0);
}

/** Gives a message that was not sent back to the composer. */
export function putBack(text, to) {
    const box = $('text');
    box.value = box.value ? `${text}\n${box.value}` : text;
    if ([...$('to').options].some((o) => o.value === String(to ?? 'room'))) writeTo(to ?? 'room');
    updateCounter();
    box.focus();
}

function send() {
    const box = $('text');
    let text = box.value.replace(TEXT_DROP, '');
    if (text.toWellFormed) text = text.toWellFormed();
    if (!text.trim()) return;
    const to = target();
    const { max_text_chars: maxChars, max_message_bytes: maxBytes } = conn.limits;
    const frame = JSON.stringify({ type: 'say', id: crypto.randomUUID(), text, to });
    if (codePoints(text) > maxChars || new TextEncoder().encode(frame).length > maxBytes) {
        tr($('counter'), 'err.text_too_long');
        return;
    }
    addPending(conn.say(text, to), text, to);
    box.value = '';
    updateCounter();
}

export function initComposer(c) {
    conn = c;
    $('composer').addEventListener('submit', (ev) => {
        ev.preventDefault();
        send();
        $('text').focus();
    });
    $('text').addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) {
            ev.preventDefault();
            send();
        }
    });
    $('text').addEventListener('input', updateCounter);
    $('to').addEventListener('change', () => { chosen = $('to').value; });
    document.addEventListener('langchange', () => {
        renderTo();
        updateCounter();
    });
}
