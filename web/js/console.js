// What the console's sections share (/admin, protocol section 12): the login's
// token, held in this module's memory only (never a URL, a cookie or storage, so a
// reload asks for the password again), the API call with it, the status line, the
// groups known so far (for every section's group pickers) and the sections
// themselves, and what several sections use: a group picker, a paged list, a
// confirmation. Each section is a module (admin-*.js) that calls defineSection;
// admin.js shows one at a time. Text from the server goes in as text only.

import { $, el, errorKey, openDialog } from './dom.js';
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

/** A file the API answers (a CSV export), saved under the name its
 * Content-Disposition gives. Resolves the status; a 401 ends the login. */
export async function download(path) {
    try {
        const res = await fetch(path, { headers: { Authorization: `Bearer ${token}` }, cache: 'no-store', credentials: 'omit' });
        if (res.status === 401 && token) onLoggedOut('token_invalid');
        if (res.status !== 200) return res.status;
        const name = /filename="([^"]+)"/.exec(res.headers.get('Content-Disposition') ?? '')?.[1] ?? 'kamrat.csv';
        const href = URL.createObjectURL(await res.blob());
        const a = document.createElement('a');
        a.href = href;
        a.download = name;
        a.hidden = true;
        document.body.append(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(href), 60000);
        return 200;
    } catch {
        return 0;
    }
}

export function status(key, values) {
    if (key) tr($('console-status'), key, values);
    else $('console-status').replaceChildren();
}

/** Says in the status line why a call failed: its error code in words (`keys`: the
 * section's own words for some codes); a 401 already ended the login. */
export function failed(st, data, keys = {}) {
    if (st === 401) return;
    const code = data?.error ?? String(st);
    status(keys[code] ?? errorKey(code), { code });
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

/** An <option> per known group, its value the group's id. */
function groupOptions() {
    return groups.map((g) => {
        const o = el('option', null, g.name);
        o.value = String(g.id);
        return o;
    });
}

/** Offer the known groups in a <select> after its first option (an "all" or a
 * "pick one"), keeping the choice. */
export function fillGroupPick(pick) {
    const chosen = pick.value;
    pick.replaceChildren(pick.firstElementChild, ...groupOptions());
    pick.value = chosen;
}

let picked = ''; // the group last picked in any section's picker, so the next one starts there

/**
 * A <select> of the known groups. fill() puts in the groups known now, keeping the
 * one picked (in this or another section's picker) while it is still there, and
 * resolves whether the choice changed; onPick() runs when the reader picks one.
 */
export function groupPicker(select, onPick) {
    select.addEventListener('change', () => {
        picked = select.value;
        onPick();
    });
    return {
        fill() {
            const before = select.value;
            select.replaceChildren(...groupOptions());
            if (groups.some((g) => String(g.id) === picked)) select.value = picked;
            picked = select.value;
            return select.value !== before;
        },
        id: () => select.value,
        name: () => groups.find((g) => String(g.id) === select.value)?.name ?? '',
    };
}

/**
 * A paged list of the API (protocol section 12: limit, cursor, next_cursor).
 * path(): the list's path and filters now (a group picked since a request makes its
 * late answer be dropped); key: the answer's member; item(row): the row's <li>;
 * list, none, more: the ids of the <ul>, its "none" note and its "more" button.
 * load(fresh) resolves true when the list shows the answer.
 */
export function pagedList({ list, none, more, key, path, item, limit = 20 }) {
    let rows = [];
    let cursor = null;
    const draw = () => {
        $(list).replaceChildren(...rows.map(item));
        $(none).hidden = rows.length > 0;
        $(more).hidden = cursor === null;
    };
    async function load(fresh = true) {
        const asked = path();
        const sep = asked.includes('?') ? '&' : '?';
        const { status: st, data } = await call(`${asked}${sep}limit=${limit}&cursor=${encodeURIComponent((fresh ? '' : cursor) ?? '')}`);
        if (asked !== path()) return false;
        if (st !== 200) {
            failed(st, data);
            return false;
        }
        cursor = data.next_cursor;
        rows = fresh ? data[key] : [...rows, ...data[key]];
        draw();
        return true;
    }
    $(more).addEventListener('click', () => load(false));
    return { load, draw };
}

/**
 * Asks before a change: the dialog says `key` (with values) and offers `yesKey` or
 * going back. Resolves true when the reader confirms; the focus returns where it was.
 */
export function confirmAction(key, values, yesKey) {
    const dialog = $('confirm-dialog');
    tr($('confirm-text'), key, values);
    tr($('confirm-yes'), yesKey);
    dialog.returnValue = '';
    return new Promise((resolve) => {
        dialog.addEventListener('close', () => resolve(dialog.returnValue === 'yes'), { once: true });
        openDialog(dialog);
    });
}
