// The JSON API's requests and the password login form (protocol sections 11 and 12),
// shared by the leader's page (/leader) and the coordinators' console (/admin). The
// form's hooks are the same on both: #username, #password, #login-button,
// #login-error. Neither keeps the token here: each page decides where it lives.

import { $, setBusy, setError, errorKey } from './dom.js';

/** The JSON API: {status, data}; status 0 when the server could not be reached. */
export async function api(path, { method = 'GET', body, token } = {}) {
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

export const loginFields = () => [$('username'), $('password')];

/** Posts the login form. Resolves the answer ({token, username, role, ...}) and
 * clears the password, or null after saying in #login-error why not. */
export async function submitLogin() {
    const username = $('username').value.trim();
    const password = $('password').value;
    const box = $('login-error');
    if (!username || !password) {
        setError(box, 'err.login_empty', { code: 'login_empty' }, username ? $('password') : $('username'), loginFields());
        return null;
    }
    setBusy($('login-button'), true, 'login.busy', 'login.button');
    const { status, data } = await api('/api/login', { method: 'POST', body: { username, password } });
    setBusy($('login-button'), false, 'login.busy', 'login.button');
    if (status === 200 && typeof data.token === 'string') {
        $('password').value = '';
        setError(box, null, null, null, loginFields());
        return data;
    }
    const code = data.error ?? String(status);
    const s = Math.max(1, Math.ceil((data.retry_after_ms ?? 1000) / 1000));
    setError(box, errorKey(code), { code, s }, $('password'), loginFields());
    return null;
}
