// The coordinators' console (/admin, protocol section 12): login, the groups (list,
// add, edit), the audit log with filters and paging, and the health box. The token
// lives in this module's memory only: never a URL, a cookie or storage, so a reload
// asks for the password again. Text from the server goes in as text only.

import { $, el, setBusy, setError, errorKey } from './dom.js';
import { api, loginFields, submitLogin } from './login.js';
import { start, switcher, t, tr, timeEl } from './i18n.js';

const SECTIONS = ['groups', 'audit', 'health'];
const FIELDS = ['name', 'language', 'description', 'agreement', 'max_participants', 'history', 'private_messages'];
const INPUT_OF = {
    name: 'g-name',
    language: 'g-language',
    description: 'g-description',
    agreement: 'g-agreement',
    max_participants: 'g-max',
    history: 'g-history',
    private_messages: 'g-pm',
};

let token = null;
let groups = []; // every group loaded so far, by name
let groupsCursor = null;
let auditCursor = null;
let auditAsked = 0; // the newest audit request: an older answer arriving late is dropped
let editing = null; // the group being edited, or null when adding

/** The JSON API with this console's token; a 401 ends the console's login. */
async function call(path, { method = 'GET', body } = {}) {
    const r = await api(path, { method, body, token });
    if (r.status === 401 && token) loggedOut('token_invalid');
    return r;
}

function view(name) {
    $('login-view').hidden = name !== 'login';
    $('console-view').hidden = name !== 'console';
    $('logout').hidden = name !== 'console';
}

function loggedOut(code) {
    token = null;
    view('login');
    setError($('login-error'), code && errorKey(code), { code }, null, loginFields());
    $('login-heading').focus();
}

async function login(ev) {
    ev.preventDefault();
    const data = await submitLogin();
    if (data?.role === 'coordinator') {
        token = data.token;
        view('console');
        section('groups');
        loadGroups(true);
    } else if (data) {
        // A leader's account: this console is not theirs; end the login at once.
        await api('/api/logout', { method: 'POST', token: data.token });
        setError($('login-error'), 'admin.not_coordinator', { code: 'forbidden' }, $('username'), loginFields());
    }
}

async function logout() {
    await call('/api/logout', { method: 'POST' });
    loggedOut(null);
}

/** Shows one section of the console; focus goes to its heading. */
function section(name, focus = false) {
    for (const s of SECTIONS) $(`${s}-section`).hidden = s !== name;
    $('group-section').hidden = true;
    for (const b of document.querySelectorAll('[data-section]')) b.setAttribute('aria-pressed', String(b.dataset.section === name));
    if (focus) $(`${name}-heading`).focus();
    if (name === 'audit') loadAudit(true);
    if (name === 'health') loadHealth();
}

function status(key, values) {
    if (key) tr($('console-status'), key, values);
    else $('console-status').replaceChildren();
}

/* ---- groups ---- */

function groupItem(g) {
    const li = el('li', 'admin-item');
    li.dataset.group = g.id;
    const about = el('div');
    const name = el('strong', 'group-name', g.name);
    const facts = tr(el('p', 'hint'), 'admin.group_facts', { language: g.language, max: g.max_participants });
    about.append(name, facts);
    if (g.description) about.append(el('p', 'desc', g.description));
    const edit = tr(el('button', 'quiet small'), 'admin.edit');
    edit.type = 'button';
    edit.setAttribute('aria-label', t('admin.edit_named', { name: g.name }));
    edit.addEventListener('click', () => openGroup(g));
    li.append(about, edit);
    return li;
}

function drawGroups() {
    $('groups').replaceChildren(...groups.map(groupItem));
    $('groups-none').hidden = groups.length > 0;
    $('groups-more').hidden = groupsCursor === null;
    const pick = $('a-group');
    const chosen = pick.value;
    pick.replaceChildren(pick.firstElementChild, ...groups.map((g) => {
        const o = el('option', null, g.name);
        o.value = g.id;
        return o;
    }));
    pick.value = chosen;
}

async function loadGroups(fresh) {
    const cursor = fresh ? '' : groupsCursor;
    const { status: st, data } = await call(`/api/admin/groups?limit=50&cursor=${encodeURIComponent(cursor ?? '')}`);
    if (st !== 200) {
        if (st !== 401) status(errorKey(data.error ?? String(st)), { code: data.error ?? st });
        return;
    }
    groups = fresh ? data.groups : [...groups, ...data.groups];
    groupsCursor = data.next_cursor;
    drawGroups();
}

function openGroup(g) {
    editing = g;
    const form = $('group-form');
    tr($('group-heading'), g ? 'admin.group_edit_heading' : 'admin.group_add_heading', g ? { name: g.name } : undefined);
    $('g-name-field').hidden = Boolean(g); // the name is set once (protocol section 12)
    $('g-name').value = g?.name ?? '';
    $('g-language').value = g?.language ?? 'fi';
    $('g-description').value = g?.description ?? '';
    $('g-agreement').value = g?.agreement ?? '';
    $('g-max').value = String(g?.max_participants ?? 12);
    $('g-history').value = g?.history ?? 'since_admitted';
    $('g-pm').value = g?.private_messages ?? 'leaders';
    setError($('group-error'), null, null, null, formInputs());
    $('groups-section').hidden = true;
    $('group-section').hidden = false;
    form.dataset.mode = g ? 'edit' : 'add';
    $('group-heading').focus();
}

const formInputs = () => Object.values(INPUT_OF).map((id) => $(id));

function closeGroup(focusId) {
    $('group-section').hidden = true;
    $('groups-section').hidden = false;
    const target = focusId && document.querySelector(`[data-group="${focusId}"] button`);
    (target ?? $('groups-heading')).focus();
}

async function saveGroup(ev) {
    ev.preventDefault();
    const body = {
        language: $('g-language').value,
        description: $('g-description').value.trim(),
        agreement: $('g-agreement').value,
        max_participants: Number($('g-max').value),
        history: $('g-history').value,
        private_messages: $('g-pm').value,
    };
    if (!editing) body.name = $('g-name').value.trim();
    const box = $('group-error');
    if (!editing && !body.name) {
        setError(box, 'admin.err_name', { code: 'invalid' }, $('g-name'), formInputs());
        return;
    }
    if (!Number.isInteger(body.max_participants) || body.max_participants < 1 || body.max_participants > 500) {
        setError(box, 'admin.err_max_participants', { code: 'invalid' }, $('g-max'), formInputs());
        return;
    }
    setBusy($('group-save'), true, 'admin.saving', 'admin.save');
    const { status: st, data } = editing
        ? await call(`/api/admin/groups/${editing.id}`, { method: 'PATCH', body })
        : await call('/api/admin/groups', { method: 'POST', body });
    setBusy($('group-save'), false, 'admin.saving', 'admin.save');
    if (st === 200 || st === 201) {
        status(st === 201 ? 'admin.added' : 'admin.saved', { name: data.name });
        await loadGroups(true);
        closeGroup(data.id);
        return;
    }
    if (st === 401) return;
    const code = data.error ?? String(st);
    const field = FIELDS.includes(data.field) ? data.field : null;
    const key = code === 'exists' ? 'admin.err_exists' : field && code === 'invalid' ? `admin.err_${field}` : errorKey(code);
    setError(box, key, { code }, field ? $(INPUT_OF[field]) : null, formInputs());
}

/* ---- audit ---- */

function auditRow(e) {
    const tr0 = el('tr');
    const when = el('td');
    when.append(timeEl(e.ts));
    tr0.append(when, el('td', null, e.actor), el('td', null, e.action), el('td', null, e.target ?? ''));
    return tr0;
}

async function loadAudit(fresh) {
    const q = new URLSearchParams({
        limit: '50',
        group: $('a-group').value,
        actor: $('a-actor').value.trim(),
        action: $('a-action').value.trim(),
        cursor: fresh ? '' : auditCursor ?? '',
    });
    const asked = ++auditAsked;
    const { status: st, data } = await call(`/api/admin/audit?${q}`);
    if (asked !== auditAsked) return; // a newer filter or page was asked for meanwhile
    const box = $('audit-error');
    if (st !== 200) {
        if (st !== 401) setError(box, errorKey(data.error ?? String(st)), { code: data.error ?? st }, null);
        return;
    }
    setError(box, null, null, null);
    const rows = data.entries.map(auditRow);
    if (fresh) $('audit-rows').replaceChildren(...rows);
    else $('audit-rows').append(...rows);
    auditCursor = data.next_cursor;
    $('audit-more').hidden = auditCursor === null;
    $('audit-none').hidden = $('audit-rows').children.length > 0;
    $('audit-table').hidden = $('audit-rows').children.length === 0;
}

/* ---- health ---- */

async function loadHealth() {
    const { status: st, data } = await call('/api/admin/health');
    const dl = $('health');
    if (st !== 200) {
        if (st !== 401) dl.replaceChildren(tr(el('dd', 'error'), errorKey(data.error ?? String(st)), { code: data.error ?? st }));
        return;
    }
    const facts = [
        ['admin.h_version', data.version],
        ['admin.h_connections', data.connections],
        ['admin.h_rooms', data.rooms],
        ['admin.h_logins', data.logins],
        ['admin.h_store', data.store === 'ok' ? t('admin.ok') : data.store],
        ['admin.h_cluster', data.cluster ? `${data.cluster.node}: redis ${data.cluster.redis}, bus ${data.cluster.bus}, ${data.cluster.live_nodes}` : t('admin.h_single')],
    ];
    dl.replaceChildren(...facts.flatMap(([key, value]) => {
        const div = el('div');
        div.append(tr(el('dt'), key), el('dd', null, String(value)));
        return [div];
    }));
}

/* ---- wiring ---- */

await start();
switcher($('lang'));
$('login-form').addEventListener('submit', login);
$('logout').addEventListener('click', logout);
for (const b of document.querySelectorAll('[data-section]')) b.addEventListener('click', () => section(b.dataset.section, true));
$('group-new').addEventListener('click', () => openGroup(null));
$('group-form').addEventListener('submit', saveGroup);
$('group-cancel').addEventListener('click', () => closeGroup(editing?.id));
$('groups-more').addEventListener('click', () => loadGroups(false));
$('audit-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    loadAudit(true);
});
$('audit-more').addEventListener('click', () => loadAudit(false));
$('health-refresh').addEventListener('click', loadHealth);
document.addEventListener('langchange', () => {
    document.title = t('admin.title');
    if (token) drawGroups(); // the edit buttons' labels name their group in the new words
});
document.title = t('admin.title');
view('login');
$('username').focus();
