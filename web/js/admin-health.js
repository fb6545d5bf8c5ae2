// The console's health box (protocol section 12).

import { $, el, errorKey } from './dom.js';
import { t, tr } from './i18n.js';
import { call, defineSection } from './console.js';

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

$('health-refresh').addEventListener('click', loadHealth);
defineSection('health', { load: loadHealth });
