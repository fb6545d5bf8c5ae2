// The console's sessions of a group (protocol section 12, "Schedules, sessions and
// bans of a group"): its weekly schedules (add, remove), its upcoming sessions (add a
// one-off, cancel) and its past ones. Times are typed in a session's zone, the
// viewer's by default, and shown in the viewer's locale and zone; the server keeps
// them across DST as kamratctl does.

import { $, el, setBusy, setError, errorKey } from './dom.js';
import { locale, t, tr, timeEl, when } from './i18n.js';
import { call, confirmAction, defineSection, failed, groupPicker, pagedList, status } from './console.js';

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
const TIME = /^([01]\d|2[0-3]):[0-5]\d$/;

// The fields of each form, by the name the server gives a field it refuses.
const SCHEDULE_INPUTS = { weekday: 'sc-weekday', time: 'sc-time', duration_min: 'sc-duration', lobby_min: 'sc-lobby', tz: 'sc-tz' };
const ONEOFF_INPUTS = { start: 'so-date', time: 'so-time', duration_min: 'so-duration', tz: 'so-tz' };
// Refusals with words of their own here.
const SESSION_ERRORS = { wrong_state: 'admin.err_session_state', not_found: 'admin.err_gone', archived: 'admin.err_archived' };

const picker = groupPicker($('s-group'), () => loadGroup());
const base = () => `/api/admin/groups/${picker.id()}`;

/** A weekday's name in the page's language (2024-01-01 was a Monday). */
function weekdayName(day) {
    const date = Date.UTC(2024, 0, 1 + WEEKDAYS.indexOf(day), 12);
    return new Intl.DateTimeFormat(locale(), { weekday: 'long', timeZone: 'UTC' }).format(date);
}

/** A local date ("YYYY-MM-DD") in the page's language. */
function dayName(day) {
    return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeZone: 'UTC' })
        .format(Date.parse(`${day}T12:00:00Z`));
}

function smallButton(key, describedBy, onClick) {
    const b = tr(el('button', 'quiet small'), key);
    b.type = 'button';
    b.setAttribute('aria-describedby', describedBy); // its words stay its name (WCAG 2.5.3)
    b.addEventListener('click', onClick);
    return b;
}

// ---- weekly schedules ----

const scheduleText = (sc) => t('admin.schedule_line', { weekday: weekdayName(sc.weekday), time: sc.time, duration: sc.duration_min });

function scheduleItem(sc) {
    const li = el('li', 'admin-item wrap');
    li.dataset.schedule = sc.id;
    const about = el('div');
    about.id = `sc-about-${sc.id}`;
    const span = sc.until ? t('admin.schedule_until', { from: dayName(sc.from), until: dayName(sc.until) })
        : t('admin.schedule_from', { from: dayName(sc.from) });
    about.append(el('strong', null, scheduleText(sc)),
        el('p', 'hint', `${sc.tz} · ${t('admin.lobby_min', { n: sc.lobby_min })} · ${span}`));
    li.append(about, smallButton('admin.schedule_remove', about.id, () => removeSchedule(sc)));
    return li;
}

const schedules = pagedList({
    list: 'schedules', none: 'schedules-none', more: 'schedules-more', key: 'schedules', limit: 50,
    path: () => `${base()}/schedules`, item: scheduleItem,
});

async function removeSchedule(sc) {
    if (!await confirmAction('admin.schedule_remove_confirm', { what: scheduleText(sc) }, 'admin.schedule_remove')) return;
    const { status: st, data } = await call(`${base()}/schedules/${sc.id}`, { method: 'DELETE' });
    if (st !== 200) failed(st, data, SESSION_ERRORS);
    else status('admin.schedule_removed', { what: scheduleText(sc) });
    await Promise.all([schedules.load(), upcoming.load()]);
    $('schedules-heading').focus();
}

// ---- sessions ----

function stateText(s) {
    if (s.state === 'ended') return t(s.held ? 'admin.session_held' : 'admin.session_not_held');
    return t(`session.${s.state}`);
}

function sessionItem(s) {
    const li = el('li', 'admin-item wrap');
    li.dataset.session = s.id;
    li.dataset.state = s.state;
    const about = el('div');
    about.id = `s-about-${s.id}`;
    const times = el('strong');
    times.append(timeEl(s.starts_at, s.ends_at));
    const facts = [stateText(s), t(s.schedule_id === null ? 'admin.session_oneoff' : 'admin.session_weekly')];
    // Typed in another zone: its own local time too, as it was planned.
    // ("2026-03-05 18:00 EET": the zone's abbreviation goes, its name says more.)
    if (s.tz !== ZONE) facts.push(t('admin.session_local', { time: s.local_start.split(' ').slice(0, 2).join(' '), tz: s.tz }));
    about.append(times, el('p', 'hint', facts.join(' · ')));
    li.append(about);
    if (['scheduled', 'lobby', 'running'].includes(s.state)) {
        li.append(smallButton('admin.session_cancel', about.id, () => cancelSession(s)));
    }
    return li;
}

const upcoming = pagedList({
    list: 'upcoming', none: 'upcoming-none', more: 'upcoming-more', key: 'sessions',
    path: () => `${base()}/sessions?when=upcoming`, item: sessionItem,
});
const past = pagedList({
    list: 'past', none: 'past-none', more: 'past-more', key: 'sessions',
    path: () => `${base()}/sessions?when=past`, item: sessionItem,
});

const sessionWhen = (s) => when(s.starts_at, s.ends_at);

async function cancelSession(s) {
    const open = s.state !== 'scheduled';
    if (!await confirmAction(open ? 'admin.session_cancel_open' : 'admin.session_cancel_confirm', { when: sessionWhen(s) },
        'admin.session_cancel')) return;
    const { status: st, data } = await call(`${base()}/sessions/${s.id}/cancel`, { method: 'POST' });
    if (st !== 200) failed(st, data, SESSION_ERRORS);
    else status('admin.session_cancelled', { when: sessionWhen(s) });
    await Promise.all([upcoming.load(), past.load()]);
    $('upcoming-heading').focus();
}

// ---- the forms ----

/** A refused form: the server's field, else the code, in words on the form. */
function refused(box, inputs, st, data) {
    if (st === 401) return;
    const code = data.error ?? String(st);
    const field = inputs[data.field] ? data.field : null;
    const key = field && code === 'invalid' ? `admin.err_f_${field}` : SESSION_ERRORS[code] ?? errorKey(code);
    setError(box, key, { code }, field ? $(inputs[field]) : null, Object.values(inputs).map($));
}

/** The number in input id, or NaN. */
const number = (id) => (/^\d+$/.test($(id).value.trim()) ? Number($(id).value) : NaN);

/**
 * Sends a form's body to path once the checks that need no server pass (each
 * [field, ok]; the first that fails is marked). form: {error, button, key, inputs
 * (field -> input id)}. Resolves the made thing, or null when it was refused.
 */
async function post(form, path, body, checks) {
    const box = $(form.error);
    const wrong = checks.find(([, ok]) => !ok)?.[0];
    if (wrong) {
        refused(box, form.inputs, 400, { error: 'invalid', field: wrong });
        return null;
    }
    setBusy($(form.button), true, 'admin.saving', form.key);
    const { status: st, data } = await call(path, { method: 'POST', body });
    setBusy($(form.button), false, 'admin.saving', form.key);
    if (st !== 201) {
        refused(box, form.inputs, st, data);
        return null;
    }
    setError(box, null, null, null, Object.values(form.inputs).map($));
    return data;
}

const SCHEDULE_FORM = { error: 'schedule-error', button: 'schedule-add', key: 'admin.schedule_add', inputs: SCHEDULE_INPUTS };
const ONEOFF_FORM = { error: 'oneoff-error', button: 'oneoff-add', key: 'admin.oneoff_add', inputs: ONEOFF_INPUTS };

async function addSchedule(ev) {
    ev.preventDefault();
    const body = {
        weekday: $('sc-weekday').value,
        time: $('sc-time').value,
        duration_min: number('sc-duration'),
        lobby_min: number('sc-lobby'),
        tz: $('sc-tz').value.trim(),
    };
    const made = await post(SCHEDULE_FORM, `${base()}/schedules`, body, [
        ['time', TIME.test(body.time)],
        ['duration_min', body.duration_min >= 15 && body.duration_min <= 600],
        ['lobby_min', body.lobby_min >= 0 && body.lobby_min <= 120],
        ['tz', body.tz !== ''],
    ]);
    if (!made) return;
    status('admin.schedule_added', { what: scheduleText(made), n: made.sessions_added ?? 0 });
    $('sc-time').value = '';
    await Promise.all([schedules.load(), upcoming.load()]);
}

async function addOneOff(ev) {
    ev.preventDefault();
    const date = $('so-date').value;
    const time = $('so-time').value;
    const body = { start: `${date} ${time}`, duration_min: number('so-duration'), tz: $('so-tz').value.trim() };
    const made = await post(ONEOFF_FORM, `${base()}/sessions`, body, [
        ['start', /^\d{4}-\d\d-\d\d$/.test(date)],
        ['time', TIME.test(time)],
        ['duration_min', body.duration_min >= 15 && body.duration_min <= 600],
        ['tz', body.tz !== ''],
    ]);
    if (!made) return;
    status('admin.session_added', { when: sessionWhen(made) });
    $('so-date').value = '';
    $('so-time').value = '';
    await upcoming.load();
}

// ---- the section ----

function drawWeekdays() {
    const pick = $('sc-weekday');
    const before = pick.value || 'mon';
    pick.replaceChildren(...WEEKDAYS.map((d) => {
        const o = el('option', null, weekdayName(d));
        o.value = d;
        return o;
    }));
    pick.value = before;
}

/** The zones the browser knows, for the zone fields to suggest. */
function fillZones() {
    const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [ZONE];
    $('tz-names').replaceChildren(...zones.map((z) => {
        const o = el('option');
        o.value = z;
        return o;
    }));
    $('sc-tz').value = ZONE;
    $('so-tz').value = ZONE;
}

/** The picked group's schedules and sessions; with no group, a word on where to add one. */
async function loadGroup() {
    const some = picker.id() !== '';
    $('s-body').hidden = !some;
    $('s-group').parentElement.hidden = !some;
    $('s-no-groups').hidden = some;
    if (some) await Promise.all([schedules.load(), upcoming.load(), past.load()]);
}

function redraw() {
    drawWeekdays();
    schedules.draw();
    upcoming.draw();
    past.draw();
}

$('schedule-form').addEventListener('submit', addSchedule);
$('oneoff-form').addEventListener('submit', addOneOff);
fillZones();
document.addEventListener('groupschange', () => {
    if (picker.fill() && !$('sessions-section').hidden) loadGroup();
});
defineSection('sessions', {
    load: () => {
        drawWeekdays();
        picker.fill();
        loadGroup();
    },
    redraw, // weekday names and the lists' words in the new language
});
