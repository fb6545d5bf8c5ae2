// The module graph of docs/modules.md, checked against the #includes of
// server/: a file reaches every header it includes and, through them, every
// header those include. Each rule below is one line of that document; a new
// #include that breaks one fails here with the chain that does.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';

const ROOT = process.env.KAMRAT_ROOT ?? path.resolve(import.meta.dirname, '../..');
const SERVER = path.join(ROOT, 'server');

const TRANSPORT = ['ws', 'wsrx', 'sendq', 'frame', 'http'];
// What the transport must never reach: rooms, the bus and the mirror are
// spoken to through the connection interface (conn.h) only.
const ABOVE_TRANSPORT = ['bus', 'remote', 'mirror', 'hold', 'room_int', 'moderation', 'gate', 'round', 'store', 'storeq'];
// The transport's own headers: only the transport and the wiring that
// starts it include them. api.c answers the HTTP requests http.c hands it.
const TRANSPORT_HEADERS = ['ws', 'wsrx', 'sendq', 'http'];
const WIRING = ['server', 'main'];
const TRANSPORT_HEADER_USERS = { http: ['api', 'joininfo'] };
// The store knows nothing above it: no connection, room, bus or server.
const ABOVE_STORE = ['conn', 'ws', 'wsrx', 'sendq', 'http', 'api', 'server', 'room', 'room_int', 'moderation', 'round', 'gate', 'bus', 'remote', 'mirror', 'hold', 'cluster'];
const isStore = (m) => m === 'store' || m.startsWith('store_') || m === 'db' || m.startsWith('db_');
// Rooms and the bus reach a client only through conn.h, never its carrier's internals.
const ROOMS = ['room', 'room_mirror', 'room_sanction', 'moderation', 'round', 'bus', 'remote', 'mirror', 'gate'];

/** Every file of server/ with the headers it includes directly. */
function readIncludes() {
    const direct = new Map();
    for (const f of fs.readdirSync(SERVER)) {
        if (!/\.[ch]$/.test(f)) continue;
        const text = fs.readFileSync(path.join(SERVER, f), 'utf8');
        const incs = [...text.matchAll(/^#include "([a-z0-9_]+)\.h"/gm)].map((m) => m[1]);
        direct.set(f, incs);
    }
    return direct;
}

/** The headers file reaches, each with the chain that reaches it. */
function reach(direct, file) {
    const chains = new Map();
    const queue = (direct.get(file) ?? []).map((h) => [h, [file, `${h}.h`]]);
    while (queue.length) {
        const [h, chain] = queue.shift();
        if (chains.has(h)) continue;
        chains.set(h, chain);
        for (const next of direct.get(`${h}.h`) ?? []) queue.push([next, [...chain, `${next}.h`]]);
    }
    return chains;
}

const direct = readIncludes();
const moduleOf = (f) => f.replace(/\.[ch]$/, '');

/** The chains by which the files of modules that pass `of` reach a header in `forbidden`. */
function reached(of, forbidden) {
    const bad = [];
    for (const f of direct.keys()) {
        if (!of(moduleOf(f))) continue;
        for (const [h, chain] of reach(direct, f)) if (forbidden.includes(h)) bad.push(chain.join(' -> '));
    }
    return bad;
}

test('the transport reaches no room, bus, mirror or store header', () => {
    assert.deepEqual(reached((m) => TRANSPORT.includes(m), ABOVE_TRANSPORT), []);
});

test('only the transport and the wiring include the transport\'s headers: no circle through it', () => {
    const bad = [];
    for (const f of direct.keys()) {
        const m = moduleOf(f);
        if (TRANSPORT.includes(m) || WIRING.includes(m)) continue;
        for (const h of direct.get(f)) {
            if (TRANSPORT_HEADERS.includes(h) && !(TRANSPORT_HEADER_USERS[h] ?? []).includes(m)) bad.push(`${f} -> ${h}.h`);
        }
    }
    assert.deepEqual(bad, []);
});

test('the store reaches nothing above it', () => {
    assert.deepEqual(reached(isStore, ABOVE_STORE), []);
});

test('rooms and the bus reach a client through conn.h only', () => {
    assert.deepEqual(reached((m) => ROOMS.includes(m), TRANSPORT_HEADERS), []);
});

test('the rules see the files they name', () => {
    for (const m of [...TRANSPORT, ...ROOMS, 'conn', 'store']) assert.ok(direct.has(`${m}.c`), `server/${m}.c`);
});
