// The kamrat.v1 connection (protocol/README.md): joins, resumes after reconnects,
// hands on room events once each in seq order, and keeps every typed message in an
// outbox until it is acknowledged, resending it with its id so nothing posts twice.
//
// A hello takes one of the protocol's forms: {invite, name}, {token, session} or
// {room, name}; it is kept with the membership so a lost one can be entered again.
//
// Events (CustomEvent detail):
//   state {state: connecting|open|reconnecting|closed, delay?, code?}
//   welcome {welcome, gap, restarted}: joined, resumed or admitted from the lobby; gap: events may be
//     missing; restarted: the server restarted since, and every earlier event is gone
//   event {msg, applied, own, history}: a room event (message, presence, state and the
//     moderation events); seqs may skip: events for others are not sent; applied: already in
//     welcome.members; history: from before we came (groups whose late joiners read the session)
//   ack {id, seq, duplicate} / failed {id, code, text, to, error}: one of our messages
//   agreed {}: the server took our agree
//   refused {error}: our agree was refused
//   joinerror {code, error}: hello refused, connection closed
//   left {}: after leave
//   ended {}: the session is over (state ended or close 4410); nothing reconnects

const SUBPROTOCOL = 'kamrat.v1';
const STORE_KEY = 'kamrat.session';
const DEFAULT_LIMITS = { max_text_chars: 4000, max_message_bytes: 16384, rate_per_sec: 2, rate_burst: 10 };

/** Close codes after which reconnecting cannot help (README section 7). */
export const FINAL_CLOSE = new Set([1000, 1002, 1003, 1007, 1008, 1009, 4401, 4403, 4409, 4410, 4429]);
const ENDED = 4410;
const RESTART = 1012;
const OFFLINE = Object.freeze({ error: Object.freeze({ code: 'offline' }) });

/** Reconnect delay in ms: 0.5 s x 2^attempt, capped at 30 s, full jitter. */
export function backoff(attempt, random = Math.random) {
    return random() * Math.min(30000, 500 * 2 ** attempt);
}

export class Conn extends EventTarget {
    #url;
    #storage;
    #ws = null;
    // {hello, room, name, role, state, token, epoch, member, firstSeq, lastSeq, agreement, agree, agreed};
    // agree: the agreement text the user accepted
    #session = null;
    #outbox = new Map(); // id -> {text, to, sent, retries}
    #requests = new Map(); // id -> resolve, until answered
    #joinId = null;
    #joined = false;
    #resumeFailed = false;
    #restarted = false; // the resume failed because the server restarted
    #snapshotSeq = 0;
    #attempt = 0;
    #timer = 0;
    #stopped = false;
    #leaveId = null;
    #agreeId = null;
    #history = -1; // after a hello: the last history event (seq <= welcome.seq) handed on; -1: none expected
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

    /** Enters with a fresh hello of the given form. */
    join(hello) {
        const key = (h) => h && (h.invite ?? h.session ?? h.room);
        if (this.#session && key(this.#session.hello) !== key(hello)) {
            // Messages typed for another room go back to the user, never into this one.
            for (const [id, { text, to }] of this.#outbox) this.#emit('failed', { id, code: 'not_joined', text, to });
            this.#outbox.clear();
        }
        this.#session = { hello, room: hello.room ?? '', name: hello.name ?? '', role: null, state: null,
            token: null, epoch: null, member: 0, firstSeq: 0, lastSeq: 0, agree: null, agreed: false };
        this.#connect();
    }

    /** Resumes the membership in sessionStorage that `wanted` accepts, replaying the room
     * since we joined; or null. */
    restore(wanted) {
        let s = null;
        try {
            s = JSON.parse(this.#storage.getItem(STORE_KEY));
        } catch {
            // Unreadable: join afresh.
        }
        if (typeof s?.token !== 'string' || !s.hello || !wanted(s.hello)) return null;
        s.lastSeq = s.firstSeq;
        this.#session = s;
        this.#connect();
        return s;
    }

    /** Queues `text` for sending, to the room or privately (`to`: "leaders" or a member id);
     * returns its client message id. */
    say(text, to) {
        const id = crypto.randomUUID();
        this.#outbox.set(id, { text, to, sent: false, retries: 0 });
        this.#pump();
        return id;
    }

    /** Accepts the group agreement; `agreed` follows (again after a re-entry if needed). */
    agree() {
        const s = this.#session;
        if (!s) return;
        s.agree = s.agreement ?? '';
        this.#save();
        this.#sendAgree();
    }

    /** Sends a request of section 4a (or `open`) now. Resolves with {ack}, {error} or, for
     * `bans`, {bans}. Requests other than say are not queued: when not connected, or when
     * the connection drops before the answer, it resolves with {error: {code: "offline"}}. */
    request(type, fields = {}) {
        if (!this.#joined || this.#ws?.readyState !== WebSocket.OPEN) return Promise.resolve(OFFLINE);
        const id = `${type}-${crypto.randomUUID()}`;
        this.#send({ type, id, ...fields });
        return new Promise((resolve) => this.#requests.set(id, resolve));
    }

    #answer(ref, result) {
        const resolve = this.#requests.get(ref);
        this.#requests.delete(ref);
        resolve?.(result);
        return Boolean(resolve);
    }

    #sendAgree() {
        if (!this.#joined || this.#ws?.readyState !== WebSocket.OPEN) return;
        this.#agreeId = `agree-${crypto.randomUUID()}`;
        this.#send({ type: 'agree', id: this.#agreeId });
    }

    /** Leaves the room, telling the leaders "I'm safe" with `safe`; `left` follows. */
    leave(safe = false) {
        if (this.#joined && this.#ws?.readyState === WebSocket.OPEN) {
            this.#leaveId = `leave-${crypto.randomUUID()}`;
            this.#send({ type: 'leave', id: this.#leaveId, ...(safe && { safe }) });
        } else {
            this.#finish();
        }
    }

    /** Reconnects now, after a final close or instead of waiting for the backoff. */
    reconnectNow() {
        if (!this.#session || this.#joined || this.#leaveId || this.#session.state === 'ended') return;
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
        ws.onclose = (ev) => this.#closed(ev.code, ev.reason);
        this.#emit('state', { state: 'connecting' });
    }

    #detach() {
        const ws = this.#ws;
        this.#ws = null;
        this.#joined = false;
        // A request in flight on a lost connection gets no answer.
        for (const resolve of this.#requests.values()) resolve(OFFLINE);
        this.#requests.clear();
        if (!ws) return;
        ws.onopen = ws.onmessage = ws.onclose = null;
        if (ws.readyState <= WebSocket.OPEN) ws.close(1000); // still connecting or open
    }

    #save() {
        try {
            if (this.#session?.token && this.#session.state !== 'ended') this.#storage.setItem(STORE_KEY, JSON.stringify(this.#session));
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
            this.#send({ type: 'hello', id: this.#joinId, ...s.hello });
        }
    }

    #received(data) {
        let msg;
        try {
            msg = JSON.parse(data);
        } catch {
            return;
        }
        const reply = { welcome: this.#welcome, ack: this.#ack, error: this.#error, bans: this.#bans }[msg?.type];
        // Every other server message with a seq is a room event (README section 5).
        const handle = reply ?? (Number.isInteger(msg?.seq) ? this.#event : undefined);
        handle?.call(this, msg);
    }

    #welcome(w) {
        const s = this.#session;
        const gap = w.gap || this.#resumeFailed;
        // The snapshot on admission from the lobby has no token: keep the first one.
        Object.assign(s, { room: w.room, name: w.name, role: w.role, state: w.state, token: w.token ?? s.token,
            epoch: w.epoch, member: w.member, agreed: w.agreed, agreement: w.session?.agreement ?? '' });
        this.#history = w.resumed ? -1 : 0;
        if (!w.resumed) {
            s.firstSeq = w.seq;
            this.#tokens = w.limits.rate_burst;
        }
        if (!w.resumed || w.gap) s.lastSeq = w.seq;
        this.#snapshotSeq = w.seq;
        this.#limits = w.limits;
        this.#joined = true;
        const restarted = this.#restarted;
        this.#resumeFailed = false;
        this.#restarted = false;
        this.#attempt = 0;
        this.#save();
        this.#emit('welcome', { welcome: w, gap, restarted });
        // Agreed before, and this membership does not know yet (entered again): say it again,
        // before any message, so the server takes them.
        if (!w.agreed && s.agree !== null && s.agree === s.agreement) this.#sendAgree();
        for (const entry of this.#outbox.values()) entry.sent = false;
        this.#pump();
    }

    #event(msg) {
        const s = this.#session;
        if (!this.#joined) return;
        if (msg.seq <= s.lastSeq) {
            this.#earlier(msg);
            return;
        }
        this.#history = -1;
        s.lastSeq = msg.seq;
        if (msg.type === 'state') s.state = msg.state;
        if (msg.type === 'role' && msg.member === s.member) s.role = msg.role;
        this.#save();
        this.#emit('event', { msg, applied: msg.seq <= this.#snapshotSeq, own: msg.member === s.member });
        if (msg.state === 'ended') this.#end();
    }

    // The session so far, sent right after the welcome of a hello in groups whose late
    // joiners read it; a resume after a reload asks for it again from firstSeq.
    #earlier(msg) {
        const s = this.#session;
        if (this.#history < 0 || msg.seq <= this.#history || msg.seq > this.#snapshotSeq) return;
        this.#history = msg.seq;
        s.firstSeq = Math.min(s.firstSeq, msg.seq - 1);
        this.#save();
        this.#emit('event', { msg, applied: true, own: msg.member === s.member, history: true });
    }

    #ack(a) {
        if (a.ref === null) return;
        if (this.#answer(a.ref, { ack: a })) return;
        if (a.ref === this.#leaveId) this.#finish();
        else if (a.ref === this.#agreeId) {
            this.#session.agreed = true;
            this.#save();
            this.#emit('agreed', {});
        } else if (this.#outbox.delete(a.ref)) this.#emit('ack', { id: a.ref, seq: a.seq, duplicate: a.duplicate === true });
    }

    #error(e) {
        if (!this.#joined && e.ref === this.#joinId) {
            if (e.code === 'resume_failed') {
                // Our membership is gone; join again under the same name.
                Object.assign(this.#session, { token: null, epoch: null, member: 0 });
                this.#save();
                this.#resumeFailed = true;
                this.#restarted = e.reason === 'server_restarted';
                this.#joinId = `join-${crypto.randomUUID()}`;
                this.#send({ type: 'hello', id: this.#joinId, ...this.#session.hello });
            } else {
                this.#stop();
                this.#emit('joinerror', { code: e.code, error: e });
            }
            return;
        }
        if (e.ref !== null && this.#answer(e.ref, { error: e })) return;
        if (e.ref !== null && e.ref === this.#agreeId) {
            this.#emit('refused', { error: e });
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
            this.#emit('failed', { id: e.ref, code: e.code, text: entry.text, to: entry.to, error: e });
        }
    }

    #bans(b) {
        this.#answer(b.ref, { bans: b.bans });
    }

    // Sends unsent outbox messages, no faster than the server's token bucket allows.
    #pump() {
        clearTimeout(this.#pumpTimer);
        const s = this.#session;
        if (!this.#joined || this.#ws?.readyState !== WebSocket.OPEN) return;
        // A participant in the lobby may write only to the leaders (in_lobby); the rest waits.
        const lobby = s.state === 'lobby' && s.role === 'participant';
        const { rate_per_sec: rate, rate_burst: burst } = this.#limits;
        const now = Date.now();
        this.#tokens = Math.min(burst, this.#tokens + ((now - this.#tokensAt) / 1000) * rate);
        this.#tokensAt = now;
        for (const [id, entry] of this.#outbox) {
            if (entry.sent || (lobby && entry.to !== 'leaders')) continue;
            const wait = Math.max(this.#pauseUntil - now, this.#tokens < 1 ? ((1 - this.#tokens) / rate) * 1000 : 0);
            if (wait > 0) {
                this.#pumpTimer = setTimeout(() => this.#pump(), wait);
                return;
            }
            this.#send({ type: 'say', id, text: entry.text, ...(entry.to !== undefined && { to: entry.to }) });
            entry.sent = true;
            this.#tokens -= 1;
        }
    }

    #closed(code, reason) {
        this.#ws = null;
        this.#joined = false;
        clearTimeout(this.#pumpTimer);
        if (this.#stopped) return;
        if (this.#leaveId) {
            this.#finish();
        } else if (code === ENDED) {
            this.#end();
        } else if (FINAL_CLOSE.has(code)) {
            this.#emit('state', { state: 'closed', code, reason });
        } else {
            // 1012: a planned restart, the new server accepts already; come
            // back at once (a short jitter spreads the room's reconnects).
            const delay = code === RESTART ? Math.random() * 250 : backoff(this.#attempt);
            if (code !== RESTART) this.#attempt = Math.min(this.#attempt + 1, 16);
            this.#timer = setTimeout(() => this.#connect(), delay);
            this.#emit('state', { state: 'reconnecting', delay });
        }
    }

    #stop() {
        this.#stopped = true;
        clearTimeout(this.#timer);
        this.#detach();
    }

    // The session is over: the room and every token are gone.
    #end() {
        if (this.#session) this.#session.state = 'ended';
        this.#stop();
        for (const [id, { text, to }] of this.#outbox) this.#emit('failed', { id, code: 'ended', text, to });
        this.#outbox.clear();
        this.#save();
        this.#emit('ended', {});
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
