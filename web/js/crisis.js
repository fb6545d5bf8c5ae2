// Crisis resources, one tap away on every screen: the installation's list, in the
// page's language, else English, else any. Fetched from /crisis.json when the page
// loads, so the join screen has it too; every welcome brings it again.

import { $, el, openDialog } from './dom.js';
import { lang } from './i18n.js';

let resources = {};

function entries() {
    return resources[lang()] ?? resources.en ?? Object.values(resources)[0] ?? [];
}

function link(href, text) {
    const a = el('a', null, text);
    a.href = href;
    a.rel = 'noreferrer';
    return a;
}

function render() {
    const items = entries().map((r) => {
        const li = el('li');
        li.append(el('p', 'name', r.name));
        if (r.phone) li.append(link(`tel:${r.phone.replace(/[^+0-9]/g, '')}`, r.phone));
        if (r.url?.startsWith('https://')) li.append(' ', link(r.url, r.url.replace(/^https:\/\/|\/$/g, '')));
        if (r.note) li.append(el('p', 'note', r.note));
        return li;
    });
    $('crisis-list').replaceChildren(...items);
    $('crisis-none').hidden = items.length > 0;
}

/** Takes the resources of a welcome. */
export function setCrisis(crisis) {
    resources = crisis ?? {};
    render();
}

/** Opens the dialog; `told`: after "I'm not OK", say the leaders know. */
export function showCrisis(told = false) {
    $('crisis-told').hidden = !told;
    if (!$('crisis').open) openDialog($('crisis'));
}

export function initCrisis() {
    render();
    fetch('/crisis.json')
        .then((r) => (r.ok ? r.json() : null))
        .then((crisis) => {
            if (crisis && Object.keys(resources).length === 0) setCrisis(crisis);
        })
        .catch(() => {}); // the catalog's emergency line stays, and the welcome brings the list

    $('crisis-open').addEventListener('click', () => showCrisis());
    $('crisis-close').addEventListener('click', () => $('crisis').close());
    document.addEventListener('langchange', render);
}
