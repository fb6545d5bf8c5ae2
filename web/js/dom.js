// Small DOM helpers shared by the screens: lookup, element building, screens, the
// status banner, form errors and the confirm dialog. User text goes in as text only.

import { t, tr } from './i18n.js';

const VIEWS = ['home', 'join', 'login', 'sessions', 'room', 'ended'];

export const $ = (id) => document.getElementById(id);

/** A new element: `cls` its class names, `text` user text (set as text, dir=auto). */
export function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) {
        node.textContent = text;
        node.dir = 'auto';
    }
    return node;
}

/** A button with the catalog's words for `key`; `action` goes into data-action. */
export function button(key, action, cls) {
    const b = tr(el('button', cls), key);
    b.type = 'button';
    if (action) b.dataset.action = action;
    return b;
}

/**
 * Replaces list's items, keeping keyboard focus where it was: on the control
 * with the same data-action (or `data-slot`) in the item for the same member,
 * when both are still there. Lists redraw on every room event; a keyboard user
 * in the middle of an action must not be thrown back to the top of the page.
 */
export function replaceKeepingFocus(list, items) {
    const active = document.activeElement;
    const item = list.contains(active) ? active.closest('[data-member]') : null;
    // A control that changes its action in place (mute, then unmute) names its slot.
    const slot = active?.dataset.slot;
    const action = active?.dataset.action;
    list.replaceChildren(...items);
    if (!item) return;
    const again = list.querySelector(`[data-member="${item.dataset.member}"]`);
    const selector = slot ? `[data-slot="${slot}"]` : action && `[data-action="${action}"]`;
    (selector ? again?.querySelector(selector) : again)?.focus();
}

let view = null;

/** Shows one screen; a new one gets the focus on its heading. */
export function show(name, focus = true) {
    for (const v of VIEWS) $(`${v}-view`).hidden = v !== name;
    document.body.dataset.view = name; // the room fills the viewport; other screens scroll
    if (name === view) return;
    view = name;
    if (focus) $(`${name}-view`).querySelector('h2').focus();
}

let statusTimer = 0;

/** The connection banner: `key` and `values` of its text, or null to hide it. */
export function setStatus(key, values, { reconnect = false, fade = false } = {}) {
    clearTimeout(statusTimer);
    if (key) tr($('status'), key, values);
    else $('status').replaceChildren();
    $('banner').hidden = !key;
    $('reconnect').hidden = !reconnect;
    if (fade) statusTimer = setTimeout(() => setStatus(null), 4000);
}

/** Shows a form error (`key` null clears it) and marks `field` invalid. */
export function setError(box, key, values, field, fields = []) {
    if (key) tr(box, key, values);
    else box.replaceChildren();
    box.dataset.code = values?.code ?? '';
    for (const input of fields) input.setAttribute('aria-invalid', String(Boolean(key) && input === field));
    field?.focus();
}

/** The catalog key for a protocol error code (the server sends codes, we say words). */
export const errorKey = (code) => (t(`err.${code}`) === `err.${code}` ? 'err.default' : `err.${code}`);

/** Puts `busy` words on a button while something runs. */
export function setBusy(b, on, busyKey, key) {
    b.disabled = on;
    tr(b, on ? busyKey : key);
}

/** Opens a modal dialog and brings the focus back where it was when it closes. */
export function openDialog(dialog) {
    const back = document.activeElement;
    dialog.addEventListener('close', () => back?.focus?.(), { once: true });
    dialog.showModal();
}
