// A real session on three kamratd nodes behind HAProxy, with the store on one
// throw-away PostgreSQL cluster (tests/pg/pgtmp.sh) and the bus on one
// redis-server, everything on loopback and stopped by PID: the leader logs in
// through HAProxy and enters through whichever node HAProxy picks, participants
// come with the group invite, they talk; then the room's home node is killed
// (SIGKILL) and the session goes on on another node with nothing acknowledged
// lost, and a mute of someone who had left still holds when they come back
// (the room's sanctions are in its copy). Skipped when PostgreSQL's server binaries, redis-server or haproxy are
// missing.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after } from 'node:test';
import {
    REPO, connect, ctl, delay, enter, expectError, freePort, health, leaderLogin, participantKey, prepareConfig, resume, setUpGroup,
    startServer, test, uid, waitFor,
} from '../integration/lib/harness.mjs';
import { haproxySkip, serverStatus, startHaproxy, startNode } from './haproxy.mjs';
import { clusterSection, homeNode, redisSkip, startRedis } from './lib.mjs';

const PGTMP = path.join(REPO, 'tests/pg/pgtmp.sh');
const started = spawnSync(PGTMP, ['start', String(process.pid)], { encoding: 'utf8', timeout: 60000 });
const pgSkip = started.status === 77 ? started.stdout.trim() : false;
if (!pgSkip && started.status !== 0) throw new Error(`pgtmp.sh start: ${started.status} ${started.stderr}`);
const [pgDir, pgPassword, conninfo] = pgSkip ? [] : started.stdout.trim().split('\t');
after(() => {
    if (pgDir) spawnSync(PGTMP, ['stop', pgDir], { timeout: 30000 });
});
const skip = pgSkip || haproxySkip;
const storeSkip = pgSkip || redisSkip;

const TTL_MS = 3000; // server/cluster.c
const NODES = ['node-a', 'node-b', 'node-c'];

/** The [store] section of every node, and a file with the password. */
function storeSection(dir) {
    const passwordFile = path.join(dir, 'pg-password');
    fs.writeFileSync(passwordFile, `${pgPassword}\n`, { mode: 0o600 });
    return `[store]\nengine = postgresql\npostgresql = ${conninfo}\npostgresql_password_file = ${passwordFile}`;
}

/**
 * Takes old's membership up again through HAProxy as the web client does:
 * jittered backoff, then resume with its token and the last seq it saw.
 */
async function comeBack(front, old, deadline) {
    const seen = Math.max(old.welcome.seq, ...old.events().map((e) => e.seq));
    for (let wait = 100; ; wait = Math.min(wait * 2, 1000)) {
        await delay(wait / 2 + Math.random() * wait);
        try {
            const r = await resume(front, { token: old.token, epoch: old.epoch, after_seq: seen, label: old.label });
            if (r.reply.type === 'welcome') return r;
            r.client.terminate();
            if (Date.now() > deadline) throw new Error(`resume answered ${JSON.stringify(r.reply)}`);
        } catch (e) {
            if (Date.now() > deadline) throw new Error(`${old.label}: no way back: ${e.message}`);
        }
    }
}

test('a session on three nodes behind HAProxy survives the loss of its home node', { skip, timeout: 120000 }, async (t) => {
    const redis = await startRedis();
    const nodes = [];
    let hap = null;
    try {
        const hapPort = await freePort();
        const origin = `https://localhost:${hapPort}`;
        const dir = (await prepareConfig()).dir;
        const store = storeSection(dir);
        for (const id of NODES) {
            nodes.push(await startNode(redis, id, { origin, certsOf: nodes[0], extra: store }));
        }
        hap = await startHaproxy(hapPort, nodes, path.join(nodes[0].certDir, 'ca.pem'));
        for (const s of nodes) {
            await waitFor(
                async () => {
                    const c = (await health(s)).cluster;
                    return c.live_nodes === 3 && c.bus === 'ok';
                },
                { timeout: 8000, interval: 100, desc: `${s.id}: three live nodes, the bus up` },
            );
            assert.doesNotMatch(s.logs(), /cluster_store_not_shared/);
        }
        const front = { port: hapPort, ca: nodes[0].ca, origin };
        // kamratctl on any node's configuration reaches the one database.
        const g = await setUpGroup(nodes[0], { group: uid('Ryhmä '), leaders: ['pia'] });
        const home = nodes.find((s) => s.id === homeNode(`#${g.session}`, NODES));

        // The leader logs in through HAProxy, and enters through it too: most
        // likely another node than the one that took the login.
        const token = await leaderLogin(front, 'pia');
        const leader = await enter(front, { token, session: g.session }, { label: 'pia' });
        assert.equal(leader.reply.type, 'welcome', JSON.stringify(leader.reply));
        assert.equal(leader.reply.role, 'leader');
        const people = [];
        for (const name of ['Sol', 'Ilmo', 'Dana', 'Kai', 'Ruth']) {
            const p = await enter(front, { invite: g.code, name }, { label: name });
            assert.equal(p.reply.type, 'welcome', JSON.stringify(p.reply));
            assert.equal(p.reply.state, 'lobby');
            people.push(p.client);
        }
        const spread = await Promise.all(nodes.map(async (s) => (await health(s)).connections));
        t.diagnostic(`connections per node: ${spread.join(', ')}; home ${home.id}`);
        assert.ok(spread.filter((n) => n > 0).length >= 2, 'HAProxy used several nodes');
        assert.equal((await leader.client.request({ type: 'open' })).type, 'ack');
        for (const p of people) {
            await p.next((m) => m.type === 'welcome' || (m.type === 'state' && m.state === 'open'), 5000);
            assert.equal((await p.request({ type: 'agree' })).type, 'ack');
        }
        const everyone = [leader.client, ...people];
        const acked = [];
        for (const c of everyone) {
            const id = uid('m');
            const ack = await c.sayAndWait(`${c.label} before`, id);
            assert.equal(ack.type, 'ack', JSON.stringify(ack));
            acked.push({ c, id, seq: ack.seq });
        }
        for (const c of everyone) await c.next({ type: 'message', seq: acked.at(-1).seq }, 5000);

        // Someone is muted and leaves before the home is lost.
        const key = participantKey();
        const muted = await enter(front, { invite: g.code, name: 'Vesa', key }, { label: 'Vesa' });
        assert.equal(muted.reply.state, 'open', JSON.stringify(muted.reply));
        const mute = await leader.client.request({ type: 'mute', member: muted.reply.member });
        assert.equal(mute.type, 'ack', JSON.stringify(mute));
        await muted.client.next({ type: 'mute' }, 5000);
        assert.equal((await muted.client.request({ type: 'leave' })).type, 'ack');
        // A message's ack waits for its copy in Redis, which comes after the room's state.
        assert.equal((await leader.client.sayAndWait('Vesa lähti')).type, 'ack');

        await home.stop('SIGKILL');
        const t0 = Date.now();
        for (const c of everyone) await c.expectClose(TTL_MS + 4000);
        const back = await Promise.all(everyone.map((c) => comeBack(front, c, Date.now() + TTL_MS + 15000)));
        t.diagnostic(`all ${back.length} back ${Date.now() - t0} ms after the kill`);
        for (const [i, { reply, client }] of back.entries()) {
            assert.equal(reply.resumed, true);
            assert.equal(reply.gap, false, `${client.label}: the copy had every event`);
            const dup = await client.sayAndWait(`${everyone[i].label} before`, acked[i].id);
            assert.equal(dup.duplicate, true, `${client.label}: ${JSON.stringify(dup)}`);
            assert.equal(dup.seq, acked[i].seq);
        }
        const newHome = (await Promise.all(nodes.filter((s) => s !== home).map(async (s) => [s, (await health(s)).rooms])))
            .filter(([, n]) => n > 0);
        assert.equal(newHome.length, 1, 'one survivor holds the room');
        // The mute of the person who left came along: back under a new name, still muted.
        const again = await enter(front, { invite: g.code, name: 'Vesa taas', key }, { label: 'Vesa again' });
        assert.equal(again.reply.type, 'welcome', JSON.stringify(again.reply));
        assert.deepEqual(again.reply.muted, { until: null });
        assert.equal((await again.client.request({ type: 'agree' })).type, 'ack');
        const refused = await again.client.sayAndWait('saanko nyt?');
        assert.equal(refused.code, 'muted', JSON.stringify(refused));
        // The leader is still in control there, and the room still talks.
        const after = await back[0].client.request({ type: 'lock', on: true });
        assert.equal(after.type, 'ack', JSON.stringify(after));
        const last = await back[1].client.sayAndWait('after the move');
        assert.equal(last.type, 'ack');
        for (const { client } of back) await client.next({ type: 'message', seq: last.seq }, 5000);
        // The room moves faster than HAProxy's checks mark the node down.
        await waitFor(async () => (await serverStatus(hap))[home.id] === 'DOWN', {
            timeout: 10000,
            interval: 200,
            desc: `HAProxy to mark ${home.id} DOWN`,
        });
    } finally {
        if (hap) await hap.stop();
        for (const s of nodes) if (s.alive()) await s.stop();
        await redis.stop();
    }
});

test('a leader taken off the group, or given a new password, is cut at once though the room lives on another node: 4401, no resume, no login anywhere', { skip: storeSkip, timeout: 60000 }, async () => {
    const redis = await startRedis();
    const nodes = [];
    try {
        const store = storeSection((await prepareConfig()).dir);
        for (const id of NODES) {
            nodes.push(Object.assign(await startServer({ extra: [clusterSection(redis, id), store].join('\n\n') }), { id }));
        }
        for (const s of nodes) {
            await waitFor(async () => (await health(s)).cluster.live_nodes === 3, { timeout: 8000, interval: 100, desc: `${s.id}: three live nodes` });
        }
        const g = await setUpGroup(nodes[0], { group: uid('Ryhmä '), leaders: ['lotta', 'maija'] });
        const edge = nodes.find((s) => s.id !== homeNode(`#${g.session}`, NODES));
        const enterOn = async (name) => {
            const token = await leaderLogin(edge, name);
            const seat = await enter(edge, { token, session: g.session }, { label: name });
            assert.equal(seat.reply.role, 'leader', JSON.stringify(seat.reply));
            return { token, ...seat };
        };
        const lotta = await enterOn('lotta');
        const maija = await enterOn('maija');

        await ctl(nodes[0], ['group', 'leader', 'remove', g.group, 'lotta']);
        assert.equal((await lotta.client.expectClose(4000)).code, 4401);
        // A new password: the login in the store the nodes share ends too.
        await ctl(nodes[0], ['leader', 'passwd', 'maija', '--password-stdin'], { input: 'a brand new passphrase\n' });
        assert.equal((await maija.client.expectClose(4000)).code, 4401);
        for (const s of nodes) {
            for (const { token, reply, name } of [{ ...lotta, name: 'lotta' }, { ...maija, name: 'maija' }]) {
                const back = await resume(s, { token: reply.token, epoch: reply.epoch, after_seq: 0, label: `${name} on ${s.id}` });
                expectError(back.reply, 'resume_failed');
                back.client.terminate();
                if (name === 'maija') {
                    const again = await enter(s, { token, session: g.session }, { label: `maija's old login on ${s.id}` });
                    expectError(again.reply, 'token_invalid');
                    again.client.terminate();
                }
            }
        }
    } finally {
        for (const s of nodes) if (s.alive()) await s.stop();
        await redis.stop();
    }
});

/** Nodes ids on redis and the one store, pushed onto nodes as they start; resolves once each sees them all live. */
async function startStoreNodes(redis, store, ids, nodes) {
    for (const id of ids) {
        nodes.push(Object.assign(await startServer({ extra: [clusterSection(redis, id), store].join('\n\n') }), { id }));
    }
    for (const s of nodes) {
        await waitFor(async () => (await health(s)).cluster.live_nodes === ids.length, { timeout: 8000, interval: 100, desc: `${s.id}: ${ids.length} live nodes` });
    }
}

test('a hello with an invite on a node that is not its room\'s home enters there; an invite that leads nowhere is invite_invalid', { skip: storeSkip, timeout: 60000 }, async () => {
    const redis = await startRedis();
    const nodes = [];
    try {
        const store = storeSection((await prepareConfig()).dir);
        await startStoreNodes(redis, store, NODES.slice(0, 2), nodes);
        const g = await setUpGroup(nodes[0], { group: uid('Ryhmä '), leaders: ['aino'] });
        const homeId = homeNode(`#${g.session}`, NODES.slice(0, 2));
        const home = nodes.find((s) => s.id === homeId);
        const edge = nodes.find((s) => s.id !== homeId);
        // Two in a row, and one whose next message is sent before its hello is answered.
        const first = await enter(edge, { invite: g.code, name: 'Ulla' }, { label: 'Ulla' });
        assert.equal(first.reply.type, 'welcome', JSON.stringify(first.reply));
        const eager = await connect(edge, { label: 'Oona' });
        const helloId = uid('hello');
        eager.send({ type: 'hello', id: helloId, invite: g.code, name: 'Oona' });
        const againId = uid('hello');
        eager.send({ type: 'hello', id: againId, invite: g.code, name: 'Oona' });
        const welcome = await eager.next((m) => m.ref === helloId || m.ref === againId, 5000);
        assert.equal(welcome.type, 'welcome', JSON.stringify(welcome));
        expectError(await eager.next((m) => m.ref === againId, 5000), 'already_joined');
        assert.equal((await health(home)).rooms, 1, 'the room lives on its home');
        assert.equal((await health(edge)).rooms, 0, 'and not on the node the hellos came to');
        const bad = await enter(edge, { invite: 'x'.repeat(g.code.length), name: 'Unto' }, { label: 'bad invite' });
        expectError(bad.reply, 'invite_invalid');
        bad.client.terminate();
        first.client.terminate();
        eager.terminate();
    } finally {
        for (const s of nodes) if (s.alive()) await s.stop();
        await redis.stop();
    }
});

// Every request of protocol §4a, and what this test does with it: applied
// (server/room_mirror.c declares what moves in room_fields and member_fields)
// before the room moves (its state must come along), or why not.
const MOVES_WITH_THE_ROOM = ['open', 'to_lobby', 'mute', 'remove', 'ban', 'promote', 'lock', 'pause', 'slow', 'topic'];
const NOT_APPLIED = {
    admit: 'undoes to_lobby', deny: 'as remove, from the lobby', unmute: 'undoes mute', demote: 'undoes promote',
    unban: 'the store holds bans', bans: 'reads the store', end: 'ends the room',
    hand: 'raised hands do not move (§8)', round_start: 'a round does not move (§8)', round_pass: 'a round does not move',
    round_done: 'a round does not move', round_skip: 'a round does not move', round_end: 'a round does not move',
    round_order: 'a round does not move', not_ok: 'an event, no state', delete: 'an event, no state', report: 'an event, no state',
};

test('a room that moves to a new home keeps every moderation state: each member\'s welcome is the same there', { skip: storeSkip, timeout: 90000 }, async () => {
    const vectors = JSON.parse(fs.readFileSync(path.join(REPO, 'protocol/examples/requests.json'), 'utf8'));
    const types = new Set();
    for (const v of vectors.valid) {
        try {
            types.add(JSON.parse(v.frame).type);
        } catch { /* not an object: no type */ }
    }
    for (const t of ['hello', 'resume', 'say', 'agree', 'leave']) types.delete(t);
    for (const t of types) assert.ok(MOVES_WITH_THE_ROOM.includes(t) || t in NOT_APPLIED, `request ${t}: does its state move with the room?`);

    const redis = await startRedis();
    const nodes = [];
    try {
        const store = storeSection((await prepareConfig()).dir);
        await startStoreNodes(redis, store, NODES.slice(0, 2), nodes);
        const g = await setUpGroup(nodes[0], { group: uid('Ryhmä '), leaders: ['pirjo'] });
        const ids = ['node-a', 'node-b'];
        const newId = ['node-c', 'node-d', 'node-e', 'node-f', 'node-g', 'node-h'].find((id) => homeNode(`#${g.session}`, [...ids, id]) === id);
        assert.ok(newId, 'a third node that becomes the home');
        const home = nodes.find((s) => s.id === homeNode(`#${g.session}`, ids));
        const token = await leaderLogin(home, 'pirjo');
        const leader = await enter(home, { token, session: g.session }, { label: 'pirjo' });
        const people = {};
        for (const name of ['Aku', 'Bea', 'Cai', 'Dan', 'Eva']) {
            people[name] = await enter(home, { invite: g.code, name, key: participantKey() }, { label: name });
            assert.equal(people[name].reply.type, 'welcome', JSON.stringify(people[name].reply));
        }
        const ask = async (req) => {
            const r = await leader.client.request(req);
            assert.equal(r.type, 'ack', `${req.type}: ${JSON.stringify(r)}`);
        };
        await ask({ type: 'open' });
        for (const p of Object.values(people)) {
            await p.client.next((m) => m.type === 'welcome' || (m.type === 'state' && m.state === 'open'), 5000);
            assert.equal((await p.client.request({ type: 'agree' })).type, 'ack');
        }
        const member = (name) => people[name].reply.member;
        await ask({ type: 'mute', member: member('Aku') });
        await ask({ type: 'promote', member: member('Bea') });
        await ask({ type: 'to_lobby', member: member('Cai') });
        await ask({ type: 'remove', member: member('Dan') });
        await ask({ type: 'ban', member: member('Eva') });
        await ask({ type: 'lock', on: true });
        await ask({ type: 'pause', on: true });
        await ask({ type: 'slow', seconds: 30 });
        await ask({ type: 'topic', text: 'Uni ja stressi' });
        // A message's ack waits for its copy, which comes after the room's state.
        assert.equal((await leader.client.sayAndWait('kaikki kirjattu')).type, 'ack');

        const stayed = [['pirjo', leader.client], ...['Aku', 'Bea', 'Cai'].map((n) => [n, people[n].client])];
        // read_only follows who is connected (§4a, "When no leader is there"):
        // the first leader back after the move finds every member detached.
        const snapshot = (w) => {
            const { token: _t, ref: _r, seq: _s, resumed: _x, gap: _g, read_only: _ro, ...rest } = w;
            return rest;
        };
        // Each one's snapshot on the old home: a resume there.
        const before = {};
        const clients = {};
        for (const [name, c] of stayed) {
            c.terminate();
            const r = await resume(home, { token: c.token ?? c.welcome.token, epoch: c.epoch ?? c.welcome.epoch, after_seq: 0, label: name });
            assert.equal(r.reply.type, 'welcome', `${name}: ${JSON.stringify(r.reply)}`);
            before[name] = snapshot(r.reply);
            clients[name] = r;
        }
        const third = Object.assign(await startServer({ extra: [clusterSection(redis, newId), store].join('\n\n') }), { id: newId });
        nodes.push(third); // not waited for: the room moves when the others see it
        for (const [name] of stayed) assert.equal((await clients[name].client.expectClose(8000)).code, 1001, `${name}: the room moved`);
        for (const [name] of stayed) {
            const old = clients[name].reply;
            const deadline = Date.now() + 15000;
            let r;
            for (;;) {
                r = await resume(third, { token: old.token, epoch: old.epoch, after_seq: 0, label: `${name} again` });
                if (r.reply.type === 'welcome' || Date.now() > deadline) break;
                r.client.terminate();
                await delay(200);
            }
            assert.equal(r.reply.type, 'welcome', `${name}: ${JSON.stringify(r.reply)}`);
            assert.deepEqual(snapshot(r.reply), before[name], `${name}: the same room on ${newId}`);
            r.client.terminate();
        }
        assert.equal((await health(third)).rooms, 1, `${newId} holds the room`);
    } finally {
        for (const s of nodes) if (s.alive()) await s.stop();
        await redis.stop();
    }
});
