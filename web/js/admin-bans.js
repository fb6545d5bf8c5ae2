// The console's bans of a group (protocol section 12, "GET …/bans"): what kamratctl's
// `ban list` shows and nothing more (the pseudonym the person had, what the ban is
// bound to, when and by whom), the lifted ones on request, and lifting one.

import { $, el } from './dom.js';
import { t, tr, when } from './i18n.js';
import { call, confirmAction, defineSection, failed, groupPicker, pagedList, status } from './console.js';

const BOUND = { invite: 'admin.ban_invite', key: 'admin.ban_key', 'invite+key': 'admin.ban_invite_key' };

const picker = groupPicker($('b-group'), () => load());
const base = () => `/api/admin/groups/${picker.id()}/bans`;

function banItem(b) {
    const li = el('li', 'admin-item wrap');
    li.dataset.ban = b.id;
    const about = el('div');
    const name = el('strong', 'group-name', b.name);
    name.id = `ban-name-${b.id}`;
    const facts = [t('admin.ban_made', { when: when(b.created_at), by: b.created_by }), t(BOUND[b.bound_to] ?? 'admin.ban_key')];
    if (b.lifted_at) facts.push(t('admin.ban_lifted', { when: when(b.lifted_at) }));
    about.append(name, el('p', 'hint', facts.join(' · ')));
    li.append(about);
    if (!b.lifted_at) {
        const lift = tr(el('button', 'quiet small'), 'bans.unban');
        lift.type = 'button';
        lift.setAttribute('aria-describedby', name.id); // its words stay its name (WCAG 2.5.3)
        lift.addEventListener('click', () => liftBan(b));
        li.append(lift);
    }
    return li;
}

const bans = pagedList({
    list: 'bans', none: 'bans-none', more: 'bans-more', key: 'bans', limit: 50,
    path: () => `${base()}?all=${$('bans-all').checked ? 'yes' : 'no'}`, item: banItem,
});

async function liftBan(b) {
    if (!await confirmAction('admin.ban_lift_confirm', { name: b.name }, 'bans.unban')) return;
    const { status: st, data } = await call(`${base()}/${b.id}/lift`, { method: 'POST' });
    if (st !== 200) failed(st, data, { not_found: 'admin.err_gone' });
    else status('admin.ban_lifted_done', { name: b.name });
    await bans.load();
    $('bans-heading').focus();
}

/** The picked group's bans; with no group, a word on where to add one. */
async function load() {
    const some = picker.id() !== '';
    for (const id of ['b-group', 'bans-all']) $(id).parentElement.hidden = !some;
    $('b-no-groups').hidden = some;
    $('bans').hidden = !some;
    if (some) await bans.load();
    else $('bans-none').hidden = true;
}

$('bans-all').addEventListener('change', () => load());
document.addEventListener('groupschange', () => {
    if (picker.fill() && !$('bans-section').hidden) load();
});
defineSection('bans', {
    load: () => {
        picker.fill();
        load();
    },
    redraw: bans.draw, // the dates and words in the new language
});
