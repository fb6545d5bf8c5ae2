// Words and dates. One catalog (i18n/<lang>.json) is loaded, and the pages that need
// more words load a part beside it (the console's: i18n/console/<lang>.json), so a
// participant's phone does not download the coordinators' words; the DOM carries
// keys (data-i18n, data-i18n-label) and translate() fills them in again whenever the
// language changes. Values put into strings are always text (bdi), never markup.

const LANGS = ['fi', 'sv', 'en', 'et', 'ru', 'uk', 'ar'];
const PSEUDO = 'qps-rtl'; // pseudo-localised right-to-left catalog for tests
const PICK_KEY = 'kamrat.lang';

let catalog = {};
let current = null;
let parts = []; // the catalog parts this page loads beside the common one
// Whose language the page speaks: the user's own choice wins everywhere, then the
// browser's; the group's language is only the default for someone with neither, so
// the words never change under the user's feet between join, lobby and refusal.
let settled = false;

/** The catalog's words for `key`, `{name}` placeholders filled from `values`. */
export function t(key, values = {}) {
    return (catalog[key] ?? key).replace(/\{(\w+)\}/g, (m, k) => (k in values ? String(values[k]) : m));
}

export const lang = () => current;
export const locale = () => catalog._locale ?? current;

/** Sets `node`'s text to the catalog's words for `key`; each value goes in its own bdi. */
export function tr(node, key, values) {
    node.dataset.i18n = key;
    if (values) node.dataset.i18nValues = JSON.stringify(values);
    else delete node.dataset.i18nValues;
    render(node);
    return node;
}

function render(node) {
    const values = node.dataset.i18nValues ? JSON.parse(node.dataset.i18nValues) : {};
    const parts = t(node.dataset.i18n).split(/\{(\w+)\}/);
    node.replaceChildren(...parts.map((part, i) => {
        if (i % 2 === 0) return part;
        const b = document.createElement('bdi');
        b.textContent = part in values ? String(values[part]) : `{${part}}`;
        return b;
    }));
}

const formats = {
    time: { hour: '2-digit', minute: '2-digit' },
    datetime: { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' },
};

/** A local date and time (`fmt` time or datetime); a range when `end` is given. */
export function when(start, end, fmt = 'datetime') {
    const f = new Intl.DateTimeFormat(locale(), formats[fmt]);
    return end ? f.formatRange(start, end) : f.format(start);
}

/** A <time> element that follows language changes. */
export function timeEl(start, end, fmt = 'datetime') {
    const node = document.createElement('time');
    node.dateTime = new Date(start).toISOString();
    node.dataset.ts = start;
    if (end) node.dataset.end = end;
    node.dataset.fmt = fmt;
    node.textContent = when(start, end, fmt);
    return node;
}

/** Puts the current catalog's words into everything under `root`. */
export function translate(root = document) {
    for (const n of root.querySelectorAll('[data-i18n]')) render(n);
    for (const n of root.querySelectorAll('[data-i18n-label]')) n.setAttribute('aria-label', t(n.dataset.i18nLabel));
    for (const n of root.querySelectorAll('time[data-ts]')) {
        n.textContent = when(Number(n.dataset.ts), n.dataset.end && Number(n.dataset.end), n.dataset.fmt);
    }
}

function remembered() {
    try {
        return localStorage.getItem(PICK_KEY);
    } catch {
        return null;
    }
}

/** Loads and applies a catalog; `pick`: the user chose it, remember that. Resolves when
 * the page speaks it. Dispatches `langchange` on document. */
export async function use(code, pick = false) {
    if (pick) {
        settled = true;
        try {
            localStorage.setItem(PICK_KEY, code);
        } catch {
            // Storage disabled: the choice lasts for this page.
        }
    }
    if (code === current) return;
    // Relative to this module, so the catalog comes from the same versioned
    // path as the page's code and the browser keeps it as long (server: webroot.h).
    const files = ['', ...parts.map((p) => `${p}/`)].map((dir) => fetch(new URL(`../i18n/${dir}${code}.json`, import.meta.url)));
    const loaded = await Promise.all((await Promise.all(files)).map((res) => res.json()));
    catalog = Object.assign({}, ...loaded);
    current = code;
    document.documentElement.lang = catalog._locale;
    document.documentElement.dir = catalog._dir;
    document.title = t('app.title');
    translate();
    document.dispatchEvent(new CustomEvent('langchange'));
}

const known = (code) => (LANGS.includes(code) || code === PSEUDO ? code : null);

/** The first language: ?lang=, then the user's earlier choice, then the browser's, then en.
 * `extra`: the catalog parts this page needs beside the common one (['console']). */
export function start(extra = []) {
    parts = extra;
    const param = known(new URLSearchParams(location.search).get('lang'));
    const stored = known(remembered());
    const browser = navigator.languages.map((l) => l.slice(0, 2).toLowerCase()).find((l) => LANGS.includes(l));
    settled = Boolean(param ?? stored ?? browser);
    return use(param ?? stored ?? browser ?? 'en');
}

/** The group's language, once the welcome tells it: only for someone whose own choice
 * and browser named none of ours. */
export function groupLanguage(code) {
    if (!settled && known(code)) {
        settled = true;
        use(code);
    }
}

/** Fills a language <select> with the languages in their own names. */
export function switcher(select) {
    const codes = current === PSEUDO ? [...LANGS, PSEUDO] : LANGS;
    select.replaceChildren(...codes.map((code) => {
        const o = document.createElement('option');
        o.value = code;
        o.lang = code;
        o.textContent = code === PSEUDO ? code : new Intl.DisplayNames([code], { type: 'language' }).of(code);
        return o;
    }));
    select.value = current;
    select.addEventListener('change', () => use(select.value, true));
    document.addEventListener('langchange', () => { select.value = current; });
}
