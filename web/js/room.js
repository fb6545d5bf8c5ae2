// The room as a participant sees it (and the part of a leader's view they share):
// lobby with the agreement, topic, switches, round, members, hand queue, "I'm not OK"
// and leave. Everything is drawn from the welcome and the room events; the server
// decides, this only shows. Leaders get panel.js on top, loaded when their role is.

import { $, el, show, setStatus, errorKey, openDialog, replaceKeepingFocus } from './dom.js';
import { tr, timeEl, when, groupLanguage } from './i18n.js';
import { room, isLeader, nameOf } from './state.js';
import { setCrisis, showCrisis } from './crisis.js';
import * as log from './log.js';
import { renderTo } from './composer.js';

let conn = null;
let panel = null; // panel.js, once built, while our role is a leader's
let loading = null; // panel.js on its way

/** Asks the server; says why in the banner when it refuses. Resolves with the answer. */
export async function ask(type, fields) {
    const answer = await conn.request(type, fields);
    if (answer.error) setStatus(errorKey(answer.error.code), { code: answer.error.code }, { fade: true });
    return answer;
}

// Loads or drops the moderation panel as our role comes and goes.
async function syncPanel() {
    if (isLeader() && !panel && !loading) {
        loading = import('./panel.js');
        const p = await loading;
        await p.initPanel(conn);
        loading = null;
        panel = p;
        if (!isLeader()) syncPanel();
    } else if (!isLeader() && panel) {
        panel.dropPanel();
        panel = null;
    }
    render();
}

function memberItem(m) {
    const li = el('li');
    li.dataset.member = m.member;
    li.dataset.role = m.role;
    if (m.muted) li.dataset.muted = '';
    if (room.hands.includes(m.member)) li.dataset.hand = '';
    li.append(el('bdi', 'who', m.name));
    if (m.role !== 'participant') li.append(' ', tr(el('span', 'mark'), `role.${m.role}`));
    if (m.member === room.me) li.append(' ', tr(el('span', 'mark'), 'members.you'));
    if (m.muted) li.append(' ', tr(el('span', 'mark'), 'members.muted'));
    if (room.hands.includes(m.member)) li.append(' ', tr(el('span', 'mark'), 'members.hand'));
    panel?.decorateMember(li, m);
    return li;
}

function renderMembers() {
    replaceKeepingFocus($('members'), [...room.members.values()].map(memberItem));
    $('hands').replaceChildren(...room.hands.map((id) => {
        const li = el('li', null, nameOf(id) ?? '');
        li.dataset.member = id;
        return li;
    }));
    $('hands').previousElementSibling.hidden = room.hands.length > 0;
    $('hand').setAttribute('aria-pressed', String(room.hands.includes(room.me)));
    tr($('hand'), room.hands.includes(room.me) ? 'room.hand_down' : 'room.hand');
    renderTo();
}

function renderRound() {
    const r = room.round;
    $('round').hidden = !r;
    if (!r) return;
    $('round').dataset.kind = r.kind;
    tr($('round-heading'), `round.${r.kind}`);
    if (r.speaker === room.me) tr($('round-speaker'), 'round.your_turn');
    else tr($('round-speaker'), 'round.speaker', { name: nameOf(r.speaker) ?? '' });
    $('round-queue').replaceChildren(...r.queue.map((id) => {
        const li = el('li', null, nameOf(id) ?? '');
        li.dataset.member = id;
        panel?.decorateQueue(li, id);
        return li;
    }));
    const mine = r.speaker === room.me || isLeader();
    $('round-done').hidden = !mine;
    $('round-pass').hidden = !mine;
}

function flag(name, key, values) {
    const li = tr(el('li'), key, values);
    li.dataset.flag = name;
    return li;
}

function renderFlags() {
    const f = room.flags;
    const items = [];
    if (f.read_only) items.push(flag('read_only', 'flag.read_only'));
    if (f.paused) items.push(flag('paused', 'flag.paused'));
    if (f.locked && isLeader()) items.push(flag('locked', 'flag.locked'));
    if (f.slow_mode) items.push(flag('slow', 'flag.slow', { s: f.slow_mode }));
    if (room.muted) {
        items.push(room.muted.until ? flag('muted', 'flag.muted_until', { time: when(room.muted.until, undefined, 'time') })
            : flag('muted', 'flag.muted'));
    }
    $('room-flags').replaceChildren(...items);
    $('topic').hidden = !f.topic;
    if (f.topic) tr($('topic'), 'room.topic', { topic: f.topic });
}

/** Draws the whole room from the state. */
export function render() {
    const lobby = room.state === 'lobby' && !isLeader();
    const view = $('room-view');
    view.dataset.state = lobby ? 'lobby' : 'open';
    view.dataset.role = room.role;
    $('lobby-info').hidden = !lobby;
    view.querySelector('.side').hidden = lobby;
    $('tabs').hidden = lobby;
    view.querySelector('.leader-tab').hidden = !isLeader();
    if (!isLeader() && view.dataset.tab === 'alerts') selectTab('chat');
    const gate = !room.agreed;
    $('agreement').hidden = !gate && !lobby;
    $('agree').hidden = room.agreed;
    $('agreed').hidden = !room.agreed;
    $('hand').hidden = lobby || isLeader(); // leaders give the word; they do not ask for it
    $('not-ok').hidden = lobby || isLeader();
    const note = !lobby && gate ? 'room.agree_first' : isLeader() && room.state === 'lobby' ? 'room.not_open' : null;
    $('room-note').hidden = !note;
    if (note) tr($('room-note'), note);
    renderFlags();
    renderMembers();
    renderRound();
    panel?.render();
}

function fillSession(w) {
    const info = w.session;
    $('room-title').textContent = info?.group ?? w.room;
    $('room-when').replaceChildren(...(info ? [timeEl(info.starts_at, info.ends_at, 'time')] : []));
    if (!info) return;
    $('lobby-desc').textContent = info.description;
    $('lobby-when').replaceChildren($('lobby-when').firstChild, ' ', timeEl(info.starts_at, info.ends_at));
    $('agreement-text').textContent = info.agreement;
    for (const id of ['lobby-desc', 'agreement-text', 'room-title']) $(id).lang = info.language;
    const invite = conn.session?.hello.invite;
    $('calendar').parentNode.hidden = !invite;
    if (invite) $('calendar').href = `/j/${invite}/calendar.ics`;
    groupLanguage(info.language);
}

export function onWelcome(w, gap, restarted = false) {
    if (w.epoch !== room.epoch) log.forgetSeqs();
    Object.assign(room, { epoch: w.epoch, me: w.member, role: w.role, state: w.state, agreed: w.agreed,
        waiting: w.waiting, hands: w.hands, round: w.round, muted: w.muted, privateMessages: w.private_messages,
        session: w.session, flags: { locked: w.locked, paused: w.paused, read_only: w.read_only,
            slow_mode: w.slow_mode, topic: w.topic } });
    room.members = new Map(w.members.map((m) => [m.member, m]));
    setCrisis(w.crisis);
    fillSession(w);
    log.quiet();
    if (gap) log.addGap(restarted);
    show('room');
    syncPanel();
}

const PRESENCE_KEYS = { joined: 'sys.joined', left: 'sys.left', lost: 'sys.left', removed: 'sys.removed', lobby: 'sys.to_lobby' };

// Each room event: what it changes in the state, and the line it leaves in the log.
const handlers = {
    message: (msg, live) => log.addMessage(msg, live),
    presence(msg, live, applied) {
        if (!applied) {
            if (msg.state === 'joined') room.members.set(msg.member, msg);
            else room.members.delete(msg.member);
        }
        const key = msg.state === 'joined' ? 'sys.joined' : PRESENCE_KEYS[msg.reason] ?? 'sys.left';
        log.addSystem(msg.seq, key, { name: msg.name }, live);
    },
    state(msg, live) {
        room.state = msg.state;
        if (msg.state === 'open') log.addSystem(msg.seq, 'sys.opened', null, live);
    },
    room(msg) {
        const changedTopic = msg.topic !== room.flags.topic;
        room.flags = { locked: msg.locked, paused: msg.paused, read_only: msg.read_only,
            slow_mode: msg.slow_mode, topic: msg.topic };
        if (changedTopic) setStatus(msg.topic ? 'sys.topic' : 'sys.topic_cleared', null, { fade: true });
    },
    role(msg) {
        const m = room.members.get(msg.member);
        if (m) m.role = msg.role;
        if (msg.member === room.me) {
            room.role = msg.role;
            syncPanel();
        }
    },
    hands(msg) { room.hands = msg.queue; },
    round(msg) { room.round = msg.round; },
    deleted: (msg) => log.markDeleted(msg.target),
    mute(msg) {
        const m = room.members.get(msg.member);
        if (m) m.muted = msg.muted;
        if (msg.member === room.me) room.muted = msg.muted ? { until: msg.until } : null;
    },
    lobby(msg) { room.waiting = msg.waiting; },
    notice(msg, live) {
        if (msg.kind === 'crisis' && live) showCrisis();
    },
};

export function onEvent(msg, applied) {
    // Replayed history is already in the welcome's snapshot; only the log needs it.
    const live = !applied;
    handlers[msg.type]?.(msg, live, applied);
    if (msg.type === 'alert') panel?.alert(msg, live);
    if (msg.type !== 'message') render();
}

/** On a narrow screen, one pane at a time: chat, people or (leaders) alerts. */
export function selectTab(name) {
    $('room-view').dataset.tab = name;
    for (const b of $('tabs').querySelectorAll('button')) b.setAttribute('aria-pressed', String(b.dataset.tab === name));
}

export function initRoom(c) {
    conn = c;
    $('tabs').addEventListener('click', (ev) => {
        const tab = ev.target.closest('button')?.dataset.tab;
        if (tab) selectTab(tab);
    });
    $('agree').addEventListener('click', () => {
        $('agree').disabled = true;
        conn.agree();
    });
    $('hand').addEventListener('click', () => ask('hand', { up: !room.hands.includes(room.me) }));
    $('not-ok').addEventListener('click', () => {
        ask('not_ok');
        showCrisis(true);
    });
    $('round-done').addEventListener('click', () => ask('round_done'));
    $('round-pass').addEventListener('click', () => ask('round_pass'));
    $('leave').addEventListener('click', () => {
        $('leave-safe').checked = false;
        $('leave-safe').parentNode.hidden = isLeader();
        $('leave-dialog').returnValue = '';
        openDialog($('leave-dialog'));
    });
    $('leave-dialog').addEventListener('close', () => {
        if ($('leave-dialog').returnValue === 'leave') conn.leave($('leave-safe').checked);
    });
    conn.addEventListener('agreed', () => {
        room.agreed = true;
        $('agree').disabled = false;
        render();
        $(room.state === 'open' ? 'text' : 'agreed').focus();
    });
    conn.addEventListener('refused', ({ detail: { error } }) => {
        $('agree').disabled = false;
        setStatus(errorKey(error.code), { code: error.code }, { fade: true });
    });
    document.addEventListener('langchange', render);
}

export function leaveRoom() {
    panel?.dropPanel();
    panel = null;
    room.members.clear();
    log.clearLog();
}
