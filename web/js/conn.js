// The kamrat.v1 connection (protocol/README.md): joins, resumes after reconnects,
// hands on room events once each in seq order, and keeps every typed message in an
// outbox until it is acknowledged, resending it with its id so nothing posts twice.
//
// Events (CustomEvent detail):
//   state {state: connecting|open|reconnecting|closed, delay?, code?}
//   welcome {welcome, gap}: joined or resumed; gap: events may be missing
//   event {msg, applied, own}: message or presence; applied: already in welcome.members
//   gap {}: a seq was skipped
//   ack {id, seq, duplicate} / failed {id, code, text}: one of our messages
//   joinerror {code}: hello refused, connection closed
//   left {}: after leave

const SUBPROTOCOL = 'kamrat.v1';
const STORE_KEY = 'kamrat.session';
const DEFAULT_LIMITS = { max_text_chars: 4000, max_message_bytes: 16384, rate_per_sec: 2, rate_burst: 10 };

/** Close codes after which reconnecting cannot help (README section 7). */
export const FINAL_CLOSE = new Set([1000, 1002, 1003, 1007, 1008, 1009, 4401, 4409, 4429]);

/** Reconnect delay in ms: 0.5 s x 2^attempt, capped at 30 s, full jitter. */
export function backoff(attempt, random = Math.random) {
    return random() * Math.min(30000, 500 * 2 ** attempt);
}

export class Conn extends EventTarget {
    #url;
    #storage;
    #ws = null;
    #session = null; // {room, name, token, epoch, member, firstSeq, lastSeq}
    #outbox = new Map(); // id -> {text, sent, retries}
    #joinId = null;
    #joined = false;
    #resumeFailed = false;
    #snapshotSeq = 0;
    #attempt = 0;
    #timer = 0;
    #stopped = false;
    #leaveId = null;
    #limits = DEFAULT_LIMITS;
    // Client side of the server's token bucket, so a resent backlog is not refused.
    #tokens = DEFAULT_LIMITS.rate_burst;
    #tokensAt = 0;
    #pauseUntil = 0;
    #pumpTimer = 0;

    constructor({ url = `wss://${location.host}/ws`, storage = globalThis.sessionStorage } = {}) {
        super();
        this.#url = url;
        this.#storage = storage;
    }

    get limits() { return this.#limits; }
    get session() { return this.#session; }
    get lastSeq() { return this.#session?.lastSeq ?? 0; }

    /** Joins `room` as `name` with a fresh hello. */
    join(room, name) {
        if (this.#session && this.#session.room !== room) {
            // Messages typed for another room go back to the user, never into this one.
            for (const [id, { text }] of this.#outbox) this.#emit('failed', { id, code: 'not_joined', text });
            this.#outbox.clear();
        }
        this.#session = { room, name, token: null, epoch: null, member: 0, firstSeq: 0, lastSeq: 0 };
        this.#connect();
    }

    /** Resumes the session in sessionStorage, replaying the room since we joined; or null. */
    restore() {
        let s = null;
        try {
            s = JSON.parse(this.#storage.getItem(STORE_KEY));
        } catch {
            // Unreadable: join afresh.
        }
        if (typeof s?.token !== 'string') return null;
        s.lastSeq = s.firstSeq;
        this.#session = s;
        this.#connect();
        return s;
    }

    /** Queues `text` for sending; returns its client message id. */
    say(text) {
        const id = crypto.randomUUID();
        this.#outbox.set(id, { text, sent: false, retries: 0 });
        this.#pump();
        return id;
    }

    /** Leaves the room; `left` follows. */
    leave() {
        if (this.#joined && this.#ws?.readyState === WebSocket.OPEN) {
            this.#leaveId = `leave-${crypto.randomUUID()}`;
            this.#send({ type: 'leave', id: this.#leaveId });
        } else {
            this.#finish();
        }
    }

    /** Reconnects now, after a final close or instead of waiting for the backoff. */
    reconnectNow() {
        if (!this.#session || this.#joined || this.#leaveId) return;
        this.#attempt = 0;
        this.#connect();
    }

    #connect() {
        clearTimeout(this.#timer);
        this.#detach();
        this.#stopped = false;
        const ws = new WebSocket(this.#url, SUBPROTOCOL);
        this.#ws = ws;
        ws.onopen = () => this.#opened();
        ws.onmessage = (ev) => this.#received(ev.data);
        ws.onclose = (ev) => this.#closed(ev.code);
        this.#emit('state', { state: 'connecting' });
    }

    #detach() {
        const ws = this.#ws;
        this.#ws = null;
        this.#joined = false;
        if (!ws) return;
        ws.onopen = ws.onmessage = ws.onclose = null;
        if (ws.readyState <= WebSocket.OPEN) ws.close(1000); // still connecting or open
    }

    #save() {
        try {
            if (this.#session?.token) this.#storage.setItem(STORE_KEY, JSON.stringify(this.#session));
            else this.#storage.removeItem(STORE_KEY);
        } catch {
            // Storage may be full or disabled; the session then ends with the page.
        }
    }

    #send(obj) {
        this.#ws.send(JSON.stringify(obj));
    }

    #opened() {
        this.#emit('state', { state: 'open' });
        const s = this.#session;
        this.#joinId = `join-${crypto.randomUUID()}`;
        if (s.token) {
            this.#send({ type: 'resume', id: this.#joinId, token: s.token, epoch: s.epoch, after_seq: s.lastSeq });
        } else {
            this.#send({ type: 'hello', id: this.#joinId, room: s.room, name: s.name });
        }
    }

    #received(data) {
        let msg;
        try {
            msg = JSON.parse(data);
        } catch {
            return;
        }
        const handle = { welcome: this.#welcome, message: this.#event, presence: this.#event,
            ack: this.#ack, error: this.#error }[msg?.type];
        handle?.call(this, msg);
    }

    #welcome(w) {
        const s = this.#session;
        const gap = w.gap || this.#resumeFailed;
        Object.assign(s, { room: w.room, name: w.name, token: w.token, epoch: w.epoch, member: w.member });
        if (!w.resumed) {
            s.firstSeq = w.seq;
            this.#tokens = w.limits.rate_burst;
        }
        if (!w.resumed || w.gap) s.lastSeq = w.seq;
        this.#snapshotSeq = w.seq;
        this.#limits = w.limits;
        this.#joined = true;
        this.#resumeFailed = false;
        this.#attempt = 0;
        this.#save();
        this.#emit('welcome', { welcome: w, gap });
        for (const entry of this.#outbox.values()) entry.sent = false;
        this.#pump();
    }

    #event(msg) {
        const s = this.#session;
        if (!this.#joined || msg.seq <= s.lastSeq) return;
        if (msg.seq > s.lastSeq + 1) this.#emit('gap', {});
        s.lastSeq = msg.seq;
        this.#save();
        this.#emit('event', { msg, applied: msg.seq <= this.#snapshotSeq, own: msg.member === s.member });
    }

    #ack(a) {
        if (a.ref !== null && a.ref === this.#leaveId) this.#finish();
        else if (this.#outbox.delete(a.ref)) this.#emit('ack', { id: a.ref, seq: a.seq, duplicate: a.duplicate === true });
    }

    #error(e) {
        if (!this.#joined && e.ref === this.#joinId) {
            if (e.code === 'resume_failed') {
                // Our membership is gone; join again under the same name.
                Object.assign(this.#session, { token: null, epoch: null, member: 0 });
                this.#save();
                this.#resumeFailed = true;
                this.#joinId = `join-${crypto.randomUUID()}`;
                const { room, name } = this.#session;
                this.#send({ type: 'hello', id: this.#joinId, room, name });
            } else {
                this.#stop();
                this.#emit('joinerror', { code: e.code });
            }
            return;
        }
        const entry = this.#outbox.get(e.ref);
        if (!entry) return;
        if (e.code === 'rate_limited' || (e.code === 'internal' && ++entry.retries <= 3)) {
            entry.sent = false;
            this.#pauseUntil = Date.now() + (e.retry_after_ms ?? 1000);
            this.#pump();
        } else if (e.code !== 'not_joined') {
            this.#outbox.delete(e.ref);
            this.#emit('failed', { id: e.ref, code: e.code, text: entry.text });
        }
    }

    // Sends unsent outbox messages, no faster than the server's token bucket allows.
    #pump() {
        clearTimeout(this.#pumpTimer);
        if (!this.#joined || this.#ws?.readyState !== WebSocket.OPEN) return;
        const { rate_per_sec: rate, rate_burst: burst } = this.#limits;
        const now = Date.now();
        this.#tokens = Math.min(burst, this.#tokens + ((now - this.#tokensAt) / 1000) * rate);
        this.#tokensAt = now;
        for (const [id, entry] of this.#outbox) {
            if (entry.sent) continue;
            const wait = Math.max(this.#pauseUntil - now, this.#tokens < 1 ? ((1 - this.#tokens) / rate) * 1000 : 0);
            if (wait > 0) {
                this.#pumpTimer = setTimeout(() => this.#pump(), wait);
                return;
            }
            this.#send({ type: 'say', id, text: entry.text });
            entry.sent = true;
            this.#tokens -= 1;
        }
    }

    #closed(code) {
        this.#ws = null;
        this.#joined = false;
        clearTimeout(this.#pumpTimer);
        if (this.#stopped) return;
        if (this.#leaveId) {
            this.#finish();
        } else if (FINAL_CLOSE.has(code)) {
            this.#emit('state', { state: 'closed', code });
        } else {
            const delay = backoff(this.#attempt);
            this.#attempt = Math.min(this.#attempt + 1, 16);
            this.#timer = setTimeout(() => this.#connect(), delay);
            this.#emit('state', { state: 'reconnecting', delay });
        }
    }

    #stop() {
        this.#stopped = true;
        clearTimeout(this.#timer);
        this.#detach();
    }

    #finish() {
        this.#stop();
        this.#session = null;
        this.#leaveId = null;
        this.#outbox.clear();
        this.#save();
        this.#emit('left', {});
    }

    #emit(type, detail) {
        this.dispatchEvent(new CustomEvent(type, { detail }));
    }
}
