// The page's entry: picks the language, reads the path to know who comes (/j/<invite>
// a participant, /leader a leader, /#<room> the testing mode's rooms) and wires the
// connection (conn.js) to the screens. User text only ever goes in as text.

import { Conn } from './conn.js';
import { $, show, setStatus } from './dom.js';
import { start, switcher, tr } from './i18n.js';
import { initBrand } from './brand.js';
import { initCrisis } from './crisis.js';
import { initJoin, joinRefused, joinDone } from './join.js';
import { initLog, addPending, acked, failed, unsent } from './log.js';
import { initComposer, putBack } from './composer.js';
import { initRoom, onWelcome, onEvent, leaveRoom } from './room.js';

const ROOM = /^[A-Za-z0-9_-]{1,64}$/;
const CLOSED_KEYS = { 4409: 'status.replaced', 4429: 'status.abuse' };

const invite = /^\/j\/([A-Za-z0-9_-]{22})$/.exec(location.pathname)?.[1] ?? null;
const mode = invite ? 'invite' : location.pathname === '/leader' ? 'leader' : 'home';
const conn = new Conn();
// Loaded only on /leader: participants never fetch the login code.
const leader = mode === 'leader' ? await import('./leader.js') : null;
let state = 'idle';

await start();
await initBrand();
switcher($('lang'));
initCrisis();
initLog(conn);
initComposer(conn);
initRoom(conn);
leader?.initLeader(conn);
if (mode !== 'leader') initJoin(conn, invite);

/** The end screen; `reason` says why (ended, left, removed, banned, denied, replaced). */
function ended(reason) {
    state = 'idle';
    leaveRoom();
    setStatus(null);
    $('ended-view').dataset.reason = reason;
    tr($('ended-heading'), `ended.${reason}_heading`);
    tr($('ended-text'), `ended.${reason}`);
    $('back').hidden = mode !== 'leader';
    show('ended');
}

conn.addEventListener('state', ({ detail }) => {
    state = detail.state;
    if (state === 'connecting') setStatus('status.connecting');
    else if (state !== 'open') joinDone();
    if (state === 'reconnecting') {
        setStatus('status.reconnecting', { s: Math.ceil(detail.delay / 1000) }, { reconnect: true });
    } else if (state === 'closed' && detail.code === 4403) {
        ended(['removed', 'banned', 'denied'].includes(detail.reason) ? detail.reason : 'removed');
    } else if (state === 'closed' && detail.code === 4401 && leader) {
        leaveRoom();
        leader.showLogin('token_invalid'); // logged out, or the account was disabled
    } else if (state === 'closed' && detail.code === 4409) {
        ended('replaced');
    } else if (state === 'closed') {
        setStatus(CLOSED_KEYS[detail.code] ?? 'status.refused', null, { reconnect: true });
    }
});

conn.addEventListener('welcome', ({ detail: { welcome, gap, restarted } }) => {
    joinDone();
    onWelcome(welcome, gap, restarted);
    setStatus(null); // the banner speaks only when the connection is not fine
});
conn.addEventListener('event', ({ detail: { msg, applied } }) => onEvent(msg, applied));
conn.addEventListener('ack', ({ detail: { id, seq } }) => acked(id, seq));
conn.addEventListener('failed', ({ detail: { id, error, code } }) => failed(id, error ?? { code }, putBack));
conn.addEventListener('joinerror', ({ detail: { error } }) => {
    setStatus(null);
    if (leader) {
        if (error.code === 'token_invalid') leader.showLogin('token_invalid');
        else leader.showSessions(error.code);
        return;
    }
    show('join');
    joinRefused(conn, error);
});
conn.addEventListener('left', () => {
    if (leader) {
        leaveRoom();
        leader.showSessions();
    } else {
        ended('left');
    }
});
conn.addEventListener('ended', () => ended('ended'));

$('reconnect').addEventListener('click', () => conn.reconnectNow());
// The room is as tall as what is visible: where an on-screen keyboard overlays the page
// instead of resizing it (100dvh stays), the visual viewport says how much is left, so
// the composer stays above the keyboard. Not while pinch-zoomed: that is the user's view.
const vv = window.visualViewport;
const fitViewport = () => {
    const covered = vv.scale <= 1.01 && vv.height < window.innerHeight - 1;
    if (covered) document.documentElement.style.setProperty('--app-height', `${vv.height}px`);
    else document.documentElement.style.removeProperty('--app-height');
};
vv?.addEventListener('resize', fitViewport);
window.addEventListener('online', () => state === 'reconnecting' && conn.reconnectNow());
// Closing the page would lose messages that are not yet acknowledged.
window.addEventListener('beforeunload', (ev) => unsent() > 0 && ev.preventDefault());

// Back in this tab after a reload: take the membership up again where it was.
const restored = conn.restore({
    invite: (h) => h.invite === invite,
    leader: (h) => 'session' in h,
    home: (h) => 'room' in h,
}[mode]);
if (!restored) {
    const room = location.hash.slice(1);
    if (leader) {
        if (leader.loginToken()) leader.showSessions();
        else leader.showLogin();
    } else if (mode === 'home' && ROOM.test(room)) {
        $('room').value = room;
        show('join', false);
    } else {
        show(mode === 'home' ? 'home' : 'join', false);
    }
}
