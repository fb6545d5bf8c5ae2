// Harness for the integration suite: runs the real kamratd binary over TLS on a
// random loopback port and talks to it with the `ws` library (well-formed side)
// or with hand-made frames on a raw TLS socket (everything `ws` refuses to send).
//
// Every test file gets its own server through serverFixture(); every test is
// declared with this module's test(), which on failure prints the server's log
// lines written during the test, fails the test when any server message broke
// protocol/schema/server.json, and terminates the clients the test opened.
//
// Environment: KAMRATD (path of the binary; default build/server/kamratd under the
// repository root), KAMRATCTL (the admin tool; default build/tools/kamratctl),
// KAMRAT_ROOT (the repository root; default: found from this
// file), KAMRAT_KEEP_TMP=1 (keep the temporary directories).

import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, test as nodeTest } from 'node:test';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

export const REPO = process.env.KAMRAT_ROOT
    ? path.resolve(process.env.KAMRAT_ROOT)
    : path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const KAMRATD = process.env.KAMRATD
    ? path.resolve(process.env.KAMRATD)
    : path.join(REPO, 'build/server/kamratd');
export const KAMRATCTL = process.env.KAMRATCTL
    ? path.resolve(process.env.KAMRATCTL)
    : path.join(REPO, 'build/tools/kamratctl');
export const SUBPROTOCOL = 'kamrat.v1';

// Checks once a second: gone when the server ($1) is gone; kills the server when
// the test process ($2) is gone.
const WATCHDOG =
    'while :; do kill -0 "$1" 2>/dev/null || exit 0; ' +
    'kill -0 "$2" 2>/dev/null || { kill -KILL "$1" 2>/dev/null; exit 0; }; sleep 1; done';
const READY_TIMEOUT_MS = 10000;
const READY_POLL_MS = 50;
const KILL_AFTER_MS = 6000;
const LOG_TAIL_LINES = 150;

// ---------------------------------------------------------------------------
// Small utilities

let uidCounter = 0;

/** A fresh identifier made of id/room-safe characters: prefix + counter + random hex. */
export function uid(prefix = 'x') {
    uidCounter += 1;
    return `${prefix}${uidCounter}-${crypto.randomBytes(3).toString('hex')}`;
}

/** Resolves after ms. Only for waits that have no event to await (rate-limit refill). */
export function delay(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls fn() every intervalMs until it returns a truthy value, which is returned.
 * Throws after timeoutMs with desc and the last value seen.
 */
export async function waitFor(fn, { timeout = 5000, interval = 50, desc = 'condition' } = {}) {
    const deadline = Date.now() + timeout;
    let last;
    for (;;) {
        last = await fn();
        if (last) return last;
        if (Date.now() >= deadline) {
            throw new Error(`timed out after ${timeout} ms waiting for ${desc} (last: ${inspect(last)})`);
        }
        await delay(interval);
    }
}

/** Rejects with an Error naming desc when promise does not settle within ms. */
export function within(promise, ms, desc) {
    let timer;
    const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${desc}`)), ms);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function inspect(v, max = 300) {
    let s;
    try {
        s = typeof v === 'string' ? v : JSON.stringify(v);
    } catch {
        s = String(v);
    }
    if (s === undefined) s = String(v);
    return s.length > max ? `${s.slice(0, max)}…(${s.length} chars)` : s;
}

function tail(text, lines) {
    const all = text.split('\n');
    return all.length > lines ? [`…(${all.length - lines} earlier lines)`, ...all.slice(-lines)].join('\n') : text;
}

/** Asserts that every event has seq one more than the one before it. */
export function assertConsecutive(events, label = 'events') {
    for (let i = 1; i < events.length; i++) {
        if (events[i].seq !== events[i - 1].seq + 1) {
            const around = events.slice(Math.max(0, i - 2), i + 2).map((e) => `${e.type}#${e.seq}`);
            throw new Error(`${label}: seq ${events[i - 1].seq} is followed by ${events[i].seq} (${around.join(', ')})`);
        }
    }
}

export const isEvent = (m) => m.type === 'message' || m.type === 'presence';
export const isReply = (m) => m.type === 'ack' || m.type === 'welcome' || m.type === 'error';

// ---------------------------------------------------------------------------
// Schema validation of everything the server sends

const SCHEMA_DIR = path.join(REPO, 'protocol/schema');
const SERVER_SCHEMA = path.join(SCHEMA_DIR, 'server.json');

async function loadValidator() {
    if (!fs.existsSync(SERVER_SCHEMA)) return { validate: null, byType: null, error: null };
    try {
        const server = JSON.parse(fs.readFileSync(SERVER_SCHEMA, 'utf8'));
        const dialect = String(server.$schema ?? '');
        let Ajv;
        if (dialect.includes('draft-07') || dialect.includes('draft-06')) {
            ({ default: Ajv } = await import('ajv'));
        } else if (dialect.includes('2019-09')) {
            ({ default: Ajv } = await import('ajv/dist/2019.js'));
        } else {
            ({ default: Ajv } = await import('ajv/dist/2020.js'));
        }
        const ajv = new Ajv({ allErrors: true, strict: false });
        try {
            const { default: addFormats } = await import('ajv-formats');
            addFormats(ajv);
        } catch {
            // Formats are an extra check; without ajv-formats they are not asserted.
        }
        // Sibling schemas (one per message, shared definitions) are registered so
        // that $refs resolve, under their own $id or, failing that, their file name
        // next to server.json.
        const keys = new Map();
        for (const f of fs.readdirSync(SCHEMA_DIR)) {
            if (!f.endsWith('.json') || f === 'server.json') continue;
            try {
                const s = JSON.parse(fs.readFileSync(path.join(SCHEMA_DIR, f), 'utf8'));
                const key = s.$id ?? (server.$id ? new URL(f, server.$id).href : f);
                ajv.addSchema(s, s.$id ? undefined : key);
                keys.set(f, key);
            } catch {
                // A sibling that does not load only matters if server.json refers to
                // it, and then compile() below reports it.
            }
        }
        const validate = ajv.compile(server);
        // Per-type schemas give readable errors where server.json's oneOf lists
        // every branch's complaints.
        const byType = (type) => {
            const key = keys.get(`${type}.json`);
            try {
                return key ? ajv.getSchema(key) : null;
            } catch {
                return null;
            }
        };
        return { validate, byType, error: null };
    } catch (e) {
        return { validate: null, byType: null, error: new Error(`protocol/schema/server.json does not compile: ${e.message}`) };
    }
}

const { validate: validateServerMessage, byType: validatorForType, error: schemaError } = await loadValidator();

/** True when server messages are checked against protocol/schema/server.json. */
export const SCHEMA_CHECKED = Boolean(validateServerMessage);

function schemaProblems(msg) {
    if (schemaError) throw schemaError;
    if (!validateServerMessage) return null;
    if (validateServerMessage(msg)) return null;
    let errors = validateServerMessage.errors;
    const specific = typeof msg.type === 'string' ? validatorForType(msg.type) : null;
    if (specific && !specific(msg)) errors = specific.errors;
    return errors
        .slice(0, 5)
        .map((e) => `${e.instancePath || '/'} ${e.message}${e.params ? ` ${inspect(e.params, 120)}` : ''}`)
        .join('; ');
}

// ---------------------------------------------------------------------------
// Processes, temporary directories and cleanup

const children = new Map(); // pid -> ChildProcess
const tmpDirs = new Set();
const allServers = [];
const openConns = new Set(); // clients and raw connections opened by the current test

function killLeftovers() {
    for (const [pid, child] of children) {
        if (child.exitCode === null && child.signalCode === null) {
            try {
                process.kill(pid, 'SIGKILL');
            } catch {
                // Already gone.
            }
        }
    }
    if (!process.env.KAMRAT_KEEP_TMP) {
        for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
    }
}

process.on('exit', killLeftovers);
for (const sig of ['SIGINT', 'SIGTERM']) {
    process.once(sig, () => {
        killLeftovers();
        process.exit(128 + os.constants.signals[sig]);
    });
}

/** Picks a free TCP port on 127.0.0.1 by binding port 0 and closing again. */
export function freePort() {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.unref();
        srv.on('error', reject);
        srv.listen(0, '127.0.0.1', () => {
            const { port } = srv.address();
            srv.close(() => resolve(port));
        });
    });
}

/** Makes a directory under os.tmpdir() that is removed when the test process exits. */
/** Every regular file under dir, recursively. */
export function filesUnder(dir) {
    const out = [];
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, entry.name);
        if (entry.isDirectory()) out.push(...filesUnder(p));
        else if (entry.isFile()) out.push(p);
    }
    return out;
}

export function makeTempDir(prefix = 'kamrat-it-') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    tmpDirs.add(dir);
    return dir;
}

/**
 * Runs a program to completion. Resolves {code, signal, stdout, stderr}; kills it
 * (by its PID) with SIGKILL after timeoutMs. input (a string) is written to its
 * stdin, which is otherwise /dev/null.
 */
export function run(cmd, args, { timeout = 10000, env, cwd, input } = {}) {
    const p = spawnProgram(cmd, args, { env, cwd, input });
    const timer = setTimeout(() => p.kill('SIGKILL'), timeout);
    return p.done.finally(() => clearTimeout(timer));
}

/**
 * Starts a program without waiting for it, for tests that signal it themselves
 * (kill -9 in the middle of a write). Returns {pid, kill(sig), done}: kill
 * signals that PID only while it runs; done resolves {code, signal, stdout,
 * stderr} (rejects when it cannot start). input (a string) is written to its
 * stdin, which is otherwise /dev/null. The exit hook kills it if the test
 * process ends first.
 */
export function spawnProgram(cmd, args, { env, cwd, input } = {}) {
    const stdin = input === undefined ? 'ignore' : 'pipe';
    const child = spawn(cmd, args, { stdio: [stdin, 'pipe', 'pipe'], env: env ?? process.env, cwd });
    if (input !== undefined) {
        child.stdin.on('error', () => {}); // a program may exit without reading it
        child.stdin.end(input);
    }
    let stdout = '';
    let stderr = '';
    let running = true;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    if (child.pid) children.set(child.pid, child);
    const done = new Promise((resolve, reject) => {
        child.on('error', (e) => {
            running = false;
            reject(e);
        });
        child.on('close', (code, signal) => {
            running = false;
            children.delete(child.pid);
            resolve({ code, signal, stdout, stderr });
        });
    });
    return {
        pid: child.pid,
        kill(sig = 'SIGTERM') {
            if (running && child.pid) {
                try {
                    process.kill(child.pid, sig);
                } catch {
                    // Exited in the meantime.
                }
            }
        },
        done,
    };
}

/** Runs kamratd with args; see run(). */
export function runKamratd(args, opts = {}) {
    if (!fs.existsSync(KAMRATD)) throw new Error(`kamratd not found at ${KAMRATD} (set KAMRATD)`);
    return run(KAMRATD, args, opts);
}

/** Runs kamratctl with args; see run(). */
export function runKamratctl(args, opts = {}) {
    if (!fs.existsSync(KAMRATCTL)) throw new Error(`kamratctl not found at ${KAMRATCTL} (set KAMRATCTL)`);
    return run(KAMRATCTL, args, opts);
}

/**
 * Writes throw-away certificates into dir: ca.pem, server.pem, server.key (ECDSA
 * P-256, SAN localhost and 127.0.0.1). Uses certs/mkcert.sh; when the script is
 * not in the tree yet, makes the same files with openssl directly.
 */
export async function makeCerts(dir) {
    fs.mkdirSync(dir, { recursive: true });
    const script = path.join(REPO, 'certs/mkcert.sh');
    if (fs.existsSync(script)) {
        const r = await run('bash', [script, dir], { timeout: 30000 });
        if (r.code !== 0) throw new Error(`certs/mkcert.sh ${dir} exited ${r.code}: ${r.stderr}${r.stdout}`);
    } else {
        await opensslCerts(dir);
    }
    for (const f of ['ca.pem', 'server.pem', 'server.key']) {
        if (!fs.existsSync(path.join(dir, f))) throw new Error(`certificate step did not write ${dir}/${f}`);
    }
    return { ca: fs.readFileSync(path.join(dir, 'ca.pem')), dir };
}

async function opensslCerts(dir) {
    const p = (f) => path.join(dir, f);
    fs.writeFileSync(
        p('server.ext'),
        'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n' +
            'extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n',
    );
    const steps = [
        ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', p('ca.key')],
        ['req', '-x509', '-new', '-key', p('ca.key'), '-sha256', '-days', '2', '-subj', '/CN=kamrat test CA',
            '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
            '-out', p('ca.pem')],
        ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', p('server.key')],
        ['req', '-new', '-key', p('server.key'), '-subj', '/CN=localhost', '-out', p('server.csr')],
        ['x509', '-req', '-in', p('server.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial',
            '-days', '2', '-sha256', '-extfile', p('server.ext'), '-out', p('server.pem')],
    ];
    for (const args of steps) {
        const r = await run('openssl', args, { timeout: 30000 });
        if (r.code !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
    }
}

/**
 * Makes a temporary directory with certificates, a data directory and a config
 * file, without starting anything. opts: limits, server (extra [server] keys or
 * overrides), tls (overrides), testing ([testing] keys), safety ([safety] keys:
 * crisis_file, risk_words_file), openRooms (default true:
 * hello may name a room), extra (raw text appended), logLevel, port.
 * Returns {dir, port, origin, ca, configPath, dataDir, certDir, configText}.
 */
export async function prepareConfig(opts = {}) {
    const dir = makeTempDir();
    const certDir = path.join(dir, 'certs');
    const { ca } = await makeCerts(certDir);
    const dataDir = path.join(dir, 'data');
    fs.mkdirSync(dataDir, { recursive: true });
    const port = opts.port ?? (await freePort());
    const origin = `https://localhost:${port}`;
    const serverKeys = {
        address: '127.0.0.1',
        port,
        origin,
        web_root: path.join(REPO, 'web'),
        data_dir: dataDir,
        log_level: opts.logLevel ?? 'info',
        ...opts.server,
    };
    const tlsKeys = { cert: path.join(certDir, 'server.pem'), key: path.join(certDir, 'server.key'), ...opts.tls };
    const section = (name, keys) => {
        const lines = Object.entries(keys)
            .filter(([, v]) => v !== undefined && v !== null)
            .map(([k, v]) => `${k} = ${v}`);
        return [`[${name}]`, ...lines].join('\n');
    };
    const parts = [section('server', serverKeys), section('tls', tlsKeys)];
    // The core protocol tests join rooms by name ([testing] open_rooms); tests of
    // groups, sessions and invites pass openRooms: false. [limits] stays last:
    // some tests append keys to it.
    const testing = { open_rooms: opts.openRooms === false ? undefined : 'yes', ...opts.testing };
    if (Object.values(testing).some((v) => v !== undefined)) parts.push(section('testing', testing));
    if (opts.safety && Object.keys(opts.safety).length) parts.push(section('safety', opts.safety));
    if (opts.limits && Object.keys(opts.limits).length) parts.push(section('limits', opts.limits));
    if (opts.extra) parts.push(opts.extra);
    const configText = `${parts.join('\n\n')}\n`;
    const configPath = path.join(dir, 'kamrat.conf');
    fs.writeFileSync(configPath, configText);
    return { dir, port, origin, ca, configPath, dataDir, certDir, configText };
}

/**
 * Starts kamratd with a fresh config (see prepareConfig for opts; opts.args adds
 * command-line arguments, opts.wrap a command that execs it, opts.config an
 * existing prepareConfig result) and waits until GET /healthz answers 200.
 * Returns the server handle; stop(signal) sends the signal to the child's PID,
 * SIGKILLs it after 6 s and resolves {code, signal}.
 */
export async function startServer(opts = {}) {
    if (!fs.existsSync(KAMRATD)) {
        throw new Error(`kamratd not found at ${KAMRATD}; build it (meson setup build && ninja -C build) or set KAMRATD`);
    }
    const cfg = opts.config ?? (await prepareConfig(opts));
    // opts.wrap: a command that execs kamratd in its own process, so the PID
    // stays kamratd's (['prlimit', '--nofile=256:256', '--']).
    const argv = [...(opts.wrap ?? []), KAMRATD, '-c', cfg.configPath, ...(opts.args ?? [])];
    const proc = spawn(argv[0], argv.slice(1), {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, ...opts.env },
    });
    let stdout = '';
    let stderr = '';
    let combined = '';
    proc.stdout.setEncoding('utf8');
    proc.stderr.setEncoding('utf8');
    proc.stdout.on('data', (d) => {
        stdout += d;
        combined += d;
    });
    proc.stderr.on('data', (d) => {
        stderr += d;
        combined += d;
    });
    if (proc.pid) {
        children.set(proc.pid, proc);
        // If this process dies without running its exit hook (SIGKILL, a runner
        // that gives up), a detached watchdog kills this one server by its PID.
        const watchdog = spawn(
            'sh',
            ['-c', WATCHDOG, 'kamrat-watchdog', String(proc.pid), String(process.pid)],
            { detached: true, stdio: 'ignore' },
        );
        watchdog.on('error', () => {});
        watchdog.unref();
    }

    let exitInfo = null;
    let stopping = false;
    let spawnError = null;
    const exited = new Promise((resolve) => {
        proc.on('error', (e) => {
            spawnError = e;
            exitInfo = { code: null, signal: null, at: Date.now(), expected: false };
            resolve(exitInfo);
        });
        proc.on('exit', (code, signal) => {
            exitInfo = { code, signal, at: Date.now(), expected: stopping };
            resolve(exitInfo);
        });
    });

    const server = {
        ...cfg,
        pid: proc.pid,
        proc,
        url: `wss://localhost:${cfg.port}/ws`,
        logs: () => combined,
        stdout: () => stdout,
        stderr: () => stderr,
        exited,
        get exitInfo() {
            return exitInfo;
        },
        /** True while the process runs. */
        alive: () => exitInfo === null,
        /** Sends a signal to the child's PID only. */
        signal(sig) {
            if (exitInfo === null) process.kill(proc.pid, sig);
        },
        /** Stops the server; resolves {code, signal}. Safe to call more than once. */
        async stop(signal = 'SIGTERM') {
            if (exitInfo === null) {
                stopping = true;
                try {
                    process.kill(proc.pid, signal);
                } catch {
                    // Exited in the meantime.
                }
                const timer = setTimeout(() => {
                    if (exitInfo === null) {
                        try {
                            process.kill(proc.pid, 'SIGKILL');
                        } catch {
                            // Exited in the meantime.
                        }
                    }
                }, KILL_AFTER_MS);
                await exited;
                clearTimeout(timer);
            }
            children.delete(proc.pid);
            return { code: exitInfo.code, signal: exitInfo.signal };
        },
        /** Marks a coming exit as intended (the test sends the signal itself). */
        expectExit() {
            stopping = true;
        },
    };

    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
        if (exitInfo !== null) {
            throw new Error(
                `kamratd exited during start-up (code ${exitInfo.code}, signal ${exitInfo.signal}` +
                    `${spawnError ? `, ${spawnError.message}` : ''}); config:\n${cfg.configText}\nlog:\n${tail(combined, 60)}`,
            );
        }
        try {
            const r = await httpRequest(server, { path: '/healthz', timeout: 1000 });
            if (r.status === 200) break;
        } catch {
            // Not listening yet.
        }
        if (Date.now() >= deadline) {
            await server.stop('SIGKILL');
            throw new Error(`kamratd did not answer GET /healthz with 200 within ${READY_TIMEOUT_MS} ms; log:\n${tail(combined, 60)}`);
        }
        await delay(READY_POLL_MS);
    }
    allServers.push(server);
    return server;
}

/**
 * Declares a server shared by the tests of one file: returns a function that starts
 * it on first use (so a start-up failure fails each test with the reason) and stops
 * it after the file's tests.
 */
export function serverFixture(opts = {}) {
    let started = null;
    after(async () => {
        if (!started) return;
        const s = await started.catch(() => null);
        if (s) await s.stop();
    });
    return () =>
        (started ??= startServer(opts).then((srv) => {
            srv.fixture = true; // lives for the whole file
            return srv;
        }));
}

// ---------------------------------------------------------------------------
// HTTP

/**
 * One HTTPS request to the server (no keep-alive). Resolves {status, headers, body}
 * (body a string, or the bytes as a Buffer with binary). opts: method, path,
 * headers, body, timeout, localAddress (a loopback source address, to act as
 * another client), binary.
 */
export function httpRequest(server, { method = 'GET', path: p = '/', headers = {}, body, timeout = 5000, localAddress, binary = false } = {}) {
    return new Promise((resolve, reject) => {
        const req = https.request(
            {
                host: '127.0.0.1',
                port: server.port,
                servername: 'localhost',
                ca: server.ca,
                method,
                path: p,
                agent: false,
                headers: { Host: `localhost:${server.port}`, ...headers },
                timeout,
                localAddress,
            },
            (res) => {
                const chunks = [];
                res.on('data', (c) => chunks.push(c));
                res.on('end', () => {
                    const bytes = Buffer.concat(chunks);
                    resolve({ status: res.statusCode, headers: res.headers, body: binary ? bytes : bytes.toString('utf8') });
                });
                res.on('error', reject);
            },
        );
        req.on('timeout', () => req.destroy(new Error(`${method} ${p}: no answer within ${timeout} ms`)));
        req.on('error', reject);
        req.end(body);
    });
}

/**
 * Resolves once kamratd's store worker has done every request queued before
 * this one (audit rows, bans, session ends): it reads the calendar feed of
 * invite code (default: one that does not exist), which runs on that worker
 * behind them.
 */
export async function storeBarrier(server, code = 'A'.repeat(22)) {
    const r = await httpRequest(server, { path: `/j/${code}/calendar.ics`, timeout: 15000 });
    if (r.status !== 200 && r.status !== 404) throw new Error(`the calendar was answered ${r.status}`);
}

/** GET /healthz, parsed. */
export async function health(server) {
    const r = await httpRequest(server, { path: '/healthz' });
    if (r.status !== 200) throw new Error(`GET /healthz answered ${r.status}: ${r.body}`);
    return JSON.parse(r.body);
}

// ---------------------------------------------------------------------------
// Inbox: received-message queue shared by the ws client and the raw connection

function describePredicate(pred) {
    if (pred === undefined) return 'any message';
    if (typeof pred === 'string') return `a "${pred}" message`;
    if (typeof pred === 'function') return pred.desc ?? (pred.name ? `a message matching ${pred.name}` : 'a matching message');
    return `a message like ${inspect(pred)}`;
}

function toPredicate(pred) {
    if (pred === undefined) return () => true;
    if (typeof pred === 'string') return (m) => m.type === pred;
    if (typeof pred === 'function') return pred;
    return (m) => Object.entries(pred).every(([k, v]) => m[k] === v);
}

/**
 * Queue semantics: every parsed server message is appended to received (never
 * removed) and to queue. next(pred) returns and removes the oldest queued message
 * matching pred; messages that do not match stay queued for later calls, so tests
 * can wait for things in any order. Use received / events() for order and
 * exactly-once checks.
 */
class Inbox {
    constructor(label) {
        this.label = label;
        this.queue = [];
        this.received = [];
        // Every schema or framing problem, for the end-of-test check (so a test
        // runs all its assertions and then fails on the schema); badMessages maps
        // a parsed message to its problem (see schemaProblem); fatal is a problem
        // with no message to carry it (not JSON, binary, bad framing), which fails
        // every later next() at once.
        this.violations = [];
        this.badMessages = new WeakMap();
        this.fatal = null;
        // With strictSchema false (a test about something else), schema problems
        // are only collected here and printed if the test fails.
        this.strictSchema = true;
        this.schemaWarnings = [];
        this.errors = [];
        this.closeInfo = null;
        this.waiters = [];
        this.closed = new Promise((resolve) => {
            this._resolveClosed = resolve;
        });
        openConns.add(this);
    }

    _deliverText(text) {
        let msg;
        try {
            msg = JSON.parse(text);
        } catch {
            const problem = `sent a frame that is not JSON: ${inspect(text)}`;
            this.violations.push(problem);
            this.fatal ??= problem;
            this._wake();
            return;
        }
        let problem = null;
        if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) {
            problem = `sent a frame that is not a JSON object: ${inspect(text)}`;
        } else {
            const problems = schemaProblems(msg);
            if (problems) problem = `message ${inspect(msg)} breaks server.json: ${problems}`;
        }
        if (problem && !this.strictSchema && msg !== null && typeof msg === 'object') {
            this.schemaWarnings.push(problem);
        } else if (problem) {
            this.violations.push(problem);
            if (msg !== null && typeof msg === 'object') this.badMessages.set(msg, problem);
            else this.fatal ??= problem;
        }
        this.received.push(msg);
        this.queue.push(msg);
        this._wake();
    }

    _framing(problem) {
        this.violations.push(problem);
        this.fatal ??= problem;
        this._wake();
    }

    _setClosed(code, reason) {
        if (this.closeInfo) return;
        this.closeInfo = { code, reason };
        this._resolveClosed(this.closeInfo);
        this._wake();
    }

    _wake() {
        for (const w of [...this.waiters]) {
            if (w.check()) {
                clearTimeout(w.timer);
                this.waiters.splice(this.waiters.indexOf(w), 1);
            }
        }
    }

    _queued() {
        return this.queue.length ? this.queue.map((m) => inspect(m, 120)).slice(-8).join(', ') : 'nothing';
    }

    /**
     * The oldest queued message matching pred (a type string, an object of fields
     * to compare with ===, or a function), removed from the queue. Rejects after
     * timeoutMs, when the connection closes first, or when any server message so
     * far broke the schema.
     */
    next(pred, timeoutMs = 3000) {
        const match = toPredicate(pred);
        const desc = describePredicate(pred);
        return new Promise((resolve, reject) => {
            const check = () => {
                if (this.fatal) {
                    reject(new Error(`${this.label}: server ${this.fatal}`));
                    return true;
                }
                const i = this.queue.findIndex((m) => match(m));
                if (i >= 0) {
                    resolve(this.queue.splice(i, 1)[0]);
                    return true;
                }
                if (this.closeInfo) {
                    const { code, reason } = this.closeInfo;
                    reject(new Error(`${this.label}: connection closed (${code} ${inspect(reason)}) while waiting for ${desc}; queued: ${this._queued()}`));
                    return true;
                }
                return false;
            };
            if (check()) return;
            const w = { check };
            w.timer = setTimeout(() => {
                this.waiters.splice(this.waiters.indexOf(w), 1);
                reject(new Error(`${this.label}: no ${desc} within ${timeoutMs} ms; queued: ${this._queued()}`));
            }, timeoutMs);
            this.waiters.push(w);
        });
    }

    /** Why msg (as returned by next) breaks the schema, or undefined. */
    schemaProblem(msg) {
        return this.badMessages.get(msg);
    }

    /** The next ack, welcome or error (the answer to a request). */
    nextReply(timeoutMs = 3000) {
        return this.next(Object.assign(isReply, { desc: 'a reply (ack, welcome or error)' }), timeoutMs);
    }

    /** Resolves the close {code, reason}; rejects after timeoutMs if still open. */
    expectClose(timeoutMs = 3000) {
        return within(this.closed, timeoutMs, `${this.label} to be closed`);
    }

    /** Empties the queue (received keeps everything); returns what was queued. */
    drain() {
        return this.queue.splice(0, this.queue.length);
    }

    /** Every message received so far, in arrival order (including consumed ones). */
    all() {
        return [...this.received];
    }

    /** Room events (message, presence) received so far, in arrival order. */
    events() {
        return this.received.filter(isEvent);
    }

    /** Position of msg in arrival order, or -1. */
    indexOf(msg) {
        return this.received.indexOf(msg);
    }

    get isClosed() {
        return this.closeInfo !== null;
    }
}

// ---------------------------------------------------------------------------
// ws client

/** A WebSocket client built on `ws`; see Inbox for how messages are read. */
export class Client extends Inbox {
    constructor(ws, label) {
        super(label);
        this.ws = ws;
        ws.on('message', (data, isBinary) => {
            if (isBinary) {
                this._framing(`sent a binary frame (${data.length} bytes)`);
                return;
            }
            this._deliverText(data.toString('utf8'));
        });
        ws.on('close', (code, reason) => this._setClosed(code, reason.toString('utf8')));
        ws.on('error', (e) => this.errors.push(e));
    }

    /** Sends obj as one JSON text frame. */
    send(obj) {
        this.ws.send(JSON.stringify(obj));
    }

    /** Sends a string or Buffer as is; opts go to ws.send ({binary, fin}). */
    sendRaw(data, opts = {}) {
        return new Promise((resolve, reject) => {
            this.ws.send(data, opts, (err) => (err ? reject(err) : resolve()));
        });
    }

    /** Sends a say with a fresh id (or opts.id); returns the id. */
    say(text, id = uid('m')) {
        this.send({ type: 'say', id, text });
        return id;
    }

    /**
     * Sends obj (a request; a fresh id is added unless it has one) and resolves its
     * answer: the ack, welcome, error or bans reply whose ref is the id.
     */
    async request(obj, timeoutMs = 3000) {
        const id = obj.id ?? uid('r');
        this.send({ ...obj, id });
        const answer = (m) => m.ref === id && (isReply(m) || m.type === 'bans');
        return this.next(Object.assign(answer, { desc: `the answer to ${obj.type} ${id}` }), timeoutMs);
    }

    /** Sends a say and resolves its reply (ack or error). */
    async sayAndWait(text, id = uid('m'), timeoutMs = 3000) {
        this.send({ type: 'say', id, text });
        return this.next((m) => isReply(m) && m.ref === id, timeoutMs);
    }

    /** Closing handshake with code; resolves when closed (or after 2 s). */
    async close(code = 1000, reason) {
        if (this.closeInfo) return this.closeInfo;
        try {
            this.ws.close(code, reason);
        } catch {
            this.ws.terminate();
        }
        return within(this.closed, 2000, `${this.label} close`).catch(() => {
            this.ws.terminate();
            return this.closed;
        });
    }

    /** Destroys the socket at once: no close frame, no leave. */
    terminate() {
        this.ws.terminate();
    }
}

/**
 * Opens wss://localhost:PORT/ws with `ws`. opts: origin (default server.origin;
 * null sends none), protocol (default kamrat.v1; null offers none; an array offers
 * several), path, headers, label, timeout, wsOptions, strictSchema (default true,
 * or false when KAMRAT_SCHEMA_LAX is set; false only collects schema problems as
 * warnings). Resolves a Client once the
 * upgrade succeeded; rejects with err.status when the server answered otherwise.
 */
export function connect(server, opts = {}) {
    const {
        origin = server.origin,
        protocol = SUBPROTOCOL,
        path: p = '/ws',
        headers = {},
        label = uid('client'),
        timeout = 5000,
        wsOptions = {},
        strictSchema = !process.env.KAMRAT_SCHEMA_LAX,
    } = opts;
    const ws = new WebSocket(`wss://localhost:${server.port}${p}`, protocol ?? undefined, {
        ca: server.ca,
        family: 4,
        perMessageDeflate: false,
        handshakeTimeout: timeout,
        headers: origin == null ? headers : { Origin: origin, ...headers },
        ...wsOptions,
    });
    const client = new Client(ws, label);
    client.strictSchema = strictSchema;
    return new Promise((resolve, reject) => {
        const fail = (err) => {
            openConns.delete(client);
            ws.terminate();
            reject(err);
        };
        ws.once('open', () => resolve(client));
        ws.once('unexpected-response', (req, res) => {
            const err = new Error(`upgrade refused: HTTP ${res.statusCode}`);
            err.status = res.statusCode;
            err.headers = res.headers;
            res.resume();
            req.destroy();
            fail(err);
        });
        ws.once('error', (e) => {
            if (ws.readyState !== WebSocket.OPEN) fail(e);
        });
    });
}

/**
 * Connects and joins room as name. Resolves {client, welcome, presence}: presence is
 * the member's own "joined" event (waited for unless opts.awaitPresence is false).
 * Rejects with err.reply when the server answers hello with an error.
 */
export async function join(server, room, name, opts = {}) {
    const client = await connect(server, { label: name, ...opts });
    const id = 'id' in opts ? opts.id : uid('hello');
    const hello = { type: 'hello', room, name };
    if (id != null) hello.id = id;
    client.send(hello);
    const welcome = await client.nextReply(opts.timeout ?? 3000);
    if (welcome.type !== 'welcome') {
        client.terminate();
        const err = new Error(`hello ${room}/${name} was answered ${inspect(welcome)}`);
        err.reply = welcome;
        throw err;
    }
    let presence = null;
    if (opts.awaitPresence !== false) {
        presence = await client.next(
            (m) => m.type === 'presence' && m.state === 'joined' && m.member === welcome.member,
            opts.timeout ?? 3000,
        );
    }
    client.welcome = welcome;
    return { client, welcome, presence };
}

/**
 * Opens a new connection and sends resume {token, epoch, after_seq} (plus id).
 * Resolves {client, reply} where reply is the welcome or error.
 */
export async function resume(server, { token, epoch, after_seq, id = uid('resume'), label, ...opts }) {
    const client = await connect(server, { label: label ?? 'resumer', ...opts });
    client.send({ type: 'resume', id, token, epoch, after_seq });
    const reply = await client.nextReply();
    if (reply.type === 'welcome') client.welcome = reply;
    return { client, reply };
}

// ---------------------------------------------------------------------------
// Raw TLS connection with hand-made frames

export const OP = { CONT: 0x0, TEXT: 0x1, BINARY: 0x2, CLOSE: 0x8, PING: 0x9, PONG: 0xa };

/**
 * Encodes one WebSocket frame. payload: Buffer or string. fin (default true),
 * rsv (3 bits), opcode, mask (default true, as clients must), maskKey (4 bytes),
 * length (declared length, to lie about it). The 7/16/64-bit length form follows
 * the declared length.
 */
export function encodeFrame({ opcode = OP.TEXT, payload = Buffer.alloc(0), fin = true, rsv = 0, mask = true, maskKey, length } = {}) {
    const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload, 'utf8');
    const len = length ?? data.length;
    let header;
    if (len < 126) {
        header = Buffer.alloc(2);
        header[1] = len;
    } else if (len < 65536) {
        header = Buffer.alloc(4);
        header[1] = 126;
        header.writeUInt16BE(len, 2);
    } else {
        header = Buffer.alloc(10);
        header[1] = 127;
        header.writeBigUInt64BE(BigInt(len), 2);
    }
    header[0] = (fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0x0f);
    if (!mask) return Buffer.concat([header, data]);
    header[1] |= 0x80;
    const key = maskKey ?? crypto.randomBytes(4);
    const body = Buffer.alloc(data.length);
    for (let i = 0; i < data.length; i++) body[i] = data[i] ^ key[i & 3];
    return Buffer.concat([header, key, body]);
}

/** A close frame payload: 2-byte code plus reason. */
export function closePayload(code, reason = '') {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(code, 0);
    return Buffer.concat([b, Buffer.from(reason, 'utf8')]);
}

/**
 * A TLS connection that did the HTTP upgrade by hand. status/statusLine/headers
 * describe the server's answer (status null when the server closed without one);
 * after a 101 the server's frames are parsed: text messages go to the inbox, a
 * close frame sets closeInfo (the server's code; 1006 when the socket ended without
 * one), pings are answered unless autoPong is false.
 */
export class RawConn extends Inbox {
    constructor(socket, label, { autoPong = true } = {}) {
        super(label);
        this.socket = socket;
        this.autoPong = autoPong;
        this.status = null;
        this.statusLine = null;
        this.headers = {};
        this.body = Buffer.alloc(0);
        this.frames = [];
        this.closeFrame = null;
        this._buf = Buffer.alloc(0);
        this._upgraded = false;
        this._fragments = null;
        this._sentClose = false;
    }

    /** True when the server answered the upgrade with 101 Switching Protocols. */
    get upgraded() {
        return this._upgraded;
    }

    /** Writes bytes as they are. */
    write(bytes) {
        return new Promise((resolve) => {
            if (this.socket.destroyed || this.socket.writableEnded) return resolve(false);
            this.socket.write(bytes, () => resolve(true));
        });
    }

    /** Writes one frame; see encodeFrame. */
    sendFrame(frame) {
        return this.write(encodeFrame(frame));
    }

    /** A masked text frame with obj as JSON (or a string as is). */
    sendText(objOrString, extra = {}) {
        const payload = typeof objOrString === 'string' ? objOrString : JSON.stringify(objOrString);
        return this.sendFrame({ opcode: OP.TEXT, payload, ...extra });
    }

    /** A masked close frame with code and reason. */
    sendClose(code = 1000, reason = '') {
        this._sentClose = true;
        return this.sendFrame({ opcode: OP.CLOSE, payload: closePayload(code, reason) });
    }

    /** Destroys the socket. */
    terminate() {
        this.socket.destroy();
    }

    close() {
        this.socket.destroy();
        return this.closed;
    }

    _onData(chunk) {
        if (this._upgraded) {
            this._buf = Buffer.concat([this._buf, chunk]);
            this._parseFrames();
            return;
        }
        if (this.statusLine !== null) {
            // The body of an answer other than 101.
            this.body = Buffer.concat([this.body, chunk]);
            return;
        }
        this._buf = Buffer.concat([this._buf, chunk]);
        const end = this._buf.indexOf('\r\n\r\n');
        if (end < 0) {
            if (this._buf.length > 65536) this.socket.destroy();
            return;
        }
        const head = this._buf.subarray(0, end).toString('latin1').split('\r\n');
        const rest = Buffer.from(this._buf.subarray(end + 4));
        this._buf = Buffer.alloc(0);
        this.statusLine = head[0];
        const m = /^HTTP\/1\.[01] (\d{3})/.exec(head[0]);
        this.status = m ? Number(m[1]) : -1;
        for (const line of head.slice(1)) {
            const i = line.indexOf(':');
            if (i < 0) continue;
            const k = line.slice(0, i).trim().toLowerCase();
            const v = line.slice(i + 1).trim();
            this.headers[k] = k in this.headers ? `${this.headers[k]}, ${v}` : v;
        }
        if (this.status === 101) {
            this._upgraded = true;
            this._buf = rest;
            this._resolveHead?.();
            this._parseFrames();
        } else {
            this.body = rest;
            this._resolveHead?.();
        }
    }

    _parseFrames() {
        for (;;) {
            const buf = this._buf;
            if (buf.length < 2) return;
            const fin = (buf[0] & 0x80) !== 0;
            const rsv = (buf[0] >> 4) & 7;
            const opcode = buf[0] & 0x0f;
            const masked = (buf[1] & 0x80) !== 0;
            let len = buf[1] & 0x7f;
            let off = 2;
            if (len === 126) {
                if (buf.length < 4) return;
                len = buf.readUInt16BE(2);
                off = 4;
            } else if (len === 127) {
                if (buf.length < 10) return;
                len = Number(buf.readBigUInt64BE(2));
                off = 10;
            }
            let key = null;
            if (masked) {
                if (buf.length < off + 4) return;
                key = buf.subarray(off, off + 4);
                off += 4;
            }
            if (buf.length < off + len) return;
            const payload = Buffer.from(buf.subarray(off, off + len));
            if (key) for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3];
            this._buf = buf.subarray(off + len);
            if (masked) this._framing('sent a masked frame');
            if (rsv) this._framing(`sent a frame with RSV bits ${rsv}`);
            this._onFrame({ fin, rsv, opcode, payload });
        }
    }

    _onFrame(f) {
        this.frames.push(f);
        switch (f.opcode) {
            case OP.CLOSE: {
                const code = f.payload.length >= 2 ? f.payload.readUInt16BE(0) : 1005;
                const reason = f.payload.subarray(2).toString('utf8');
                this.closeFrame = { code, reason };
                if (!this._sentClose) {
                    this._sentClose = true;
                    const echo = f.payload.length >= 2 ? f.payload.subarray(0, 2) : Buffer.alloc(0);
                    this.socket.write(encodeFrame({ opcode: OP.CLOSE, payload: echo }));
                }
                this.socket.end();
                break;
            }
            case OP.PING:
                if (this.autoPong) this.socket.write(encodeFrame({ opcode: OP.PONG, payload: f.payload }));
                break;
            case OP.PONG:
                break;
            case OP.TEXT:
            case OP.BINARY:
                this._fragments = { opcode: f.opcode, parts: [f.payload] };
                if (f.fin) this._finishMessage();
                break;
            case OP.CONT:
                if (!this._fragments) {
                    this._framing('sent a continuation frame without a start');
                    break;
                }
                this._fragments.parts.push(f.payload);
                if (f.fin) this._finishMessage();
                break;
            default:
                this._framing(`sent a frame with opcode ${f.opcode}`);
        }
    }

    _finishMessage() {
        const { opcode, parts } = this._fragments;
        this._fragments = null;
        const data = Buffer.concat(parts);
        if (opcode === OP.BINARY) {
            this._framing(`sent a binary frame (${data.length} bytes)`);
            return;
        }
        this._deliverText(data.toString('utf8'));
    }
}

/**
 * Opens a TLS socket to the server and sends an upgrade request built by hand.
 * opts: path ('/ws'), method ('GET'), origin (server.origin; null omits), host
 * ('localhost:PORT'; null omits), protocol ('kamrat.v1'; null omits), version
 * ('13'; null omits), extensions (Sec-WebSocket-Extensions), key, headers (extra
 * [name, value] pairs or an object), request (a complete raw request string,
 * replacing all of the above), autoPong, timeout, localAddress (source address).
 * Resolves a RawConn once the answer's head arrived or the socket ended without one.
 */
export function rawConnect(server, opts = {}) {
    const {
        path: p = '/ws',
        method = 'GET',
        origin = server.origin,
        host = `localhost:${server.port}`,
        protocol = SUBPROTOCOL,
        version = '13',
        extensions,
        key = crypto.randomBytes(16).toString('base64'),
        headers = [],
        timeout = 5000,
        label = uid('raw'),
    } = opts;
    let request = opts.request;
    if (request === undefined) {
        const lines = [`${method} ${p} HTTP/1.1`];
        if (host != null) lines.push(`Host: ${host}`);
        lines.push('Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${key}`);
        if (version != null) lines.push(`Sec-WebSocket-Version: ${version}`);
        if (origin != null) lines.push(`Origin: ${origin}`);
        if (protocol != null) lines.push(`Sec-WebSocket-Protocol: ${protocol}`);
        if (extensions != null) lines.push(`Sec-WebSocket-Extensions: ${extensions}`);
        const extra = Array.isArray(headers) ? headers : Object.entries(headers);
        for (const [k, v] of extra) lines.push(`${k}: ${v}`);
        request = `${lines.join('\r\n')}\r\n\r\n`;
    }
    return new Promise((resolve, reject) => {
        const socket = tls.connect({
            host: '127.0.0.1',
            port: server.port,
            servername: 'localhost',
            ca: server.ca,
            ALPNProtocols: ['http/1.1'],
            localAddress: opts.localAddress,
        });
        const conn = new RawConn(socket, label, opts);
        conn.key = key;
        conn.expectedAccept = crypto.createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
        const timer = setTimeout(() => {
            socket.destroy();
            reject(new Error(`${label}: no answer to the upgrade request within ${timeout} ms`));
        }, timeout);
        const done = () => {
            clearTimeout(timer);
            resolve(conn);
        };
        conn._resolveHead = done;
        socket.on('secureConnect', () => socket.write(request));
        socket.on('data', (d) => conn._onData(d));
        socket.on('error', (e) => conn.errors.push(e));
        socket.on('close', () => {
            conn._setClosed(conn.closeFrame?.code ?? 1006, conn.closeFrame?.reason ?? '');
            done();
        });
    });
}

/**
 * Sends a complete raw HTTP request (string) over TLS and resolves
 * {status, headers, body, statusLine} once the server closes the connection or
 * timeout passes. For requests https.request would normalise or refuse.
 */
export async function rawHttp(server, request, { timeout = 5000 } = {}) {
    const conn = await rawConnect(server, { request, timeout, label: uid('http') });
    await within(conn.closed, timeout, 'the server to end the HTTP answer').catch(() => conn.terminate());
    openConns.delete(conn);
    return { status: conn.status, statusLine: conn.statusLine, headers: conn.headers, body: conn.body.toString('utf8') };
}

// ---------------------------------------------------------------------------
// test(): node:test with server logs on failure and per-test client checks

/**
 * Like node:test's test(name, [options], fn), plus: on failure the log lines each
 * kamratd wrote during the test are printed as diagnostics; a schema violation in
 * any server message fails the test once its body has run; a server that exited
 * without being told to fails the test; the connections the test opened are
 * terminated afterwards. Default timeout 60 s.
 */
export function test(name, opts, fn) {
    if (typeof opts === 'function') {
        fn = opts;
        opts = {};
    }
    return nodeTest(name, { timeout: 60000, ...opts }, async (t) => {
        const startedAt = Date.now();
        const marks = new Map(allServers.map((s) => [s, s.logs().length]));
        let failure = null;
        try {
            await fn(t);
        } catch (e) {
            failure = e;
        }
        const conns = [...openConns];
        openConns.clear();
        for (const c of conns) c.terminate();
        // A server a test started for itself ends with the test (fixtures live on),
        // so no process keeps the runner waiting.
        for (const srv of allServers) {
            if (!srv.fixture && srv.alive()) await srv.stop();
        }
        if (!failure) {
            const v = conns.flatMap((c) => c.violations.map((x) => `${c.label}: server ${x}`));
            if (v.length) failure = new Error(`server messages broke the protocol schema:\n${v.slice(0, 10).join('\n')}`);
        }
        if (!failure) {
            const crashed = allServers.find((s) => s.exitInfo && !s.exitInfo.expected && s.exitInfo.at >= startedAt);
            if (crashed) {
                failure = new Error(`kamratd (port ${crashed.port}) exited unexpectedly: code ${crashed.exitInfo.code}, signal ${crashed.exitInfo.signal}`);
            }
        }
        if (failure) {
            for (const c of conns) {
                for (const v of c.violations) t.diagnostic(`schema violation: ${c.label}: server ${v}`);
                for (const w of c.schemaWarnings) t.diagnostic(`schema warning: ${c.label}: server ${w}`);
            }
            for (const s of allServers) {
                const text = s.logs().slice(marks.get(s) ?? 0);
                if (!text.trim()) continue;
                t.diagnostic(`kamratd port ${s.port} log during this test:`);
                for (const line of tail(text.trimEnd(), LOG_TAIL_LINES).split('\n')) t.diagnostic(`  ${line}`);
            }
            throw failure;
        }
    });
}

// ---------------------------------------------------------------------------
// Groups, sessions, leaders and participants, set up with the real kamratctl

export const LEADER_PASSWORD = 'lived experience 2026';

/** Runs kamratctl on cfg's configuration; resolves stdout, throws unless it exits 0. */
export async function ctl(cfg, args, { input, timeout = 20000 } = {}) {
    const r = await runKamratctl(['-c', cfg.configPath, ...args], { input, timeout });
    if (r.code !== 0) throw new Error(`kamratctl ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`);
    return r.stdout;
}

/** kamratctl --json ARGS, parsed. */
export async function ctlJson(cfg, args, opts) {
    return JSON.parse(await ctl(cfg, ['--json', ...args], opts));
}

/** "YYYY-MM-DD HH:MM" in UTC, minutes from now (rounded down). */
export function utcStamp(minutesFromNow) {
    return new Date(Date.now() + minutesFromNow * 60000).toISOString().slice(0, 16).replace('T', ' ');
}

/** A participant key: 32 random bytes in base64url (43 characters). */
export function participantKey() {
    return crypto.randomBytes(32).toString('base64url');
}

/** Makes an invite of group; resolves its 22-character code. */
export async function createInvite(cfg, group, { personal = false } = {}) {
    const link = await ctl(cfg, ['invite', 'create', group, ...(personal ? ['--personal'] : [])]);
    const m = link.match(/\/j\/([A-Za-z0-9_-]{22})/);
    if (!m) throw new Error(`kamratctl invite create printed no link: ${link}`);
    return m[1];
}

/** Adds a leader account and makes it a leader of group. */
export async function addGroupLeader(cfg, group, username, password = LEADER_PASSWORD) {
    await ctl(cfg, ['leader', 'add', username, '--password-stdin'], { input: `${password}\n` });
    await ctl(cfg, ['group', 'leader', 'add', group, username]);
}

/**
 * A group with leaders, a session whose lobby is open now and a group invite.
 * opts: group (name), leaders (usernames), language, description, agreement,
 * max, history, privateMessages, start (minutes from now, default 5),
 * duration (minutes), lobby (minutes). Resolves {group, leaders, session, code}.
 */
export async function setUpGroup(cfg, opts = {}) {
    const {
        group = uid('Ryhmä '),
        leaders = [uid('lead').toLowerCase()],
        language = 'fi',
        description = 'Vertaistukea torstaisin',
        agreement = 'What is said here stays here.\n',
        max = 20,
        history,
        privateMessages,
        start = 5,
        duration = 60,
        lobby = 15,
    } = opts;
    await ctl(cfg, ['group', 'add', group, '--language', language, '--description', description, '--max', String(max)]);
    const agreementFile = path.join(cfg.dir, `agreement-${crypto.randomBytes(4).toString('hex')}.txt`);
    fs.writeFileSync(agreementFile, agreement);
    const edit = ['group', 'edit', group, '--agreement-file', agreementFile];
    if (history) edit.push('--history', history);
    if (privateMessages) edit.push('--private-messages', privateMessages);
    await ctl(cfg, edit);
    for (const l of leaders) await addGroupLeader(cfg, group, l);
    await ctl(cfg, ['session', 'add', group, '--start', utcStamp(start), '--duration', String(duration), '--tz', 'UTC', '--lobby', String(lobby)]);
    const sessions = await ctlJson(cfg, ['session', 'list', group]);
    const code = await createInvite(cfg, group);
    return { group, leaders, session: sessions[0].id, code };
}

/** POST /api/login; resolves the token (throws on any other answer). */
export async function leaderLogin(server, username, password = LEADER_PASSWORD) {
    const r = await httpRequest(server, {
        method: 'POST',
        path: '/api/login',
        headers: { 'Content-Type': 'application/json', Origin: server.origin },
        body: JSON.stringify({ username, password }),
    });
    if (r.status !== 200) throw new Error(`login ${username}: ${r.status} ${r.body}`);
    return JSON.parse(r.body).token;
}

/**
 * Connects and sends hello with fields. Resolves {client, reply}; on a welcome
 * the client gets welcome, member, name, token and epoch.
 */
export async function enter(server, fields, { label, timeout = 5000, ...opts } = {}) {
    const client = await connect(server, { label: label ?? fields.name ?? 'hello', ...opts });
    const id = uid('hello');
    client.send({ type: 'hello', id, ...fields });
    const reply = await client.next((m) => isReply(m) && m.ref === id, timeout);
    if (reply.type === 'welcome') {
        client.welcome = reply;
        client.member = reply.member;
        client.name = reply.name;
        client.token = reply.token;
        client.epoch = reply.epoch;
    }
    return { client, reply };
}

/**
 * A barrier: once a request sent now is answered, every event the server
 * addressed to client before it got the request has arrived. Uses `agree`,
 * which changes nothing (any answer will do).
 */
export async function fence(client, timeoutMs = 3000) {
    return client.request({ type: 'agree' }, timeoutMs);
}

/**
 * A running kamratd with one group (leaders, agreement, a session whose lobby is
 * open now, a group invite), the first leader logged in (POST /api/login) and in
 * the room, the session opened, and participants who entered with the group
 * invite and agreed. Every client's queue is empty when it resolves.
 *
 * opts: participants (a count, default 2, or an array of pseudonyms); open
 * (default true; false: the participants wait in the lobby); agree (default
 * true); keys (default false; true: participants send a fresh participant key,
 * which only the ban tests need); leaders (a
 * count of leader accounts, default 1; only the first enters); leaderEnters
 * (default true); group settings as setUpGroup (privateMessages, history, max,
 * language, start, duration); crisis and riskWords (objects written as the
 * [safety] files); safety ([safety] keys as they are); limits (default: a
 * generous say rate); testing; logLevel; args (kamratd's, e.g. ['-v']); extra (config
 * text appended, e.g. a [branding] section).
 *
 * The fixture: server, cfg, group, session, code (the group invite), leaders
 * (usernames), leaderName, token, leader (client), participants (clients, each
 * with member, name, key, token, epoch, welcome), p (clients by pseudonym), and
 * enter(name, opts), enterLeader(username, opts), login(username), ctl(args),
 * audit(), settle(clients), restart().
 */
export async function sessionFixture(opts = {}) {
    const {
        participants = 2,
        open = true,
        agree = true,
        keys = false,
        leaders: leaderCount = 1,
        leaderEnters = true,
        crisis,
        riskWords,
        limits = {},
        testing,
        logLevel,
    } = opts;
    const names = typeof participants === 'number'
        ? ['Sol', 'Kim', 'Ilo', 'Vesa', 'Noor', 'Aada', 'Rami', 'Tove', 'Juno', 'Eeva'].slice(0, participants)
        : participants;
    if (names.length < (typeof participants === 'number' ? participants : 0)) throw new Error('sessionFixture: at most 10 default names');
    const safetyDir = makeTempDir('kamrat-safety-');
    const safety = { ...opts.safety };
    if (crisis !== undefined) {
        safety.crisis_file = path.join(safetyDir, 'crisis.json');
        fs.writeFileSync(safety.crisis_file, JSON.stringify(crisis));
    }
    if (riskWords !== undefined) {
        safety.risk_words_file = path.join(safetyDir, 'risk-words.json');
        fs.writeFileSync(safety.risk_words_file, JSON.stringify(riskWords));
    }
    const cfg = await prepareConfig({
        openRooms: false,
        limits: { rate_per_sec: 200, rate_burst: 200, max_conns_per_address: 200, max_websockets_per_address: 200, ...limits },
        testing,
        safety,
        logLevel,
        extra: opts.extra,
    });
    const leaderNames = Array.from({ length: leaderCount }, (_, i) => `${uid(`l${i}`).toLowerCase()}`);
    const g = await setUpGroup(cfg, { ...opts, leaders: leaderNames });
    const fx = {
        server: await startServer({ config: cfg, args: opts.args, env: opts.env }),
        cfg,
        group: g.group,
        session: g.session,
        code: g.code,
        leaders: leaderNames,
        leaderName: leaderNames[0],
        token: null,
        leader: null,
        participants: [],
        p: {},
    };

    fx.login = (username = fx.leaderName) => leaderLogin(fx.server, username);
    fx.ctl = (args, input) => ctl(cfg, args, { input });
    /**
     * The audit rows about this group, oldest first. kamratd writes them on
     * its store worker, one request at a time in order: the calendar feed,
     * read on that worker too, is answered once every row asked for before
     * it is written.
     */
    fx.audit = async () => {
        await storeBarrier(fx.server, fx.code);
        return ctlJson(cfg, ['audit', '--group', fx.group, '--limit', '100000']);
    };

    /** A leader logs in and enters; resolves {client, reply, token}. */
    fx.enterLeader = async (username = fx.leaderName, o = {}) => {
        const token = o.token ?? (await fx.login(username));
        const { client, reply } = await enter(fx.server, { token, session: fx.session }, { label: o.label ?? username });
        if (reply.type !== 'welcome') throw new Error(`leader ${username} hello was answered ${inspect(reply)}`);
        return { client, reply, token };
    };

    /**
     * A participant enters with an invite (default the group invite) as name.
     * o: key (a participant key; default a fresh one when the fixture has keys,
     * false for none),
     * invite, agree (default: as the fixture), expect ('welcome' default; null
     * returns any reply), label. Resolves {client, reply}; when the participant
     * came into the open room its own presence joined has been consumed.
     */
    fx.enter = async (name, o = {}) => {
        const key = o.key === false ? undefined : (o.key ?? (keys ? participantKey() : undefined));
        const fields = { invite: o.invite ?? fx.code, name };
        if (key) fields.key = key;
        const { client, reply } = await enter(fx.server, fields, { label: o.label ?? name });
        client.key = key;
        const expect = 'expect' in o ? o.expect : 'welcome';
        if (expect && reply.type !== expect) throw new Error(`hello ${name} was answered ${inspect(reply)}`);
        if (reply.type !== 'welcome') return { client, reply };
        if (reply.state === 'open') {
            await client.next((m) => m.type === 'presence' && m.state === 'joined' && m.member === reply.member);
        }
        if (o.agree ?? agree) {
            const a = await client.request({ type: 'agree' });
            if (a.type !== 'ack') throw new Error(`agree ${name} was answered ${inspect(a)}`);
        }
        return { client, reply };
    };

    /** Waits until every client got what was sent to it so far, then empties their queues. */
    fx.settle = async (clients = [fx.leader, ...fx.participants]) => {
        const live = clients.filter((c) => c && !c.isClosed);
        await Promise.all(live.map((c) => fence(c)));
        for (const c of live) c.drain();
    };

    /** Stops kamratd (SIGTERM) and starts it again on the same configuration and data. */
    fx.restart = async () => {
        await fx.server.stop();
        fx.server = await startServer({ config: cfg });
        return fx.server;
    };

    if (leaderEnters) {
        const l = await fx.enterLeader();
        fx.leader = l.client;
        fx.token = l.token;
        if (open) {
            const a = await fx.leader.request({ type: 'open' });
            if (a.type !== 'ack') throw new Error(`open was answered ${inspect(a)}`);
        }
    }
    for (const name of names) {
        const { client } = await fx.enter(name);
        fx.participants.push(client);
        fx.p[name] = client;
    }
    await fx.settle();
    return fx;
}

/** Asserts reply is an error with code (and the given fields); returns it. */
export function expectError(reply, code, fields = {}) {
    if (reply?.type !== 'error' || reply.code !== code) {
        throw new Error(`expected error ${code}, got ${inspect(reply)}`);
    }
    for (const [k, v] of Object.entries(fields)) {
        if (reply[k] !== v) throw new Error(`error ${code}: ${k} is ${inspect(reply[k])}, expected ${inspect(v)}`);
    }
    return reply;
}

/** Asserts reply is an ack (with seq when withSeq is true, without when false); returns it. */
export function expectAck(reply, withSeq) {
    if (reply?.type !== 'ack') throw new Error(`expected an ack, got ${inspect(reply)}`);
    if (withSeq === true && !Number.isSafeInteger(reply.seq)) throw new Error(`ack without seq: ${inspect(reply)}`);
    if (withSeq === false && reply.seq !== undefined) throw new Error(`ack with seq (expected none): ${inspect(reply)}`);
    return reply;
}

/**
 * Fences every open client and fails when any of them has something queued (an
 * event nobody expected). desc says what should not have caused anything.
 */
export async function assertQuiet(clients, desc = 'nothing') {
    const live = clients.filter((c) => c && !c.isClosed);
    await Promise.all(live.map((c) => fence(c)));
    for (const c of live) {
        const left = c.drain();
        if (left.length) throw new Error(`${c.label} got ${left.map((m) => inspect(m, 160)).join(', ')} after ${desc}`);
    }
}
