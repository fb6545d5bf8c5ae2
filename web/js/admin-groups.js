// The console's groups: list, add, edit, archive (protocol section 12). The archived
// groups are listed apart, on request; the groups other sections pick from are the
// ones in use.

import { $, el, setBusy, setError, errorKey } from './dom.js';
import { t, tr } from './i18n.js';
import { call, defineSection, knownGroups, setGroups, status } from './console.js';

const FIELDS = ['name', 'language', 'description', 'agreement', 'max_participants', 'history', 'private_messages', 'adhoc_sessions'];
const INPUT_OF = {
    name: 'g-name',
    language: 'g-language',
    description: 'g-description',
    agreement: 'g-agreement',
    max_participants: 'g-max',
    history: 'g-history',
    private_messages: 'g-pm',
    adhoc_sessions: 'g-adhoc',
};

let groupsCursor = null;
let editing = null; // the group being edited, or null when adding
let archivedList = null; // the archived groups while they are shown, else null

function groupItem(g) {
    const li = el('li', 'admin-item');
    li.dataset.group = g.id;
    const about = el('div');
    const name = el('strong', 'group-name', g.name);
    const facts = tr(el('p', 'hint'), 'admin.group_facts', { language: g.language, max: g.max_participants });
    about.append(name, facts);
    if (g.adhoc_sessions) about.append(tr(el('p', 'hint'), 'admin.adhoc_on'));
    if (g.description) about.append(el('p', 'desc', g.description));
    const edit = tr(el('button', 'quiet small'), 'admin.edit');
    edit.type = 'button';
    edit.setAttribute('aria-label', t('admin.edit_named', { name: g.name }));
    edit.addEventListener('click', () => openGroup(g));
    const archive = tr(el('button', 'quiet small'), g.archived_at ? 'admin.unarchive' : 'admin.archive');
    archive.type = 'button';
    name.id = `g-name-${g.id}`;
    archive.setAttribute('aria-describedby', name.id); // its words stay its name (WCAG 2.5.3)
    archive.addEventListener('click', () => setArchived(g, !g.archived_at));
    const buttons = el('div', 'leader-actions');
    buttons.append(edit, archive);
    li.append(about, buttons);
    return li;
}

function drawGroups() {
    const groups = archivedList ?? knownGroups();
    $('groups').replaceChildren(...groups.map(groupItem));
    $('groups-none').hidden = groups.length > 0;
    $('groups-more').hidden = groupsCursor === null;
}

async function loadGroups(fresh) {
    const cursor = fresh ? '' : groupsCursor;
    const archived = $('groups-archived').checked;
    const { status: st, data } = await call(`/api/admin/groups?limit=50&archived=${archived}&cursor=${encodeURIComponent(cursor ?? '')}`);
    if (st !== 200) {
        if (st !== 401) status(errorKey(data.error ?? String(st)), { code: data.error ?? st });
        return;
    }
    groupsCursor = data.next_cursor;
    if (archived) archivedList = fresh ? data.groups : [...archivedList, ...data.groups];
    else {
        archivedList = null;
        setGroups(fresh ? data.groups : [...knownGroups(), ...data.groups]);
    }
    drawGroups();
}

/** Archives a group or takes it out of the archive; it leaves the list shown. */
async function setArchived(g, archived) {
    const { status: st, data } = await call(`/api/admin/groups/${g.id}`, { method: 'PATCH', body: { archived } });
    if (st !== 200) {
        if (st !== 401) status(errorKey(data.error ?? String(st)), { code: data.error ?? st });
        return;
    }
    status(archived ? 'admin.archived_done' : 'admin.unarchived_done', { name: data.name });
    await loadGroups(true);
    $('groups-heading').focus();
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
    $('g-adhoc').checked = g?.adhoc_sessions ?? false;
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
        adhoc_sessions: $('g-adhoc').checked,
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

$('group-new').addEventListener('click', () => openGroup(null));
$('group-form').addEventListener('submit', saveGroup);
$('group-cancel').addEventListener('click', () => closeGroup(editing?.id));
$('groups-more').addEventListener('click', () => loadGroups(false));
$('groups-archived').addEventListener('change', () => loadGroups(true));
defineSection('groups', {
    load: () => {
        $('group-section').hidden = true;
        loadGroups(true);
    },
    redraw: drawGroups, // the edit buttons' labels name their group in the new words
});
