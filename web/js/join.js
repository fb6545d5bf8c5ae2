// Entering by invite link (/j/<invite>): the pseudonym form and the participant key.
// On a test server, /#<room> offers the testing mode's rooms by name instead.

import { $, setBusy, setError, errorKey } from './dom.js';
import { groupLanguage, tr, when } from './i18n.js';

const MAX_NAME_CHARS = 40; // the protocol default; the server has the last word
const ROOM = /^[A-Za-z0-9_-]{1,64}$/;
const KEY_STORE = 'kamrat.key';
// Pseudonym rules (protocol section 4): controls become spaces; bidi controls and
// whatever else shows nothing (Cf, Default_Ignorable_Code_Point: a soft hyphen or a
// zero-width space pasted along) go, but U+FE0F, which the server takes after an
// emoji; White_Space is trimmed at both ends. Mixed scripts and look-alikes are the
// server's to judge (bad_name, name_taken).
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const INVISIBLE = /(?!\ufe0f)[\p{Cf}\p{Default_Ignorable_Code_Point}]/gu;
const SPACE = '[\\u0020\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]+';
const EDGE_SPACE = new RegExp(`^${SPACE}|${SPACE}$`, 'g');
const FIELD_OF = { bad_name: 'name', name_taken: 'name', bad_field: 'room', room_full: 'room' };

const cleanName = (raw) => raw.replace(CONTROL, ' ').replace(BIDI, '').replace(INVISIBLE, '').replace(EDGE_SPACE, '');

/** The participant key (protocol section 4 hello): 32 random bytes in base64url, made
 * once and kept in localStorage so a group ban can be bound to this browser. */
function participantKey() {
    try {
        let key = localStorage.getItem(KEY_STORE);
        if (!/^[A-Za-z0-9_-]{43}$/.test(key ?? '')) {
            const bytes = crypto.getRandomValues(new Uint8Array(32));
            key = btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
            localStorage.setItem(KEY_STORE, key);
        }
        return key;
    } catch {
        return undefined; // storage disabled: enter without a key
    }
}

const fields = () => [$('room'), $('name')];
const setJoining = (on) => setBusy($('join-button'), on, 'join.busy', 'join.button');

let info = null; // the invite's public facts (protocol section 10), once known

/** The group and its next session, in the page's language. */
function showInfo() {
    if (!info) return;
    tr($('join-group'), 'join.group', { group: info.group });
    const next = info.next_session;
    if (!next) tr($('join-when'), 'join.when_none');
    else if (info.state === 'running') tr($('join-when'), 'join.when_running', { when: when(next.ends_at, null, 'time') });
    else tr($('join-when'), info.state === 'lobby' ? 'join.when_lobby' : 'join.when_scheduled', { when: when(next.starts_at, next.ends_at) });
    $('join-group').hidden = false;
    $('join-when').hidden = false;
}

/** The join page for an invite that does not work (unknown, expired, revoked or
 * used up: the server does not say which): why, and whom to ask. */
export function inviteInvalid() {
    info = null;
    $('join-view').dataset.state = 'invalid';
    tr($('join-heading'), 'invalid.heading');
    for (const id of ['join-fields', 'join-welcome', 'join-group', 'join-when']) $(id).hidden = true;
    $('invite-invalid').hidden = false;
}

/** Asks the server what the invite leads to, before anyone types a name. */
async function loadInfo(invite) {
    try {
        const res = await fetch(`/j/${invite}/info.json`);
        if (res.status === 404) inviteInvalid();
        else if (res.ok) {
            info = await res.json();
            groupLanguage(info.language); // only for someone whose browser named none of ours
        }
    } catch {
        // Unreachable: the form stays, and the hello says what is wrong.
    }
    showInfo();
}

/** Wires the form; `invite` null means the testing mode's room form. */
export function initJoin(conn, invite) {
    $('room-field').hidden = Boolean(invite);
    $('join-info').hidden = !invite;
    if (invite) {
        loadInfo(invite);
        document.addEventListener('langchange', showInfo);
    }
    $('join-form').addEventListener('submit', (ev) => {
        ev.preventDefault();
        const room = $('room').value.trim();
        const name = cleanName($('name').value);
        $('name').value = name;
        let error = null;
        let field = $('name');
        if (!name) error = 'name_empty';
        else if ([...name].length > MAX_NAME_CHARS) error = 'name_long';
        if (!invite && !ROOM.test(room)) [error, field] = ['bad_field', $('room')];
        setError($('join-error'), error && errorKey(error), { code: error, n: MAX_NAME_CHARS }, error && field, fields());
        if (error) return;
        setJoining(true);
        conn.join(invite ? { invite, name, key: participantKey() } : { room, name });
    });
}

/** Shows why a hello was refused, on the form. */
export function joinRefused(conn, error) {
    setJoining(false);
    if (error.code === 'invite_invalid') {
        inviteInvalid();
        return;
    }
    $('name').value = conn.session?.hello.name ?? $('name').value;
    const field = FIELD_OF[error.code] === 'room' && !$('room-field').hidden ? $('room') : $('name');
    const values = { code: error.code };
    let key = errorKey(error.code);
    if (error.code === 'no_session') {
        key = error.next_start ? 'err.no_session_at' : 'err.no_session_none';
        values.when = error.next_start && when(error.next_start);
    }
    setError($('join-error'), key, values, field, fields());
}

export const joinDone = () => setJoining(false);
