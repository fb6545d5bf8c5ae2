// Leaders (/leader): login over the JSON API (protocol section 11), the list of their
// sessions (who waits, start now, a session now), logout. The login token lives in
// this tab's sessionStorage, never a URL.

import { $, el, button, show, setError, errorKey } from './dom.js';
import { tr, timeEl } from './i18n.js';
import { api, loginFields, submitLogin } from './login.js';
import { initInvites, loadInvites } from './leader-invites.js';

const LOGIN_KEY = 'kamrat.login';

let conn = null;

export function loginToken() {
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

/** The login form, with why the last login ended (`code`), if it did. */
export function showLogin(code) {
    storeLogin(null);
    show('login');
    setError($('login-error'), code && errorKey(code), { code }, null, loginFields());
}

async function login(ev) {
    ev.preventDefault();
    const data = await submitLogin();
    if (data) {
        storeLogin(data.token);
        showSessions();
    }
}

function sessionItem(s) {
    const li = el('li');
    li.dataset.session = s.id;
    li.dataset.state = s.state;
    const about = el('div');
    about.id = `session-${s.id}`;
    const times = el('p');
    times.append(timeEl(s.starts_at, s.ends_at));
    about.append(el('p', 'who', s.group), times, tr(el('p', 'hint'), `session.${s.state}`));
    const waiting = waitingNote(s);
    if (waiting) about.append(waiting);
    li.append(about);
    if (s.state === 'lobby' || s.state === 'running') {
        const enter = button('sessions.enter', 'enter');
        enter.setAttribute('aria-describedby', about.id);
        enter.addEventListener('click', () => {
            enter.disabled = true;
            conn.join({ token: loginToken(), session: s.id });
        });
        li.append(enter);
    } else if (s.startable) {
        li.append(startButton(s, about.id));
    }
    return li;
}

// ---- who waits, start now, a session now (protocol sections 11 and 12) ----

/** How many wait in the session's lobby, when someone does. */
function waitingNote(s) {
    if (!Number.isInteger(s.waiting) || s.waiting < 1) return null;
    return tr(el('p', 'hint waiting'), 'sessions.waiting', { n: s.waiting });
}

/** Enter a session the server has just opened or made. */
function enterNow(session) {
    conn.join({ token: loginToken(), session });
}

/** "Start now": the session's lobby opens at once and the leader enters it. */
function startButton(s, describedBy) {
    const b = button('sessions.start', 'start');
    b.setAttribute('aria-describedby', describedBy);
    b.addEventListener('click', async () => {
        b.disabled = true;
        const { status, data } = await api(`/api/admin/groups/${s.group_id}/sessions/${s.id}/start`,
            { method: 'POST', token: loginToken() });
        if (status === 200) enterNow(s.id);
        else sessionsFailed(status, data);
    });
    return b;
}

/** "A session now" for each group that allows one: 60 minutes from now. */
function adhocButtons(groups) {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
    return groups.filter((g) => g.adhoc_sessions).map((g) => {
        const b = button('sessions.adhoc', 'adhoc', 'quiet');
        b.dataset.group = g.id;
        b.setAttribute('aria-label', `${b.textContent}: ${g.name}`);
        b.addEventListener('click', async () => {
            b.disabled = true;
            const { status, data } = await api(`/api/admin/groups/${g.id}/sessions`,
                { method: 'POST', token: loginToken(), body: { now: true, duration_min: 60, tz: zone } });
            if (status === 201) enterNow(data.id);
            else sessionsFailed(status, data);
        });
        return b;
    });
}

/** A refused start or session now: the list again, with why. */
function sessionsFailed(status, data) {
    if (status === 401) showLogin('token_invalid');
    else showSessions(status ? data.error ?? 'internal' : 'network');
}

/** The leader's sessions; `code`: why the last room ended or refused, if it did. */
export async function showSessions(code) {
    const token = loginToken();
    if (!token) {
        showLogin();
        return;
    }
    show('sessions');
    const box = $('sessions-error');
    setError(box, code && errorKey(code), { code });
    const { status, data } = await api('/api/sessions', { token });
    if (status === 401) {
        showLogin('token_invalid');
        return;
    }
    if (status !== 200 || !Array.isArray(data.sessions)) {
        const why = status ? data.error ?? 'internal' : 'network';
        setError(box, errorKey(why), { code: why });
        return;
    }
    const items = data.sessions.sort((a, b) => a.starts_at - b.starts_at).map(sessionItem);
    $('sessions').replaceChildren(...items);
    $('sessions-empty').hidden = items.length > 0;
    loadInvites();
    $('sessions-adhoc').replaceChildren(...adhocButtons(data.groups ?? []));
}

export function initLeader(c) {
    conn = c;
    initInvites(loginToken, showLogin);
    $('login-form').addEventListener('submit', login);
    $('refresh').addEventListener('click', () => showSessions());
    $('back').addEventListener('click', () => showSessions());
    $('logout').addEventListener('click', async () => {
        const token = loginToken();
        showLogin();
        if (token) await api('/api/logout', { method: 'POST', token });
    });
}
