// The console API's requests for the integration tests (protocol/README.md §12),
// shared by admin*.test.mjs.

import { LEADER_PASSWORD, ctl, httpRequest, leaderLogin, uid } from './harness.mjs';

/** One console request; resolves {status, body, json}. opts: method, token,
 * json (sent as the body), body (raw), origin (default the server's; null: none),
 * headers. */
export async function admin(s, path, { method = 'GET', token, json, body, origin = s.origin, headers = {} } = {}) {
    const h = { ...headers };
    if (token) h.Authorization = `Bearer ${token}`;
    if (origin !== null) h.Origin = origin;
    const payload = json !== undefined ? JSON.stringify(json) : body;
    if (payload !== undefined && !('Content-Type' in h)) h['Content-Type'] = 'application/json';
    const r = await httpRequest(s, { method, path, headers: h, body: payload, timeout: 10000 });
    let parsed = null;
    try {
        parsed = JSON.parse(r.body);
    } catch {
        // 204 and HEAD have no body.
    }
    return { ...r, json: parsed };
}

/** A coordinator account with a fresh name, logged in; resolves {username, token}. */
export async function coordinator(s) {
    const username = uid('coord').toLowerCase();
    await ctl(s, ['coordinator', 'add', username, '--password-stdin'], { input: `${LEADER_PASSWORD}\n` });
    return { username, token: await leaderLogin(s, username) };
}
