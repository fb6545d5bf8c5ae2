// The setup page (/setup#<code>, protocol section 12 "Setup links"): the holder of a
// setup link that a coordinator made chooses their account's password. The code is in
// the fragment, so it never reaches a server log or a Referer; the page takes it out of
// the address bar at once and keeps it in memory only. The password rule is the
// server's (10 to 128 characters); the server says which links are used, expired or
// unknown, and the page says it in the reader's language.

import { $, setBusy, setError, errorKey } from './dom.js';
import { api } from './login.js';
import { start, switcher, t, tr, when } from './i18n.js';

const code = location.hash.slice(1);
history.replaceState(null, '', location.pathname + location.search);
let account = null; // {username, role, expires_at} once the link checked out

const fields = () => [$('setup-password'), $('setup-again')];

/** The words for a refusal: the link's own codes, else the shared ones. */
const refusalKey = (error) => (['setup_unknown', 'setup_used', 'setup_expired'].includes(error)
    ? `setup.err_${error}` : errorKey(error));

function refused(data, status) {
    const error = data.error ?? String(status);
    const s = Math.max(1, Math.ceil((data.retry_after_ms ?? 1000) / 1000));
    setError($('setup-error'), refusalKey(error), { code: error, s }, null, fields());
}

function drawIntro() {
    if (!account) return;
    tr($('setup-intro'), 'setup.intro', { username: account.username, until: when(account.expires_at) });
}

async function check() {
    if (!code) {
        refused({ error: 'setup_unknown' });
        return;
    }
    const { status, data } = await api('/api/setup/check', { method: 'POST', body: { code } });
    if (status !== 200) {
        refused(data, status);
        return;
    }
    account = data;
    $('setup-username').value = data.username;
    $('setup-intro').hidden = false;
    $('setup-fields').hidden = false;
    $('setup-button').hidden = false;
    drawIntro();
    $('setup-password').focus();
}

function chars(s) {
    return [...s].length;
}

async function submit(ev) {
    ev.preventDefault();
    if (!account) return;
    const password = $('setup-password').value;
    const box = $('setup-error');
    if (chars(password) < 10 || chars(password) > 128) {
        setError(box, 'setup.err_rule', { code: 'invalid' }, $('setup-password'), fields());
        return;
    }
    if (password !== $('setup-again').value) {
        setError(box, 'setup.err_differ', { code: 'differ' }, $('setup-again'), fields());
        return;
    }
    setBusy($('setup-button'), true, 'setup.busy', 'setup.button');
    const { status, data } = await api('/api/setup', { method: 'POST', body: { code, password } });
    setBusy($('setup-button'), false, 'setup.busy', 'setup.button');
    if (status !== 200) {
        if (data.error === 'invalid') setError(box, 'setup.err_rule', { code: 'invalid' }, $('setup-password'), fields());
        else refused(data, status);
        return;
    }
    $('setup-password').value = '';
    $('setup-again').value = '';
    $('setup-form').hidden = true;
    $('setup-done').hidden = false;
    tr($('setup-done-text'), 'setup.done', { username: data.username });
    $('setup-login').href = data.role === 'coordinator' ? '/admin' : '/leader';
    $('setup-done-heading').focus();
}

await start(['console']);
switcher($('lang'));
document.title = t('setup.title');
document.addEventListener('langchange', () => {
    document.title = t('setup.title');
    drawIntro();
});
$('setup-form').addEventListener('submit', submit);
$('setup-heading').focus();
await check();
