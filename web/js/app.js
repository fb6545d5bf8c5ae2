// The page: invite join form, leader login and session list, lobby with the group
// agreement, message log, outbox, composer and member list. The path decides who
// comes: /j/<invite> a participant, /leader a leader, / the testing mode's room
// form. Everything about the protocol is in conn.js. User text only ever goes in
// via textContent.

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
// The leader's login token: this tab only, never in a URL.
const LOGIN_KEY = 'kamrat.login';
const VIEWS = ['home', 'join', 'login', 'sessions', 'lobby', 'chat', 'ended'];

const $ = (id) => document.getElementById(id);
const $$ = (sel) => document.querySelectorAll(sel);
const codePoints = (s) => [...s].length;
const format = (template, values) => template.replace(/\{(\w+)\}/g, (m, k) => (k in values ? String(values[k]) : m));

function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    if (className === 'text') node.dir = 'auto'; // user text in any script
    return node;
}

for (const node of $$('[data-s]')) node.textContent = strings[node.dataset.s];
for (const node of $$('[data-s-label]')) node.setAttribute('aria-label', strings[node.dataset.sLabel]);
document.title = strings.title;

// Who is here, from the path (kamratd serves this page for each).
const invite = /^\/j\/([A-Za-z0-9_-]{22})$/.exec(location.pathname)?.[1] ?? null;
const mode = invite ? 'invite' : location.pathname === '/leader' ? 'leader' : 'home';
const joinView = mode === 'home' ? 'home' : 'join';
if (mode === 'home') {
    // Rooms by name exist only on a test server: tucked away behind a details element.
    $('join-heading').remove();
    $('join-form').classList.remove('card');
    $('dev').append($('join-form'));
} else {
    $('room-field').remove();
}
$('chat-view').querySelector('.logout').hidden = mode !== 'leader';

const conn = new Conn();
const members = new Map(); // member id -> {member, name, role}
const pending = new Map(); // message id -> {li, text}, until acknowledged
const awaitingEvent = new Map(); // seq -> li, acknowledged, until its event shows
let state = 'idle';
let statusTimer = 0;
let view = null;
let epoch = null; // the server process whose seqs the log's data-seq attributes are
let agreeing = false; // the user pressed "I agree" (not a repeat after a re-entry)

const errorText = (code) => strings.errors[code] ?? format(strings.errors.default, { code });

// Local date and time in the user's locale and time zone; a range when `end` is given.
function when(start, end) {
    const f = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short',
        hour: '2-digit', minute: '2-digit', timeZoneName: 'short' });
    return end ? f.formatRange(start, end) : f.format(start);
}

/** Shows one screen; a new one gets the focus on its heading. */
function show(name, focus = true) {
    for (const v of VIEWS) $(`${v}-view`).hidden = v !== name;
    if (name === view) return;
    view = name;
    if (focus) $(`${name}-view`).querySelector('h2').focus();
}

function setStatus(text, { reconnect = false, fade = false } = {}) {
    clearTimeout(statusTimer);
    $('status').textContent = text;
    $('banner').hidden = !text;
    $('reconnect').hidden = !reconnect;
    if (fade) statusTimer = setTimeout(() => setStatus(''), 4000);
}

function setError(id, message, field, fields) {
    $(id).textContent = message ?? '';
    for (const input of fields) input.setAttribute('aria-invalid', String(input === field));
    field?.focus();
}

function setBusy(button, on, busyText, text) {
    button.disabled = on;
    button.textContent = on ? busyText : text;
}

/* ---- participants (and the testing mode's rooms) ---- */

const cleanName = (raw) => raw.replace(CONTROL, ' ').replace(BIDI, '').replace(EDGE_SPACE, '');
const joinFields = () => [...$$('#join-form input')];
const setJoinError = (message, field) => setError('join-error', message, field, joinFields());
const setJoining = (on) => setBusy($('join-button'), on, strings.joining, strings.join_button);

$('join-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const room = mode === 'home' ? $('room').value.trim() : '';
    const name = cleanName($('name').value);
    if (mode === 'home') $('room').value = room;
    $('name').value = name;
    let error = null;
    let field = $('name');
    if (!name) error = strings.err_name_empty;
    else if (codePoints(name) > MAX_NAME_CHARS) error = format(strings.err_name_long, { n: MAX_NAME_CHARS });
    if (mode === 'home' && !ROOM.test(room)) [error, field] = [strings.err_room, $('room')];
    setJoinError(error, error && field);
    if (error) return;
    setJoining(true);
    conn.join(mode === 'home' ? { room, name } : { invite, name });
});

/* ---- leaders ---- */

function loginToken() {
    try {
        return sessionStorage.getItem(LOGIN_KEY);
    } catch {
        return null;
    }
}

function storeLogin(token) {
    try {
        if (token) sessionStorage.setItem(LOGIN_KEY, token);
        else sessionStorage.removeItem(LOGIN_KEY);
    } catch {
        // Storage disabled: the login ends with the page.
    }
}

/** The JSON API: {status, data}; status 0 when the server could not be reached. */
async function api(path, { method = 'GET', body, token } = {}) {
    const headers = {};
    if (body) headers['Content-Type'] = 'application/json';
    if (token) headers.Authorization = `Bearer ${token}`;
    try {
        const res = await fetch(path, { method, headers, body: body && JSON.stringify(body),
            cache: 'no-store', credentials: 'omit' });
        const data = res.status === 204 ? {} : await res.json().catch(() => ({}));
        return { status: res.status, data };
    } catch {
        return { status: 0, data: { error: 'network' } };
    }
}

const loginFields = () => [$('username'), $('password')];
const setLoginError = (message, field) => setError('login-error', message, field, loginFields());

function showLogin(message) {
    show('login');
    setLoginError(message);
}

$('login-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const username = $('username').value.trim();
    const password = $('password').value;
    if (!username || !password) {
        setLoginError(strings.err_login_empty, username ? $('password') : $('username'));
        return;
    }
    const button = $('login-button');
    setBusy(button, true, strings.logging_in, strings.login_button);
    const { status, data } = await api('/api/login', { method: 'POST', body: { username, password } });
    setBusy(button, false, strings.logging_in, strings.login_button);
    if (status === 200 && typeof data.token === 'string') {
        $('password').value = '';
        setLoginError('');
        storeLogin(data.token);
        showSessions();
        return;
    }
    const code = data.error ?? String(status);
    const s = Math.max(1, Math.ceil((data.retry_after_ms ?? 1000) / 1000));
    setLoginError(format(strings.login[code] ?? strings.login.default, { s, code }), $('password'));
});

async function showSessions(message = '') {
    const token = loginToken();
    if (!token) {
        showLogin();
        return;
    }
    show('sessions');
    $('sessions-error').textContent = message;
    const { status, data } = await api('/api/sessions', { token });
    if (status === 401) {
        storeLogin(null);
        showLogin(strings.login.token_invalid);
        return;
    }
    if (status !== 200 || !Array.isArray(data.sessions)) {
        $('sessions-error').textContent = status ? errorText(data.error ?? status) : strings.login.network;
        return;
    }
    const items = data.sessions.sort((a, b) => a.starts_at - b.starts_at).map((s) => {
        const li = el('li');
        const about = el('div');
        about.id = `session-${s.id}`;
        about.append(el('p', 'who', s.group), el('p', '', when(s.starts_at, s.ends_at)),
            el('p', 'hint', strings.session_states[s.state] ?? s.state));
        li.append(about);
        if (s.state === 'lobby' || s.state === 'running') {
            const enter = el('button', null, strings.enter_button);
            enter.type = 'button';
            enter.setAttribute('aria-describedby', about.id);
            enter.addEventListener('click', () => {
                enter.disabled = true;
                conn.join({ token: loginToken(), session: s.id });
            });
            li.append(enter);
        }
        return li;
    });
    $('sessions').replaceChildren(...items);
    $('sessions-empty').hidden = items.length > 0;
}

async function logout() {
    const token = loginToken();
    storeLogin(null);
    if (conn.session) conn.leave();
    showLogin();
    if (token) await api('/api/logout', { method: 'POST', token });
}

for (const b of $$('.logout')) b.addEventListener('click', logout);
$('refresh').addEventListener('click', () => showSessions());
$('back').addEventListener('click', () => showSessions());

/* ---- the room ---- */

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
        const at = new Date(msg.ts);
        const time = el('time', '', at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }));
        time.dateTime = at.toISOString();
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
        if (m.role === 'leader') li.append(' ', el('span', 'you', strings.leader_mark));
        if (m.member === me) li.append(' ', el('span', 'you', strings.you));
        return li;
    });
    $('members').replaceChildren(...items);
    $('members-heading').textContent = `${strings.members_heading} (${members.size})`;
}

// The agreement sits in the lobby, or before the composer of a participant who has
// not agreed yet (the server refuses their messages until then).
function renderRoom() {
    const s = conn.session;
    if (!s) return;
    const box = $('agreement');
    const gate = view === 'chat' && s.role === 'participant' && !s.agreed;
    if (view === 'lobby') $('calendar').parentNode.before(box);
    else $('composer').before(box);
    box.hidden = view !== 'lobby' && !gate;
    $('agree').hidden = s.agreed;
    $('agree').disabled = false;
    $('agreed').hidden = !s.agreed;
    $('composer').hidden = gate;
    const leaderWaits = s.role === 'leader' && s.state === 'lobby';
    $('open').hidden = !leaderWaits;
    const note = gate ? strings.agree_first : leaderWaits ? strings.not_open_yet : '';
    $('room-state').textContent = note;
    $('room-state').hidden = !note;
}

function fillSession(w) {
    const info = w.session;
    $('room-title').textContent = info?.group ?? w.room;
    if (!info) return;
    $('lobby-heading').textContent = info.group;
    $('lobby-desc').textContent = info.description;
    $('lobby-when').textContent = format(strings.session_time, { when: when(info.starts_at, info.ends_at) });
    $('agreement-text').textContent = info.agreement;
    for (const id of ['lobby-heading', 'lobby-desc', 'agreement-text', 'room-title']) $(id).lang = info.language;
    if (conn.session?.hello.invite) $('calendar').href = `/j/${conn.session.hello.invite}/calendar.ics`;
    $('calendar').parentNode.hidden = !conn.session?.hello.invite;
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
    if (!text.trim() || !conn.session?.agreed) return;
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

function clearRoom() {
    members.clear();
    pending.clear();
    awaitingEvent.clear();
    $('log').replaceChildren();
    $('outbox').replaceChildren();
    setStatus('');
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
for (const b of $$('.leave')) b.addEventListener('click', () => conn.leave());
$('agree').addEventListener('click', () => {
    agreeing = true;
    $('agree').disabled = true;
    conn.agree();
});
$('open').addEventListener('click', () => {
    $('open').disabled = true;
    conn.open();
});
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
    } else if (state === 'closed' && detail.code === 4401 && mode === 'leader') {
        storeLogin(null); // a leader's account was disabled
        showLogin(strings.login.token_invalid);
    } else if (state === 'closed') {
        const text = { 4409: strings.closed_replaced, 4429: strings.closed_abuse }[detail.code] ?? strings.closed_refused;
        setStatus(text, { reconnect: true });
    }
});

conn.addEventListener('welcome', ({ detail: { welcome: w, gap } }) => {
    setJoining(false);
    if (w.epoch !== epoch) {
        // A restarted server counts seqs afresh: the old ones no longer name events.
        for (const li of $$('#log [data-seq]')) delete li.dataset.seq;
        epoch = w.epoch;
    }
    fillSession(w);
    members.clear();
    for (const m of w.members) members.set(m.member, m);
    renderMembers();
    if (gap) addGapMarker();
    show(w.state === 'lobby' && w.role === 'participant' ? 'lobby' : 'chat');
    $('open').disabled = false;
    renderRoom();
    updateCounter();
    setStatus(strings.status_connected, { fade: true });
});

conn.addEventListener('event', ({ detail: { msg, applied, own, history } }) => {
    if (history && $('log').querySelector(`[data-seq="${msg.seq}"]`)) return; // shown already
    if (msg.type === 'message') {
        addMessage(msg, own);
        awaitingEvent.get(msg.seq)?.remove();
        awaitingEvent.delete(msg.seq);
        return;
    }
    if (msg.type === 'state') {
        const li = el('li', 'sys', strings.opened);
        li.dataset.seq = msg.seq;
        if (msg.state === 'open') appendLog(li);
        renderRoom();
        return;
    }
    if (msg.type !== 'presence') return; // moderation events: for the leader's panel
    if (!applied) {
        if (msg.state === 'joined') members.set(msg.member, msg);
        else members.delete(msg.member);
        renderMembers();
    }
    addPresence(msg);
});

conn.addEventListener('agreed', () => {
    renderRoom();
    if (agreeing) $(view === 'chat' ? 'text' : 'agreed').focus();
    agreeing = false;
});

conn.addEventListener('reqerror', ({ detail: { code } }) => {
    $('agree').disabled = false;
    $('open').disabled = false;
    setStatus(errorText(code), { fade: true });
});

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

conn.addEventListener('joinerror', ({ detail: { code, error } }) => {
    setJoining(false);
    setStatus('');
    if (mode === 'leader') {
        if (code === 'token_invalid') {
            storeLogin(null);
            showLogin(strings.login.token_invalid);
        } else {
            showSessions(errorText(code));
        }
        return;
    }
    if (conn.session) {
        if (mode === 'home') $('room').value = conn.session.hello.room ?? '';
        $('name').value = conn.session.hello.name ?? '';
    }
    show(joinView);
    $('dev').open = true;
    let text = errorText(code);
    if (code === 'no_session') {
        text = error.next_start ? format(strings.err_no_session_at, { when: when(error.next_start) })
            : strings.err_no_session_none;
    } else if (code === 'forbidden' && mode === 'home') {
        text = strings.err_rooms_off;
    }
    const field = { bad_name: 'name', name_taken: 'name', bad_field: 'room', room_full: 'room' }[code];
    setJoinError(text, field && $(mode === 'home' ? field : 'name'));
});

conn.addEventListener('left', () => {
    state = 'idle';
    clearRoom();
    if (mode === 'leader') showSessions();
    else show(joinView);
});

conn.addEventListener('ended', () => {
    state = 'idle';
    clearRoom();
    $('back').hidden = mode !== 'leader';
    show('ended');
});

// Back in this tab after a reload: take the membership up again where it was.
const restored = conn.restore({
    invite: (h) => h.invite === invite,
    leader: (h) => 'session' in h,
    home: (h) => 'room' in h,
}[mode]);
if (!restored) {
    if (mode === 'leader') {
        if (loginToken()) showSessions();
        else show('login', false);
    } else {
        // A link like /#tuesday-group fills in the room (the hash never reaches the server).
        if (mode === 'home' && ROOM.test(location.hash.slice(1))) {
            $('room').value = location.hash.slice(1);
            $('dev').open = true;
        }
        show(joinView, false);
    }
}
