// Set-ups the browser tests share: a group with a session whose lobby is open (made
// with the real kamratctl by the integration harness's sessionFixture, nobody
// entered yet), and the walk that brings a leader and participants into the open
// room through the web client.

import { sessionFixture } from '../../integration/lib/harness.mjs';
import { agree, enterSession, inLobby, inRoom, join, login, openInvite, openSession } from './ui.mjs';

/** Crisis resources of the test installation, one per language. */
export const CRISIS = {
    fi: [{ name: 'Kriisipuhelin', phone: '+358 9 2525 0111', url: 'https://mieli.fi/', note: 'Päivystää ympäri vuorokauden' }],
    sv: [{ name: 'Kristelefon', phone: '+358 9 2525 0112', url: 'https://mieli.fi/sv/', note: 'Jour dygnet runt' }],
    en: [{ name: 'Crisis helpline', phone: '+358 9 2525 0116', url: 'https://mieli.fi/en/', note: 'Open around the clock' }],
};

/**
 * A running kamratd with one group, a session in its lobby and a group invite;
 * nobody has entered. opts go to sessionFixture (group, description, agreement,
 * privateMessages, ...). Resolves the fixture (server, code, session, leaderName, ...).
 */
export function groupFixture(opts = {}) {
    return sessionFixture({
        participants: 0,
        leaderEnters: false,
        crisis: CRISIS,
        description: 'Vertaistukea torstaisin – kaikki ovat tervetulleita.',
        agreement: 'Mitä täällä sanotaan, jää tänne.\nKunnioitamme toisiamme.\n',
        ...opts,
    });
}

/**
 * Brings names into the open room through the client: each participant opens the
 * invite link, joins and agrees in the lobby; then the leader logs in, enters and
 * opens the session, and everyone waits for the open room. langs: a language per
 * participant (cycled), leaderLang, width, userOpts ({name: more openUser opts}).
 * Resolves {leader, p: {name: user}, all}.
 */
export async function bringIn(ctx, fx, names, { langs = ['fi', 'sv', 'en'], leaderLang = 'fi', width, userOpts = {} } = {}) {
    const p = {};
    for (const [i, name] of names.entries()) {
        const u = await ctx.user(fx.server, { label: name, lang: langs[i % langs.length], width, ...userOpts[name] });
        await openInvite(u, fx.code);
        await join(u, name);
        await inLobby(u);
        await agree(u);
        p[name] = u;
    }
    const leader = await ctx.user(fx.server, { label: `leader ${fx.leaderName}`, lang: leaderLang, width });
    await login(leader, fx.leaderName);
    await enterSession(leader, fx.session);
    await openSession(leader);
    await Promise.all(Object.values(p).map(inRoom));
    return { leader, p, all: [leader, ...Object.values(p)] };
}
