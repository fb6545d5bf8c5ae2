// The page: join form, message log, outbox, composer and member list. Everything
// about the protocol is in conn.js. User text only ever goes in via textContent.

import { strings } from './strings.js';
import { Conn } from './conn.js';

const MAX_NAME_CHARS = 40; // the protocol default; the server has the last word
const ROOM = /^[A-Za-z0-9_-]{1,64}$/;
// Pseudonym rules (protocol/README.md): controls become spaces, bidi controls go,
// White_Space is trimmed at both ends.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const SPACE = '[\\u0020\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]+';
const EDGE_SPACE = new RegExp(`^${SPACE}|${SPACE}$`, 'g');
// say.text allows line feed and tab, no other control character.
const TEXT_DROP = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

const $ = (id) => document.getElementById(id);
const codePoints = (s) => [...s].length;
const format = (template, values) => template.replace(/\{(\w+)\}/g, (m, k) => (k in values ? String(values[k]) : m));

function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    if (className === 'text') node.dir = 'auto'; // user text in any script
    return node;
}

for (const node of document.querySelectorAll('[data-s]')) node.textContent = strings[node.dataset.s];
for (const node of document.querySelectorAll('[data-s-label]')) node.setAttribute('aria-label', strings[node.dataset.sLabel]);
document.title = strings.title;

const conn = new Conn();
const members = new Map(); // member id -> {member, name, role}
const pending = new Map(); // message id -> {li, text}, until acknowledged
const awaitingEvent = new Map(); // seq -> li, acknowledged, until its event shows
let state = 'idle';
let statusTimer = 0;

const errorText = (code) => strings.errors[code] ?? format(strings.errors.default, { code });

function show(view) {
    $('join-view').hidden = view !== 'join';
    $('chat-view').hidden = view !== 'chat';
}

function setStatus(text, { reconnect = false, fade = false } = {}) {
    clearTimeout(statusTimer);
    $('status').textContent = text;
    $('banner').hidden = !text;
    $('reconnect').hidden = !reconnect;
    if (fade) statusTimer = setTimeout(() => setStatus(''), 4000);
}

const cleanName = (raw) => raw.replace(CONTROL, ' ').replace(BIDI, '').replace(EDGE_SPACE, '');

function setJoinError(message, field) {
    $('join-error').textContent = message ?? '';
    for (const input of [$('room'), $('name')]) input.setAttribute('aria-invalid', String(input === field));
    field?.focus();
}

function setJoining(on) {
    $('join-button').disabled = on;
    $('join-button').textContent = on ? strings.joining : strings.join_button;
}

$('join-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const room = $('room').value.trim();
    const name = cleanName($('name').value);
    $('room').value = room;
    $('name').value = name;
    let error = null;
    if (!name) error = strings.err_name_empty;
    else if (codePoints(name) > MAX_NAME_CHARS) error = format(strings.err_name_long, { n: MAX_NAME_CHARS });
    if (!ROOM.test(room)) error = strings.err_room;
    setJoinError(error, error && $(ROOM.test(room) ? 'name' : 'room'));
    if (error) return;
    setJoining(true);
    conn.join(room, name);
});

function appendLog(li) {
    const log = $('log');
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 48;
    log.append(li);
    if (atBottom) log.scrollTop = log.scrollHeight;
}

function addMessage(msg, own) {
    const li = el('li', own ? 'msg own' : 'msg');
    li.dataset.seq = msg.seq;
    const meta = el('p', 'meta');
    meta.append(el('bdi', 'who', msg.name));
    if (msg.ts) {
        const when = new Date(msg.ts);
        const time = el('time', '', when.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }));
        time.dateTime = when.toISOString();
        meta.append(' ', time);
    }
    li.append(meta, el('p', 'text', msg.text));
    appendLog(li);
}

function addPresence(msg) {
    const li = el('li', 'sys');
    li.dataset.seq = msg.seq;
    const [before, after = ''] = strings[msg.state].split('{name}');
    li.append(before, el('bdi', 'who', msg.name), after);
    appendLog(li);
}

function addGapMarker() {
    if (!$('log').lastElementChild?.classList.contains('gap')) appendLog(el('li', 'gap', strings.gap));
}

function renderMembers() {
    const me = conn.session?.member;
    const items = [...members.values()].map((m) => {
        const li = el('li');
        li.append(el('bdi', null, m.name));
        if (m.member === me) li.append(' ', el('span', 'you', strings.you));
        return li;
    });
    $('members').replaceChildren(...items);
    $('members-heading').textContent = `${strings.members_heading} (${members.size})`;
}

function addPending(id, text) {
    const li = el('li', 'msg own pending');
    li.append(el('p', 'text', text), el('p', 'status', strings.sending));
    $('outbox').append(li);
    pending.set(id, { li, text });
}

function putBack(text) {
    const box = $('text');
    box.value = box.value ? `${text}\n${box.value}` : text;
    updateCounter();
    box.focus();
}

function updateCounter() {
    const left = conn.limits.max_text_chars - codePoints($('text').value);
    const counter = $('counter');
    counter.textContent = left < 200 ? format(strings.chars_left, { n: left }) : '';
    counter.classList.toggle('over', left < 0);
}

function send() {
    const box = $('text');
    let text = box.value.replace(TEXT_DROP, '');
    if (text.toWellFormed) text = text.toWellFormed();
    if (!text.trim()) return;
    const { max_text_chars: maxChars, max_message_bytes: maxBytes } = conn.limits;
    const frame = JSON.stringify({ type: 'say', id: crypto.randomUUID(), text });
    if (codePoints(text) > maxChars || new TextEncoder().encode(frame).length > maxBytes) {
        updateCounter();
        $('counter').textContent = strings.errors.text_too_long;
        return;
    }
    addPending(conn.say(text), text);
    box.value = '';
    updateCounter();
}

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
$('leave').addEventListener('click', () => conn.leave());
$('reconnect').addEventListener('click', () => conn.reconnectNow());
window.addEventListener('online', () => state === 'reconnecting' && conn.reconnectNow());
// Closing the page would lose messages that are not yet acknowledged.
window.addEventListener('beforeunload', (ev) => pending.size > 0 && ev.preventDefault());

conn.addEventListener('state', ({ detail }) => {
    state = detail.state;
    if (state === 'connecting') setStatus(strings.status_connecting);
    else if (state !== 'open') setJoining(false);
    if (state === 'reconnecting') {
        setStatus(format(strings.status_reconnecting, { s: Math.ceil(detail.delay / 1000) }), { reconnect: true });
    } else if (state === 'closed') {
        const text = { 4409: strings.closed_replaced, 4429: strings.closed_abuse }[detail.code] ?? strings.closed_refused;
        setStatus(text, { reconnect: true });
    }
});

conn.addEventListener('welcome', ({ detail: { welcome, gap } }) => {
    setJoining(false);
    $('room-title').textContent = welcome.room;
    members.clear();
    for (const m of welcome.members) members.set(m.member, m);
    renderMembers();
    if (gap) addGapMarker();
    const entering = $('chat-view').hidden;
    show('chat');
    if (entering) $('text').focus();
    updateCounter();
    setStatus(strings.status_connected, { fade: true });
});

conn.addEventListener('event', ({ detail: { msg, applied, own } }) => {
    if (msg.type === 'message') {
        addMessage(msg, own);
        awaitingEvent.get(msg.seq)?.remove();
        awaitingEvent.delete(msg.seq);
        return;
    }
    if (!applied) {
        if (msg.state === 'joined') members.set(msg.member, msg);
        else members.delete(msg.member);
        renderMembers();
    }
    addPresence(msg);
});

conn.addEventListener('gap', addGapMarker);

conn.addEventListener('ack', ({ detail: { id, seq } }) => {
    const p = pending.get(id);
    if (!p) return;
    pending.delete(id);
    if (seq > conn.lastSeq) {
        awaitingEvent.set(seq, p.li); // its message event follows at once
        return;
    }
    // Posted on an earlier connection; show it if its event never reached us.
    if (!$('log').querySelector(`[data-seq="${seq}"]`)) {
        addMessage({ seq, name: conn.session?.name ?? '', text: p.text }, true);
    }
    p.li.remove();
});

conn.addEventListener('failed', ({ detail: { id, code } }) => {
    const p = pending.get(id);
    if (!p) return;
    pending.delete(id);
    p.li.classList.add('failed');
    const status = p.li.querySelector('.status');
    status.textContent = format(strings.not_sent, { reason: errorText(code) });
    const edit = el('button', 'quiet', strings.edit_button);
    edit.addEventListener('click', () => {
        p.li.remove();
        putBack(p.text);
    });
    status.append(' ', edit);
});

conn.addEventListener('joinerror', ({ detail: { code } }) => {
    setJoining(false);
    if (conn.session) {
        $('room').value = conn.session.room;
        $('name').value = conn.session.name;
    }
    setStatus('');
    show('join');
    setJoinError(errorText(code), code === 'bad_field' || code === 'room_full' ? $('room') : $('name'));
});

conn.addEventListener('left', () => {
    state = 'idle';
    members.clear();
    pending.clear();
    awaitingEvent.clear();
    $('log').replaceChildren();
    $('outbox').replaceChildren();
    setStatus('');
    show('join');
    $('room').focus();
});

// A link like /#tuesday-group fills in the room (the hash never reaches the server).
if (ROOM.test(location.hash.slice(1))) $('room').value = location.hash.slice(1);
const restored = conn.restore();
if (restored) $('room-title').textContent = restored.room;
show(restored ? 'chat' : 'join');
