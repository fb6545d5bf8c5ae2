// The console's attendance figures for funders (protocol section 12): a summary by
// month for every group or one, that group's sessions, and both as CSV files. Counts
// only: the server has nothing else to show.

import { $, el, setError, errorKey } from './dom.js';
import { locale, t, timeEl } from './i18n.js';
import { call, defineSection, download, fillGroupPick } from './console.js';

let asked = 0; // the newest request: an older answer arriving late is dropped

function query(format) {
    const q = new URLSearchParams({ period: $('t-month').value ? `${$('t-year').value}-${$('t-month').value}` : $('t-year').value });
    if ($('t-group').value) q.set('group', $('t-group').value);
    if (format) q.set('format', format);
    return q;
}

function periodLabel(period) {
    if (period.length === 4) return t('admin.t_whole_year_of', { year: period });
    const [y, m] = period.split('-').map(Number);
    return new Intl.DateTimeFormat(locale(), { year: 'numeric', month: 'long', timeZone: 'UTC' }).format(Date.UTC(y, m - 1, 1));
}

function summaryRow(group, p) {
    const tr0 = el('tr');
    tr0.append(el('td', null, group), el('td', null, periodLabel(p.period)),
        el('td', null, String(p.sessions_held)), el('td', null, String(p.participants)),
        el('td', null, p.sessions_held ? p.average : '–'), el('td', null, p.sessions_held ? p.median : '–'),
        el('td', null, String(p.largest_peak)));
    return tr0;
}

function sessionRow(s) {
    const tr0 = el('tr');
    const start = el('td');
    start.append(timeEl(s.starts_at));
    const state = s.held ? 'admin.t_state_held' : s.cancelled ? 'admin.t_state_cancelled' : 'admin.t_state_not_held';
    const n = (v) => (v === null ? '–' : String(v));
    tr0.append(start, el('td', null, t(state)), el('td', null, n(s.admitted)), el('td', null, n(s.peak)), el('td', null, n(s.leaders)));
    return tr0;
}

function failed(st, data) {
    if (st !== 401) setError($('attendance-error'), errorKey(data.error ?? String(st)), { code: data.error ?? st }, null);
}

let drawn = false; // the month names need the catalog's locale: drawn at the first show

async function load() {
    if (!drawn) {
        drawn = true;
        drawPickers();
        $('t-month').value = String(now.getMonth() + 1).padStart(2, '0');
    }
    const mine = ++asked;
    const group = $('t-group').value;
    const [sum, ses] = await Promise.all([
        call(`/api/admin/attendance/summary?${query()}`),
        group ? call(`/api/admin/attendance/sessions?${query()}`) : null,
    ]);
    if (mine !== asked) return;
    if (sum.status !== 200) return failed(sum.status, sum.data);
    if (ses && ses.status !== 200) return failed(ses.status, ses.data);
    setError($('attendance-error'), null, null, null);
    $('t-summary').replaceChildren(...sum.data.groups.flatMap((g) => g.periods.map((p) => summaryRow(g.group, p))));
    $('t-sessions-box').hidden = !ses;
    $('t-download-sessions').hidden = !ses;
    if (ses) {
        $('t-sessions').replaceChildren(...ses.data.sessions.map(sessionRow));
        $('t-sessions-none').hidden = ses.data.sessions.length > 0;
        $('t-sessions-table').hidden = ses.data.sessions.length === 0;
    }
}

async function save(kind) {
    const st = await download(`/api/admin/attendance/${kind}?${query('csv')}`);
    if (st !== 200) failed(st, { error: st === 0 ? 'network' : undefined });
}

function drawPickers() {
    fillGroupPick($('t-group'));
    const month = $('t-month');
    const m = month.value;
    const names = new Intl.DateTimeFormat(locale(), { month: 'long', timeZone: 'UTC' });
    month.replaceChildren(month.firstElementChild, ...Array.from({ length: 12 }, (_, i) => {
        const o = el('option', null, names.format(Date.UTC(2000, i, 1)));
        o.value = String(i + 1).padStart(2, '0');
        return o;
    }));
    month.value = m;
}

const now = new Date();
$('t-year').replaceChildren(...Array.from({ length: 5 }, (_, i) => {
    const y = String(now.getFullYear() - i);
    const o = el('option', null, y);
    o.value = y;
    return o;
}));
$('attendance-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    load();
});
$('t-download-summary').addEventListener('click', () => save('summary'));
$('t-download-sessions').addEventListener('click', () => save('sessions'));
document.addEventListener('groupschange', () => drawn && drawPickers());
defineSection('attendance', { load, redraw: () => {
    drawPickers();
    load();
} });
