// The console's audit log: filters by group, actor and action; paged (protocol
// section 12).

import { $, el, setError, errorKey } from './dom.js';
import { timeEl } from './i18n.js';
import { call, defineSection, fillGroupPick } from './console.js';

let auditCursor = null;
let auditAsked = 0; // the newest audit request: an older answer arriving late is dropped

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


$('audit-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    loadAudit(true);
});
$('audit-more').addEventListener('click', () => loadAudit(false));
document.addEventListener('groupschange', () => fillGroupPick($('a-group')));
defineSection('audit', { load: () => loadAudit(true) });
