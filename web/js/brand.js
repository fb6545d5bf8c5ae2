// The association's own look ([branding] in kamrat.conf): its name in the header and
// the title, its logo, welcome text and contact line. The server serves them as
// branding.json beside the code (the accent comes as branding.css, linked by the
// page). All of it is the association's text: set as text, never as markup.

import { $ } from './dom.js';
import { t } from './i18n.js';

let brand = {};

const setTitle = () => {
    document.title = brand.name ?? t('app.title');
};

/** Loads branding.json and puts the name, logo and contact line on the page. */
export async function initBrand() {
    try {
        // Relative to this module: the same versioned path as the page's code.
        const res = await fetch(new URL('../branding.json', import.meta.url));
        if (res.ok) brand = await res.json();
    } catch {
        // Without it the page keeps the catalog's name, as with no [branding].
    }
    if (brand.name) {
        const name = $('brand-name');
        delete name.dataset.i18n;
        name.textContent = brand.name;
        name.dir = 'auto';
    }
    if (brand.logo) {
        const logo = $('brand-logo');
        logo.src = new URL(`../${brand.logo}`, import.meta.url);
        logo.hidden = false;
    }
    for (const id of ['join-contact', 'ended-contact']) {
        $(id).textContent = brand.contact ?? '';
        $(id).hidden = !brand.contact;
    }
    $('join-association').textContent = brand.name ?? '';
    $('join-welcome').textContent = brand.welcome ?? '';
    $('join-welcome').hidden = !brand.welcome;
    setTitle();
    document.addEventListener('langchange', setTitle);
}
