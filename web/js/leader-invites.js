// The leader's invites, on the leader's page (/leader): make an invite for a group
// they lead, copy it or show it as a QR code, revoke (protocol section 12, Invites).
// The panel is the console's (invites.js); the token is the leader's login.

import { $ } from './dom.js';
import { api } from './login.js';
import { invitesPanel } from './invites.js';

let panel = null;

/** Sets up the panel: `token()` the leader's login token, `loggedOut(code)` ends the
 * login when the server no longer knows it. */
export function initInvites(token, loggedOut) {
    panel = invitesPanel($('leader-invites-panel'), 'li', async (path, opts = {}) => {
        const r = await api(path, { ...opts, token: token() });
        if (r.status === 401) loggedOut('token_invalid');
        return r;
    });
}

/** Reads the leader's groups and invites again (each time the sessions show). */
export const loadInvites = () => panel?.load();
