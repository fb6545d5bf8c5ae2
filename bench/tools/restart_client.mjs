#!/usr/bin/env node
// restart_client.mjs - the members of bench/restart.sh: R rooms of M members chat
// over TLS while the server restarts once, and every member reconnects as the
// protocol tells a client to (protocol/README.md §4 "After a restart", §7).
//
//   node restart_client.mjs --port P --ca FILE --t0-file FILE [--rooms 100]
//       [--members 10] [--deliv 10000] [--warmup 3] [--settle 2] [--timeout 30]
//
// Each member joins room r<R> as m<M> (hello by name: [testing] open_rooms) and
// posts a 100-byte message at DELIV / (R·M·M) per second on an open-loop schedule
// (one random phase each). A message is keyed by its text ("<room>.<member>.<n>"),
// so it is told apart across restarts, when member ids may change. Every `say`
// keeps its id until acked; a message due while its member is away waits.
//
// After WARMUP s of chat it prints {"kind":"steady"} and waits for the restart:
// the script sends the signal and writes the time it did so (ms since the epoch)
// into the t0 file. When a connection closes the member reconnects: after 1012 at
// once (a jitter of up to 0.25 s), otherwise with the backoff of §7 (0.5 s x 2^n,
// full jitter). It sends `resume` with its token; on `resume_failed` it sends
// `hello` again (a new membership). Once welcomed it sends every unacked message
// again with its id, or one new message when none waits, and is "posting" at the
// first ack on the new connection. When every member posts again (or TIMEOUT s
// after the t0 file appeared), the rooms chat SETTLE s more, stop, and drain for
// up to 3 s; then it prints one JSON line {"kind":"restart", ...} (below) and exits:
// closed_at, back, posting (ms after the signal) and away (ms from a member's
// close to its welcome), each as {n, p50, p99, max} over the members; then the
// counts of bench/restart.sh's header.
//
// Loopback only: the host is localhost.

import fs from 'node:fs';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

const { values: o } = parseArgs({
    options: {
        port: { type: 'string' },
        ca: { type: 'string' },
        't0-file': { type: 'string' },
        rooms: { type: 'string', default: '100' },
        members: { type: 'string', default: '10' },
        deliv: { type: 'string', default: '10000' },
        warmup: { type: 'string', default: '3' },
        settle: { type: 'string', default: '2' },
        timeout: { type: 'string', default: '30' },
    },
});
const ROOMS = Number(o.rooms);
const MEMBERS = Number(o.members);
const RATE = Number(o.deliv) / (ROOMS * MEMBERS * MEMBERS); // messages/s per member
const ORIGIN = `https://localhost:${o.port}`;
const URL = `wss://localhost:${o.port}/ws`;
const CA = fs.readFileSync(o.ca);
const BODY = 100;

const now = () => Date.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const out = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);

/** Every message by key: {room, sender, oldAck, acks, dupAcks, during}. */
const msgs = new Map();
const errors = {};
let sending = false;

class Member {
    constructor(room, idx) {
        this.room = room;
        this.idx = idx;
        this.ws = null;
        this.conns = 0;      // connections opened so far
        // joining -> chatting (first welcome) -> away (its connection closed) -> back
        this.phase = 'joining';
        this.welcomed = false;
        this.token = null;
        this.epoch = null;
        this.lastSeq = 0;
        this.n = 0;
        this.pending = new Map(); // id -> text, not yet acked, in order
        this.got = new Map();     // key -> times received
        this.next = now() + Math.random() * 1000 / RATE;
        this.attempt = 0;
        this.closedAt = 0;        // when the first connection closed
        this.backAt = 0;          // welcomed on a later connection
        this.postedAt = 0;        // the first ack on that connection
        this.restarted = false;   // a resume failed with server_restarted
        this.gap = false;
        this.joinedOnce = null;   // resolves at the first welcome
    }

    connect() {
        const ws = new WebSocket(URL, 'kamrat.v1', {
            // A browser waits long for a handshake; a short timeout here would only
            // add retries when this one process runs a thousand handshakes at once.
            ca: CA, family: 4, perMessageDeflate: false, handshakeTimeout: 20000, headers: { Origin: ORIGIN },
        });
        this.ws = ws;
        this.conns++;
        ws.on('open', () => {
            this.attempt = 0;
            if (this.token) this.send({ type: 'resume', token: this.token, epoch: this.epoch, after_seq: this.lastSeq });
            else this.hello();
        });
        ws.on('message', (data) => this.onFrame(JSON.parse(data)));
        ws.on('error', () => {}); // 'close' follows
        ws.on('close', (code) => this.onClose(code));
    }

    hello() {
        this.send({ type: 'hello', room: `r${this.room}`, name: `m${this.idx}` });
    }

    send(obj) {
        if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(obj));
    }

    onClose(code) {
        if (this.ws === null) return; // closed at the end
        this.welcomed = false;
        if (this.phase === 'chatting') {
            this.phase = 'away';
            this.closedAt = now();
            for (const text of this.pending.values()) msgs.get(key(text)).during = true;
        }
        const wait = code === 1012 && this.attempt === 0
            ? Math.random() * 250
            : Math.random() * Math.min(30000, 500 * 2 ** this.attempt);
        this.attempt++;
        setTimeout(() => this.connect(), wait);
    }

    onFrame(m) {
        if (m.type !== 'ack' && m.type !== 'welcome' && typeof m.seq === 'number') this.lastSeq = Math.max(this.lastSeq, m.seq);
        switch (m.type) {
        case 'welcome':
            this.welcomed = true;
            this.token = m.token;
            this.epoch = m.epoch;
            this.lastSeq = m.seq;
            if (m.resumed && m.gap) this.gap = true;
            if (this.phase === 'joining') {
                this.phase = 'chatting';
                this.joinedOnce();
                return;
            }
            if (this.phase === 'away') {
                this.phase = 'back';
                this.backAt = now();
            }
            if (this.pending.size === 0 && sending) this.post();
            for (const [id, text] of this.pending) this.send({ type: 'say', id, text });
            return;
        case 'ack': {
            const text = this.pending.get(m.ref);
            if (text === undefined) return;
            this.pending.delete(m.ref);
            const msg = msgs.get(key(text));
            if (m.duplicate) msg.dupAcks++;
            else msg.acks++;
            if (this.phase === 'chatting') msg.oldAck = true;
            else if (this.phase === 'back') this.postedAt ||= now();
            return;
        }
        case 'message':
            if (m.text) this.got.set(key(m.text), (this.got.get(key(m.text)) ?? 0) + 1);
            return;
        case 'error':
            if (m.code === 'resume_failed') {
                if (m.reason === 'server_restarted') this.restarted = true;
                this.token = null;
                this.hello();
                return;
            }
            errors[m.code] = (errors[m.code] ?? 0) + 1;
            return;
        default:
        }
    }

    /** A new message: sent now when welcomed, else kept until the member is back. */
    post() {
        const k = `${this.room}.${this.idx}.${this.n++}`;
        const text = `${k} `.padEnd(BODY, 'x');
        const id = `s${this.n}`;
        // Due while the member is away after the restart: sent during the switch.
        msgs.set(k, { room: this.room, oldAck: false, acks: 0, dupAcks: 0, during: this.phase === 'away' });
        this.pending.set(id, text);
        if (this.welcomed) this.send({ type: 'say', id, text });
    }
}

const key = (text) => text.slice(0, text.indexOf(' '));

function pct(sorted, p) {
    if (!sorted.length) return null;
    return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function summary(values) {
    const s = values.filter((v) => v !== null).sort((a, b) => a - b);
    return { n: s.length, p50: pct(s, 50), p99: pct(s, 99), max: s.length ? s[s.length - 1] : null };
}

async function main() {
    const members = [];
    for (let r = 0; r < ROOMS; r++) for (let i = 0; i < MEMBERS; i++) members.push(new Member(r, i));
    // Join in batches, so the first handshakes do not time out on a busy machine.
    for (let b = 0; b < members.length; b += 50) {
        await Promise.all(members.slice(b, b + 50).map((m) => new Promise((resolve) => {
            m.joinedOnce = resolve;
            m.connect();
        })));
    }
    sending = true;
    const tick = setInterval(() => {
        const t = now();
        for (const m of members) {
            while (sending && m.next <= t) {
                m.post();
                m.next += 1000 / RATE;
            }
        }
    }, 10);
    await sleep(Number(o.warmup) * 1000);
    out({ kind: 'steady', members: members.length, rate_per_member: RATE });

    // The restart: wait for the t0 file, then until everyone posts again.
    let t0 = 0;
    for (let i = 0; !t0 && i < 600; i++) {
        await sleep(50);
        try {
            t0 = Number(fs.readFileSync(o['t0-file'], 'utf8').trim()) || 0;
        } catch {
            // Not yet written.
        }
    }
    const deadline = now() + Number(o.timeout) * 1000;
    while (now() < deadline && !members.every((m) => m.postedAt)) await sleep(20);
    const done = now();
    await sleep(Number(o.settle) * 1000);
    sending = false;
    clearInterval(tick);
    for (let i = 0; i < 150 && members.some((m) => m.pending.size); i++) await sleep(20);
    await sleep(300); // the last deliveries of the last acks

    // What reached whom: every message against every member of its room.
    const byRoom = members.reduce((a, m) => ((a[m.room] ??= []).push(m), a), []);
    const c = { acked_before: 0, acked_before_missing: 0, acked_before_missing_pairs: 0, during: 0,
        during_unacked: 0, during_acked_twice: 0, during_missing: 0, during_missing_pairs: 0, doubled_pairs: 0, total: msgs.size };
    for (const [k, msg] of msgs) {
        const missing = byRoom[msg.room].filter((m) => !m.got.get(k)).length;
        if (msg.oldAck) {
            c.acked_before++;
            if (missing) c.acked_before_missing++;
            c.acked_before_missing_pairs += missing;
        } else if (msg.during) {
            c.during++;
            if (msg.acks + msg.dupAcks === 0) c.during_unacked++;
            if (msg.acks > 1) c.during_acked_twice++;
            if (missing) c.during_missing++;
            c.during_missing_pairs += missing;
        }
    }
    for (const m of members) for (const n of m.got.values()) if (n > 1) c.doubled_pairs += n - 1;
    const rel = (t) => (t && t0 ? t - t0 : null);
    out({
        kind: 'restart',
        t0,
        members: members.length,
        closed: members.filter((m) => m.closedAt).length,
        closed_at: summary(members.map((m) => rel(m.closedAt))),
        back: summary(members.map((m) => rel(m.backAt))),
        away: summary(members.map((m) => (m.closedAt && m.backAt ? m.backAt - m.closedAt : null))),
        posting: summary(members.map((m) => rel(m.postedAt))),
        all_posting_ms: members.every((m) => m.postedAt) ? done - t0 : null,
        server_restarted: members.filter((m) => m.restarted).length,
        gaps: members.filter((m) => m.gap).length,
        connections: members.reduce((s, m) => s + m.conns, 0),
        errors,
        ...c,
    });
    for (const m of members) {
        const ws = m.ws;
        m.ws = null;
        ws?.terminate();
    }
}

main().catch((e) => {
    out({ kind: 'error', error: String(e?.stack ?? e) });
    process.exit(1);
});
