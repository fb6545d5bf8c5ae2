// HAProxy in front of kamratd nodes, as the cluster suite's tests start it:
// dist/haproxy.cfg.example itself, with only what names the site rewritten
// (addresses, ports, the CA, the public name, the stats socket, the account and
// chroot). haproxy and the nodes are stopped by their PIDs.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { REPO, makeTempDir, prepareConfig, spawnProgram, startServer, waitFor } from '../integration/lib/harness.mjs';
import { clusterSection, found, redisSkip } from './lib.mjs';

const HAPROXY = process.env.HAPROXY ?? 'haproxy';
const EXAMPLE = path.join(REPO, 'dist/haproxy.cfg.example');
export const haproxySkip =
    redisSkip || (found(HAPROXY) ? false : `${HAPROXY} is not installed (Debian: haproxy; scripts/deps.sh installs it)`);

const HAPROXY_READY_MS = 8000;
const HAPROXY_STOP_MS = 3000;

/**
 * dist/haproxy.cfg.example for this machine: each [line, replacement] must be a
 * line of the example (null drops it); then the CA file and the public name.
 */
function haproxyConfig({ port, sock, ca, nodes }) {
    const edits = [
        ['    log /dev/log local0 info', '    log stderr format raw local0 info'],
        ['    stats socket /run/haproxy/admin.sock mode 660 level admin', `    stats socket ${sock} mode 600 level admin`],
        ['    user haproxy', null],
        ['    group haproxy', null],
        ['    chroot /var/lib/haproxy', null],
        ['    bind :443', `    bind 127.0.0.1:${port}`],
        ['    server helsinki-1 10.0.0.11:443', nodes.map((n) => `    server ${n.id} 127.0.0.1:${n.port}`).join('\n')],
        ['    server helsinki-2 10.0.0.12:443', null],
    ];
    const lines = fs.readFileSync(EXAMPLE, 'utf8').split('\n');
    for (const [from, to] of edits) {
        const i = lines.indexOf(from);
        assert.notEqual(i, -1, `dist/haproxy.cfg.example has no line "${from}"`);
        if (to === null) lines.splice(i, 1);
        else lines[i] = to;
    }
    const text = lines.join('\n');
    assert.ok(text.includes('/etc/ssl/certs/ca-certificates.crt') && text.includes('chat.example.org'));
    return text.replaceAll('/etc/ssl/certs/ca-certificates.crt', ca).replaceAll('chat.example.org', 'localhost');
}

/** One command on HAProxy's stats socket; resolves the answer. */
function statsCommand(sock, command) {
    return new Promise((resolve, reject) => {
        let out = '';
        const s = net.createConnection(sock, () => s.write(`${command}\n`));
        s.setTimeout(2000, () => s.destroy(new Error(`${command}: no answer on ${sock}`)));
        s.on('data', (d) => (out += d));
        s.on('end', () => resolve(out));
        s.on('error', reject);
    });
}

/** Each server of the backend by name: its status ("UP", "DOWN", "UP 1/2", ...). */
export async function serverStatus(hap) {
    const [head, ...rows] = (await statsCommand(hap.sock, 'show stat')).trim().split('\n');
    const cols = head.replace(/^# /, '').split(',');
    const status = {};
    for (const row of rows) {
        const f = Object.fromEntries(row.split(',').map((v, i) => [cols[i], v]));
        if (f.pxname === 'kamratd' && f.svname !== 'BACKEND') status[f.svname] = f.status;
    }
    return status;
}

/** Starts haproxy -db on port with the example adapted to nodes; resolves once every node is UP. */
export async function startHaproxy(port, nodes, ca) {
    const dir = makeTempDir('kamrat-haproxy-');
    const hap = { port, sock: path.join(dir, 'admin.sock'), cfg: path.join(dir, 'haproxy.cfg') };
    fs.writeFileSync(hap.cfg, haproxyConfig({ port: hap.port, sock: hap.sock, ca, nodes }));
    hap.proc = spawnProgram(HAPROXY, ['-f', hap.cfg, '-db']);
    let exited = null;
    hap.proc.done.then((r) => (exited = r), (e) => (exited = { stderr: e.message }));
    /** Stops this haproxy by its PID (SIGKILL after HAPROXY_STOP_MS). */
    hap.stop = async () => {
        hap.proc.kill('SIGTERM');
        const timer = setTimeout(() => hap.proc.kill('SIGKILL'), HAPROXY_STOP_MS);
        await hap.proc.done.catch(() => {});
        clearTimeout(timer);
    };
    try {
        await waitFor(
            async () => {
                if (exited) throw new Error(`haproxy exited: ${exited.code}\n${exited.stderr}`);
                const st = await serverStatus(hap).catch(() => ({}));
                return nodes.every((n) => st[n.id] === 'UP');
            },
            { timeout: HAPROXY_READY_MS, interval: 100, desc: 'haproxy with every node UP' },
        );
    } catch (e) {
        await hap.stop();
        throw e;
    }
    return hap;
}

/** A kamratd node on redis with the origin HAProxy's clients use. */
export async function startNode(redis, id, { origin, certsOf, extra = '' }) {
    const cfg = await prepareConfig({
        server: { origin },
        // Every node holds the certificate of the public name (here: node-a's).
        tls: certsOf && { cert: path.join(certsOf.certDir, 'server.pem'), key: path.join(certsOf.certDir, 'server.key') },
        // Behind HAProxy every client comes from HAProxy's address.
        limits: { max_conns_per_address: 1000, max_websockets_per_address: 1000 },
        extra: [clusterSection(redis, id), extra].join('\n\n'),
    });
    const server = await startServer({ config: certsOf ? { ...cfg, ca: certsOf.ca } : cfg });
    return Object.assign(server, { id });
}
