// The console (/admin, protocol section 12): login, and one section at a time. The
// sections are modules (admin-*.js) that register with console.js; their order here is
// the order of the tabs in admin.html.

import { $, setError, errorKey } from './dom.js';
import { api, loginFields, submitLogin } from './login.js';
import { start, switcher, t } from './i18n.js';
import { call, loggedIn, sectionNames, sectionOf, setToken } from './console.js';
import './admin-groups.js';
import './admin-sessions.js';
import './admin-invites.js';
import './admin-leaders.js';
import './admin-bans.js';
import './admin-attendance.js';
import './admin-audit.js';
import './admin-health.js';

function view(name) {
    $('login-view').hidden = name !== 'login';
    $('console-view').hidden = name !== 'console';
    $('logout').hidden = name !== 'console';
}

function loggedOut(code) {
    setToken(null);
    view('login');
    setError($('login-error'), code && errorKey(code), { code }, null, loginFields());
    $('login-heading').focus();
}

async function login(ev) {
    ev.preventDefault();
    const data = await submitLogin();
    if (data?.role === 'coordinator') {
        setToken(data.token, loggedOut);
        view('console');
        section('groups');
    } else if (data) {
        // A leader's account: this console is not theirs; end the login at once.
        await api('/api/logout', { method: 'POST', token: data.token });
        setError($('login-error'), 'admin.not_coordinator', { code: 'forbidden' }, $('username'), loginFields());
    }
}

async function logout() {
    await call('/api/logout', { method: 'POST' });
    loggedOut(null);
}

/** Shows one section of the console; focus goes to its heading. */
function section(name, focus = false) {
    for (const s of sectionNames()) $(`${s}-section`).hidden = s !== name;
    for (const b of document.querySelectorAll('[data-section]')) b.setAttribute('aria-pressed', String(b.dataset.section === name));
    if (focus) $(`${name}-heading`).focus();
    sectionOf(name).load();
}

await start(['console']);
switcher($('lang'));
$('login-form').addEventListener('submit', login);
$('logout').addEventListener('click', logout);
for (const b of document.querySelectorAll('[data-section]')) b.addEventListener('click', () => section(b.dataset.section, true));
document.addEventListener('langchange', () => {
    document.title = t('admin.title');
    if (loggedIn()) for (const s of sectionNames()) sectionOf(s).redraw();
});
document.title = t('admin.title');
view('login');
$('username').focus();
