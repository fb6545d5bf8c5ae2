// Invites of a group (protocol section 12, Invites), one panel for the coordinators'
// console and the leader's page: pick a group, make an invite, copy its link or show
// it as a big QR code for someone sitting next to you, list the group's invites
// (never their codes) and revoke them. The link and its QR code come once, in the
// answer that makes the invite; they stay on screen until Done and are kept nowhere.

import { $, el, button, setBusy, setError, errorKey, openDialog } from './dom.js';
import { t, tr, when } from './i18n.js';

const SVG = 'http://www.w3.org/2000/svg';
const PAGE = 20;

/**
 * The QR code's SVG as the server made it (one light rect, one dark path, a square
 * viewBox) rebuilt from those parts alone, so nothing else in the text can reach the
 * page. Returns the <svg>, or null when the text is not that shape.
 */
export function qrElement(text) {
    const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
    const root = doc.documentElement;
    const view = /^0 0 (\d{1,3}) \1$/.exec(root?.getAttribute('viewBox') ?? '');
    const path = root?.querySelector('path')?.getAttribute('d') ?? '';
    if (root.namespaceURI !== SVG || root.localName !== 'svg' || !view || !/^(M\d+ \d+h\d+v1h-\d+z)+$/.test(path)) return null;
    const svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('viewBox', `0 0 ${view[1]} ${view[1]}`);
    svg.setAttribute('shape-rendering', 'crispEdges');
    svg.setAttribute('role', 'img');
    svg.setAttribute('class', 'qr');
    const rect = document.createElementNS(SVG, 'rect');
    rect.setAttribute('width', view[1]);
    rect.setAttribute('height', view[1]);
    rect.setAttribute('fill', '#fff');
    const dark = document.createElementNS(SVG, 'path');
    dark.setAttribute('d', path);
    dark.setAttribute('fill', '#000');
    svg.append(rect, dark);
    return svg;
}

/** A labelled field: <p class="field"><label>…</label>control</p>. */
function field(id, key, control) {
    const label = tr(el('label'), key);
    label.htmlFor = id;
    control.id = id;
    const p = el('p', 'field');
    p.append(label, control);
    return p;
}

function option(value, key) {
    const o = tr(el('option'), key);
    o.value = value;
    return o;
}

/**
 * Builds the panel into `root`. `prefix` makes its element ids unique on the page;
 * `call(path, {method, body})` is the page's API request with its login's token,
 * resolving {status, data}; a 401 is the page's to handle. Returns {load}: load()
 * (again) reads the groups the login may invite to and the first group's invites.
 */
export function invitesPanel(root, prefix, call) {
    const id = (name) => `${prefix}-${name}`;
    let invites = [];
    let cursor = null;
    let created = null; // the invite just made, with its link and QR code, until Done

    const group = el('select');
    const kind = el('select');
    kind.append(option('group', 'invites.kind_group'), option('personal', 'invites.kind_personal'));
    const days = el('input');
    Object.assign(days, { type: 'number', min: '1', max: '90', step: '1', inputmode: 'numeric', value: '7' });
    const error = el('p', 'error');
    error.id = id('error');
    error.setAttribute('role', 'alert');
    for (const c of [group, kind, days]) c.setAttribute('aria-describedby', error.id);
    const create = tr(el('button'), 'invites.create');
    create.type = 'submit';
    create.id = id('create');
    const form = el('form', 'invite-form');
    form.noValidate = true;
    const actions = el('div', 'actions');
    actions.append(create);
    form.append(field(id('group'), 'invites.group', group), field(id('kind'), 'invites.kind', kind),
        field(id('days'), 'invites.days', days), error, actions);
    const none = tr(el('p', 'hint'), 'invites.no_groups');
    none.hidden = true;

    // The new invite: its link in a read-only field (the copy fallback), copy, QR, done.
    const fresh = el('div', 'invite-new');
    fresh.id = id('new');
    fresh.hidden = true;
    const freshHeading = tr(el('h4'), 'invites.new_heading');
    freshHeading.id = id('new-heading');
    freshHeading.tabIndex = -1;
    const link = el('input');
    Object.assign(link, { readOnly: true, spellcheck: false, dir: 'ltr' });
    link.setAttribute('autocomplete', 'off');
    const copy = button('invites.copy', 'copy');
    copy.id = id('copy');
    const showQr = button('invites.show_qr', 'qr');
    showQr.id = id('show-qr');
    const done = button('invites.done', 'done', 'quiet');
    done.id = id('done');
    const copied = el('p', 'hint');
    copied.id = id('copied');
    copied.setAttribute('role', 'status');
    const freshActions = el('div', 'actions');
    freshActions.append(copy, showQr, done);
    fresh.append(freshHeading, tr(el('p', 'hint'), 'invites.once'), field(id('link'), 'invites.link', link), freshActions, copied);

    // The QR code, big, in a dialog of its own.
    const dialog = el('dialog', 'qr-dialog');
    dialog.id = id('qr-dialog');
    const qrHeading = tr(el('h2'), 'invites.qr_heading');
    qrHeading.id = id('qr-heading');
    dialog.setAttribute('aria-labelledby', qrHeading.id);
    const qrBox = el('div', 'qr-box');
    const close = button('dialog.close', 'close');
    close.id = id('qr-close');
    close.addEventListener('click', () => dialog.close());
    dialog.append(qrHeading, qrBox, close);
    dialog.addEventListener('close', () => qrBox.replaceChildren());
    document.body.append(dialog);

    const listHeading = tr(el('h4'), 'invites.list_heading');
    const list = el('ul', 'plain invite-list');
    list.id = id('list');
    const empty = tr(el('p', 'hint'), 'invites.none');
    const more = tr(el('button', 'quiet'), 'invites.more');
    more.type = 'button';
    more.hidden = true;
    const listError = el('p', 'error');
    listError.setAttribute('role', 'alert');
    const note = el('p', 'hint');
    note.setAttribute('role', 'status');
    root.append(none, form, fresh, listHeading, listError, note, list, empty, more);

    const groupId = () => Number(group.value);

    function forget() {
        created = null;
        link.value = '';
        copied.replaceChildren();
        fresh.hidden = true;
    }

    function item(inv) {
        const li = el('li', 'invite-item');
        li.dataset.invite = inv.id;
        li.dataset.state = inv.state;
        const about = el('div');
        about.id = id(`invite-${inv.id}`);
        about.append(
            tr(el('p', 'invite-title'), 'invites.title', { id: inv.id, kind: t(`invites.kind_${inv.kind}_short`), state: t(`invites.state_${inv.state}`) }),
            tr(el('p', 'hint'), 'invites.facts', {
                created: when(inv.created_at),
                expires: when(inv.expires_at),
                by: inv.created_by ?? t('invites.by_unknown'),
            }),
        );
        li.append(about);
        if (inv.state === 'active') {
            const revoke = button('invites.revoke', 'revoke', 'quiet small');
            revoke.setAttribute('aria-label', t('invites.revoke_named', { id: inv.id }));
            revoke.setAttribute('aria-describedby', about.id);
            revoke.addEventListener('click', () => revokeInvite(inv, revoke));
            li.append(revoke);
        }
        return li;
    }

    function draw() {
        list.replaceChildren(...invites.map(item));
        empty.hidden = invites.length > 0 || !group.value;
        more.hidden = cursor === null;
    }

    function failed(box, st, data) {
        if (st === 401) return;
        const code = data.error ?? (st ? String(st) : 'network');
        setError(box, errorKey(code), { code });
    }

    async function loadInvites(fresh) {
        if (!group.value) {
            invites = [];
            cursor = null;
            draw();
            return;
        }
        const asked = group.value;
        const q = new URLSearchParams({ limit: String(PAGE), cursor: fresh ? '' : cursor ?? '' });
        const { status: st, data } = await call(`/api/admin/groups/${asked}/invites?${q}`);
        if (asked !== group.value) return; // another group was picked meanwhile
        if (st !== 200) {
            failed(listError, st, data);
            return;
        }
        setError(listError, null);
        invites = fresh ? data.invites : [...invites, ...data.invites];
        cursor = data.next_cursor;
        draw();
    }

    async function loadGroups() {
        const all = [];
        for (let next = ''; next !== null;) {
            const { status: st, data } = await call(`/api/admin/invites/groups?limit=50&cursor=${encodeURIComponent(next)}`);
            if (st !== 200) {
                failed(listError, st, data);
                return;
            }
            all.push(...data.groups);
            next = data.next_cursor;
        }
        const chosen = group.value;
        group.replaceChildren(...all.map((g) => {
            const o = el('option', null, g.name);
            o.value = g.id;
            return o;
        }));
        if (all.some((g) => String(g.id) === chosen)) group.value = chosen;
        none.hidden = all.length > 0;
        form.hidden = all.length === 0;
        listHeading.hidden = all.length === 0;
    }

    async function createInvite(ev) {
        ev.preventDefault();
        const n = Number(days.value);
        if (!Number.isInteger(n) || n < 1 || n > 90) {
            setError(error, 'invites.err_days', { code: 'invalid' }, days, [days]);
            return;
        }
        forget();
        setBusy(create, true, 'invites.creating', 'invites.create');
        const { status: st, data } = await call(`/api/admin/groups/${groupId()}/invites`, {
            method: 'POST',
            body: { kind: kind.value, expires_days: n },
        });
        setBusy(create, false, 'invites.creating', 'invites.create');
        if (st !== 201) {
            if (st !== 401) {
                const code = data.error ?? String(st);
                setError(error, data.field === 'expires_days' ? 'invites.err_days' : errorKey(code), { code },
                    data.field === 'expires_days' ? days : null, [days]);
            }
            return;
        }
        setError(error, null, null, null, [days]);
        created = data;
        link.value = data.link;
        fresh.hidden = false;
        freshHeading.focus();
        loadInvites(true);
    }

    async function copyLink() {
        if (!created) return;
        try {
            await navigator.clipboard.writeText(created.link);
            tr(copied, 'invites.copied');
        } catch {
            // No clipboard (an older browser, no permission, not HTTPS): the field is
            // selected for the keyboard's or the menu's own copy.
            link.focus();
            link.select();
            tr(copied, 'invites.copy_manual');
        }
    }

    function showCode() {
        const svg = created && qrElement(created.qr_svg);
        if (!svg) return;
        svg.setAttribute('aria-label', t('invites.qr_label'));
        qrBox.replaceChildren(svg);
        openDialog(dialog);
    }

    async function revokeInvite(inv, b) {
        b.disabled = true;
        note.replaceChildren();
        const { status: st, data } = await call(`/api/admin/groups/${inv.group_id}/invites/${inv.id}`, { method: 'DELETE' });
        if (st === 200) {
            setError(listError, null);
            tr(note, 'invites.revoked_done', { id: inv.id });
            invites = invites.map((x) => (x.id === inv.id ? data : x));
            draw();
            const again = list.querySelector(`[data-invite="${inv.id}"]`);
            again.tabIndex = -1; // its button went with the revoke: the focus stays at the item
            again.focus();
            return;
        }
        b.disabled = false;
        if (st === 409) setError(listError, 'invites.err_revoked', { code: data.error });
        else failed(listError, st, data);
    }

    form.addEventListener('submit', createInvite);
    copy.addEventListener('click', copyLink);
    showQr.addEventListener('click', showCode);
    done.addEventListener('click', () => {
        forget();
        create.focus();
    });
    group.addEventListener('change', () => {
        forget();
        loadInvites(true);
    });
    more.addEventListener('click', () => loadInvites(false));
    document.addEventListener('langchange', draw); // the items' words and dates

    return {
        async load() {
            forget();
            setError(listError, null);
            note.replaceChildren();
            await loadGroups();
            await loadInvites(true);
        },
    };
}
