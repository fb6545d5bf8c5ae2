// What the console's sections share (/admin, protocol section 12): the login's
// token, held in this module's memory only (never a URL, a cookie or storage, so a
// reload asks for the password again), the API call with it, the status line, the
// groups known so far (for every section's group pickers) and the sections
// themselves. Each section is a module (admin-*.js) that calls defineSection; admin.js
// shows one at a time. Text from the server goes in as text only.

import { $ } from './dom.js';
import { api } from './login.js';
import { tr } from './i18n.js';

let token = null;
let onLoggedOut = () => {};
const sections = new Map(); // name -> { load, redraw }
let groups = [];

export function setToken(value, loggedOut) {
    token = value;
    if (loggedOut) onLoggedOut = loggedOut;
}

export const loggedIn = () => token !== null;

/** The JSON API with the console's token; a 401 ends the console's login. */
export async function call(path, { method = 'GET', body } = {}) {
    const r = await api(path, { method, body, token });
    if (r.status === 401 && token) onLoggedOut('token_invalid');
    return r;
}

export function status(key, values) {
    if (key) tr($('console-status'), key, values);
    else $('console-status').replaceChildren();
}

/** A section of the console: load() runs each time it is shown, redraw() when the
 * language changes (labels that name things are made in code). */
export function defineSection(name, { load = () => {}, redraw = () => {} } = {}) {
    sections.set(name, { load, redraw });
}

export const sectionNames = () => [...sections.keys()];
export const sectionOf = (name) => sections.get(name);

/** The groups loaded so far, by name; sections listen for 'groupschange'. */
export const knownGroups = () => groups;
export function setGroups(list) {
    groups = list;
    document.dispatchEvent(new CustomEvent('groupschange'));
}
