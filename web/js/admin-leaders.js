// The console's leaders (protocol section 12): list the accounts with their state and
// groups, add one by a setup link (the coordinator never types a password: the leader
// opens the link and chooses one), disable, enable, a new link to reset the password,
// and the groups each leads. A link's address is shown once, when it is made.

import { $, el, setBusy, setError, errorKey } from './dom.js';
import { t, tr, when } from './i18n.js';
import { call, defineSection, knownGroups, status } from './console.js';

let leaders = [];
let cursor = null;
let shown = null; // the account whose new link is on screen, for its words in another language

const formFields = () => [$('l-username')];

function failed(data, st) {
    if (st === 401) return;
    const code = data.error ?? String(st);
    status(code === 'own_account' || code === 'disabled' ? `admin.err_${code}` : errorKey(code), { code });
}

/** Shows the link just made for username; its address is not kept anywhere else. */
function showLink(data) {
    shown = { username: data.username, setup_expires_at: data.setup_expires_at };
    drawLinkText();
    $('setup-url').value = data.setup_url;
    $('setup-box').hidden = false;
    $('setup-url').focus();
    $('setup-url').select();
}

function drawLinkText() {
    if (shown) tr($('setup-box-text'), 'admin.setup_made', { username: shown.username, until: when(shown.setup_expires_at) });
}

function hideLink() {
    shown = null;
    $('setup-url').value = '';
    $('setup-box').hidden = true;
}

/** Runs a change of one account; the list shows the account as the answer has it. */
async function change(path, method, body, label) {
    const { status: st, data } = await call(path, { method, body });
    if (st !== 200) {
        failed(data, st);
        return;
    }
    const i = leaders.findIndex((l) => l.id === data.id);
    if (i >= 0) leaders[i] = data;
    if (data.setup_url) showLink(data);
    status(label, { username: data.username });
    draw();
    if (!data.setup_url) document.querySelector(`[data-leader="${data.id}"] button`)?.focus();
}

function smallButton(key, values, onClick) {
    const b = tr(el('button', 'quiet small'), key, values);
    b.type = 'button';
    b.addEventListener('click', onClick);
    return b;
}

function stateText(l) {
    if (l.state !== 'awaiting_setup') return t(`admin.state_${l.state}`);
    if (!l.setup_expires_at || l.setup_expires_at < Date.now()) return t('admin.state_link_expired');
    return t('admin.state_awaiting', { until: when(l.setup_expires_at) });
}

function leaderItem(l) {
    const li = el('li', 'admin-item leader');
    li.dataset.leader = l.id;
    const about = el('div');
    const role = t(`admin.role_${l.role}`);
    about.append(el('strong', 'group-name', l.username), el('p', 'hint', `${role} · ${stateText(l)}`));
    const path = `/api/admin/leaders/${l.id}`;
    if (l.role === 'leader') {
        const groups = el('ul', 'leader-groups');
        groups.setAttribute('aria-label', t('admin.leads_named', { username: l.username }));
        for (const g of l.groups) {
            const item = el('li');
            item.append(el('span', null, g.name), smallButton('admin.unlink', { name: g.name }, () =>
                change(`${path}/groups/${g.id}`, 'DELETE', undefined, 'admin.leader_saved')));
            groups.append(item);
        }
        if (!l.groups.length) groups.append(tr(el('li', 'hint'), 'admin.leads_none'));
        about.append(groups);
        const free = knownGroups().filter((g) => !l.groups.some((x) => x.id === g.id));
        if (free.length) {
            const pick = el('select');
            pick.id = `l-pick-${l.id}`;
            pick.setAttribute('aria-label', t('admin.link_group_named', { username: l.username }));
            for (const g of free) {
                const o = el('option', null, g.name);
                o.value = g.id;
                pick.append(o);
            }
            const row = el('div', 'leader-actions');
            row.append(pick, smallButton('admin.link', {}, () =>
                change(`${path}/groups/${pick.value}`, 'POST', undefined, 'admin.leader_saved')));
            about.append(row);
        }
    }
    const actions = el('div', 'leader-actions');
    const disabled = l.state === 'disabled';
    actions.append(smallButton(disabled ? 'admin.enable' : 'admin.disable', {}, () =>
        change(path, 'PATCH', { disabled: !disabled }, disabled ? 'admin.enabled_done' : 'admin.disabled_done')));
    if (!disabled) {
        actions.append(smallButton('admin.new_link', {}, () =>
            change(`${path}/setup`, 'POST', undefined, 'admin.link_made')));
    }
    for (const b of actions.querySelectorAll('button')) b.setAttribute('aria-describedby', `l-name-${l.id}`);
    about.firstChild.id = `l-name-${l.id}`;
    li.append(about, actions);
    return li;
}

function draw() {
    $('leaders').replaceChildren(...leaders.map(leaderItem));
    $('leaders-none').hidden = leaders.length > 0;
    $('leaders-more').hidden = cursor === null;
}

async function load(fresh) {
    const from = fresh ? '' : cursor;
    const { status: st, data } = await call(`/api/admin/leaders?limit=50&cursor=${encodeURIComponent(from ?? '')}`);
    if (st !== 200) {
        failed(data, st);
        return;
    }
    cursor = data.next_cursor;
    leaders = fresh ? data.leaders : [...leaders, ...data.leaders];
    draw();
}

async function add(ev) {
    ev.preventDefault();
    const username = $('l-username').value.trim().toLowerCase();
    const box = $('leader-error');
    if (!/^[a-z0-9._-]{3,32}$/.test(username)) {
        setError(box, 'admin.err_username', { code: 'invalid' }, $('l-username'), formFields());
        return;
    }
    setBusy($('leader-add'), true, 'admin.saving', 'admin.leader_add');
    const { status: st, data } = await call('/api/admin/leaders', { method: 'POST', body: { username, role: $('l-role').value } });
    setBusy($('leader-add'), false, 'admin.saving', 'admin.leader_add');
    if (st !== 201) {
        if (st === 401) return;
        const code = data.error ?? String(st);
        const key = code === 'exists' ? 'admin.err_username_taken' : code === 'invalid' ? 'admin.err_username' : errorKey(code);
        setError(box, key, { code }, $('l-username'), formFields());
        return;
    }
    setError(box, null, null, null, formFields());
    $('l-username').value = '';
    await load(true);
    showLink(data);
}

async function copy() {
    try {
        await navigator.clipboard.writeText($('setup-url').value);
        status('admin.copied');
    } catch {
        $('setup-url').select(); // the reader copies it by hand
        status('admin.copy_by_hand');
    }
}

$('leader-form').addEventListener('submit', add);
$('leaders-more').addEventListener('click', () => load(false));
$('setup-copy').addEventListener('click', copy);
$('setup-close').addEventListener('click', () => {
    hideLink();
    $('leaders-heading').focus();
});
document.addEventListener('groupschange', draw);
defineSection('leaders', {
    load: () => {
        hideLink();
        load(true);
    },
    redraw: () => {
        drawLinkText();
        draw();
    },
});
