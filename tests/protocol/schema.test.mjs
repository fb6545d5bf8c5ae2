// Checks protocol/schema and protocol/examples against each other and against
// protocol/README.md. Run with `node --test tests/protocol/`.
//
// Besides the JSON Schemas, this file holds a small model of the server's decoder
// (README section 6, "Which error a frame gets", with the form rules of hello from
// section 4 and of admit and deny from section 4a). Every example in requests.json
// must get from the model exactly the code and field it lists, so an example that
// breaks two rules by accident, or expects the wrong one, fails here before it
// misleads the server's tests.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { render } from '../../protocol/examples/generate.mjs';

const PROTOCOL = new URL('../../protocol/', import.meta.url);
const SCHEMA_DIR = new URL('schema/', PROTOCOL);
const EXAMPLES = new URL('examples/', PROTOCOL);
const SCHEMA_BASE = 'https://kamrat.invalid/schema/';

const readJson = (url) => JSON.parse(readFileSync(url, 'utf8'));
const README = readFileSync(new URL('README.md', PROTOCOL), 'utf8');
const REQUESTS = readJson(new URL('requests.json', EXAMPLES));

// Invalid frames that a schema cannot reject, because the fault is in the JSON
// text rather than in the value JSON.parse makes of it.
const TEXT_LEVEL_CODES = new Set([
    'too_big', // frame size in bytes
    'duplicate_key', // JSON.parse keeps the last value
    'invalid_utf8', // JSON.parse accepts lone surrogate escapes
]);
// Integers written with a fraction or exponent are bad_field, but parse to integers.
const TEXT_LEVEL_EXAMPLES = new Set([
    'bad_field: after_seq 1.0 has a fraction',
    'bad_field: after_seq 1e2 has an exponent',
    'bad_field: session 1.0 has a fraction',
    'bad_field: session 1e1 has an exponent',
    'bad_field: to 4.0 has a fraction',
    'bad_field: mute member 4.0 has a fraction',
    'bad_field: ban member 4e0 has an exponent',
    'bad_field: seconds 6e1 has an exponent',
    'bad_field: order entry 2.0 has a fraction',
]);

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const LIMITS = { max_message_bytes: 16384, max_text_chars: 4000, max_name_chars: 40 };
const MAX_DEPTH = 4;

function makeAjv() {
    // strictRequired would reject `required` inside if/then, which error.json uses.
    const ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true });
    addFormats(ajv);
    for (const file of readdirSync(SCHEMA_DIR).filter((f) => f.endsWith('.json'))) {
        ajv.addSchema(readJson(new URL(file, SCHEMA_DIR)));
    }
    return ajv;
}
const ajv = makeAjv();
const validator = (file) => {
    const v = ajv.getSchema(SCHEMA_BASE + file);
    assert.ok(v, `schema ${file} not found`);
    return v;
};
// A server message whose type is also a request's (mute, bans) has a schema file of
// its own name; every other message type's schema is <type>.json.
const SERVER_SCHEMA = { mute: 'mute_event.json', bans: 'bans_reply.json' };
const serverSchemaFile = (type) => SERVER_SCHEMA[type] ?? `${type}.json`;

// ---------------------------------------------------------------------------
// Model decoder

class Fault extends Error {
    constructor(code, field) {
        super(field === undefined ? code : `${code} (${field})`);
        this.code = code;
        this.field = field;
    }
}
class Int {
    constructor(value) {
        this.value = value; // BigInt
    }
}
class Real {
    constructor(value) {
        this.value = value;
    }
}

/** Deepest nesting of [ and { outside strings; brackets need not balance. */
function nestingDepth(text) {
    let depth = 0;
    let max = 0;
    let inString = false;
    for (let i = 0; i < text.length; i++) {
        const c = text[i];
        if (inString) {
            if (c === '\\') i++;
            else if (c === '"') inString = false;
        } else if (c === '"') inString = true;
        else if (c === '[' || c === '{') max = Math.max(max, ++depth);
        else if (c === ']' || c === '}') depth--;
    }
    return max;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;

/**
 * Parses JSON the way jansson 2.14 does with JSON_REJECT_DUPLICATES | JSON_DECODE_ANY:
 * integers outside int64 and reals that overflow are errors, \u0000 is refused, and
 * the first fault in the text decides the error. Objects become Maps in key order.
 */
function parseJson(text) {
    let i = 0;
    const fail = (code = 'bad_json') => {
        throw new Fault(code);
    };
    const skipSpace = () => {
        while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
    };
    const expect = (c) => {
        skipSpace();
        if (text[i] !== c) fail();
        i++;
    };
    function string() {
        i++; // opening quote
        const start = i;
        // First pass, as jansson's lexer: syntax of escapes, no raw control characters.
        for (;;) {
            if (i >= text.length) fail();
            const c = text.charCodeAt(i);
            if (c === 0x22) break;
            if (c < 0x20) fail();
            if (c === 0x5c) {
                const e = text[i + 1];
                if (e === 'u') {
                    if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail();
                    i += 6;
                } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
                else fail();
            } else i++;
        }
        const body = text.slice(start, i);
        i++; // closing quote
        // Second pass: decode, refusing escapes that are not valid Unicode.
        let out = '';
        for (let j = 0; j < body.length; ) {
            if (body[j] !== '\\') {
                out += body[j++];
                continue;
            }
            const e = body[j + 1];
            if (e !== 'u') {
                out += { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' }[e];
                j += 2;
                continue;
            }
            const hi = parseInt(body.slice(j + 2, j + 6), 16);
            j += 6;
            if (hi >= 0xdc00 && hi <= 0xdfff) fail('invalid_utf8');
            if (hi >= 0xd800 && hi <= 0xdbff) {
                if (body[j] !== '\\' || body[j + 1] !== 'u') fail('invalid_utf8');
                const lo = parseInt(body.slice(j + 2, j + 6), 16);
                if (lo < 0xdc00 || lo > 0xdfff) fail('invalid_utf8');
                j += 6;
                out += String.fromCharCode(hi, lo);
            } else out += String.fromCharCode(hi);
        }
        if (out.includes('\u0000')) fail();
        return out;
    }
    function number() {
        NUMBER.lastIndex = i;
        const m = NUMBER.exec(text);
        if (!m) fail();
        i = NUMBER.lastIndex;
        if (m[1] === undefined && m[2] === undefined) {
            const v = BigInt(m[0]);
            if (v < INT64_MIN || v > INT64_MAX) fail();
            return new Int(v);
        }
        const v = Number(m[0]);
        if (!Number.isFinite(v)) fail();
        return new Real(v);
    }
    function value() {
        skipSpace();
        const c = text[i];
        if (c === '{') {
            i++;
            const map = new Map();
            skipSpace();
            if (text[i] === '}') {
                i++;
                return map;
            }
            for (;;) {
                skipSpace();
                if (text[i] !== '"') fail();
                const key = string();
                if (map.has(key)) fail('duplicate_key');
                expect(':');
                map.set(key, value());
                skipSpace();
                if (text[i] === ',') i++;
                else if (text[i] === '}') {
                    i++;
                    return map;
                } else fail();
            }
        }
        if (c === '[') {
            i++;
            const arr = [];
            skipSpace();
            if (text[i] === ']') {
                i++;
                return arr;
            }
            for (;;) {
                arr.push(value());
                skipSpace();
                if (text[i] === ',') i++;
                else if (text[i] === ']') {
                    i++;
                    return arr;
                } else fail();
            }
        }
        if (c === '"') return string();
        if (c === '-' || (c >= '0' && c <= '9')) return number();
        for (const [word, v] of [['true', true], ['false', false], ['null', null]]) {
            if (text.startsWith(word, i)) {
                i += word.length;
                return v;
            }
        }
        return fail();
    }
    const v = value();
    skipSpace();
    if (i !== text.length) fail();
    return v;
}

const codePoints = (s) => [...s].length;
const ID = /^[A-Za-z0-9_.:-]{1,64}$/;
const ROOM = /^[A-Za-z0-9_-]{1,64}$/;
const TOKEN = /^[A-Za-z0-9_-]{43}$/;
const INVITE = /^[A-Za-z0-9_-]{22}$/;
const EPOCH = /^[0-9a-f]{16}$/;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const TEXT_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
const BIDI_CONTROL = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
// Unicode White_Space, written out so the model does not lean on \s.
const WHITE_SPACE = /[\u0009-\u000d\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;

const KEY = /^[A-Za-z0-9_-]{43}$/;

const isString = (v) => typeof v === 'string';
const isIntIn = (v, min, max) => v instanceof Int && v.value >= BigInt(min) && v.value <= BigInt(max);
const MAX_SAFE = 2n ** 53n - 1n;
const isUint = (v) => isIntIn(v, 0, MAX_SAFE);
const isSession = (v) => isIntIn(v, 1, MAX_SAFE); // also a ban id or a seq a request names
// Member ids are below 2^32 (README section 4a, Fields).
const isMember = (v) => isIntIn(v, 1, 4294967295);
const isOrder = (v) =>
    Array.isArray(v) && v.length >= 1 && v.length <= 500 && v.every(isMember) &&
    new Set(v.map((m) => m.value)).size === v.length;

// Field tables of README section 4, in table order: [field, required, check].
// A check returns nothing when the value is good, else the error code. hello's
// fields are all optional one by one; its form rules come after (checkHello).
const stringField = (re) => (v) => (isString(v) && re.test(v) ? undefined : 'bad_field');
const valueField = (ok) => (v) => (ok(v) ? undefined : 'bad_field');
const textField = (min, max) => (v) => {
    if (!isString(v) || codePoints(v) < min || TEXT_CONTROL.test(v)) return 'bad_field';
    return codePoints(v) > max ? 'text_too_long' : undefined;
};
const ID_FIELD = ['id', false, stringField(ID)];
const idOnly = [ID_FIELD];
const onMember = [ID_FIELD, ['member', true, valueField(isMember)]];
const bool = valueField((v) => typeof v === 'boolean');
const REQUESTS_TABLE = {
    hello: [
        ['id', false, stringField(ID)],
        ['invite', false, stringField(INVITE)],
        ['token', false, stringField(TOKEN)],
        ['session', false, (v) => (isSession(v) ? undefined : 'bad_field')],
        ['room', false, stringField(ROOM)],
        ['name', false, (v) => {
            if (!isString(v)) return 'bad_field';
            const n = codePoints(v);
            if (n < 1 || n > LIMITS.max_name_chars) return 'bad_name';
            if (CONTROL.test(v) || BIDI_CONTROL.test(v)) return 'bad_name';
            if (WHITE_SPACE.test([...v][0]) || WHITE_SPACE.test([...v].at(-1))) return 'bad_name';
            return undefined;
        }],
        ['key', false, stringField(KEY)],
    ],
    resume: [
        ['id', false, stringField(ID)],
        ['token', true, stringField(TOKEN)],
        ['epoch', true, stringField(EPOCH)],
        ['after_seq', true, (v) => (isUint(v) ? undefined : 'bad_field')],
    ],
    say: [
        ['id', true, stringField(ID)],
        ['text', true, textField(1, LIMITS.max_text_chars)],
        ['to', false, valueField((v) => v === 'leaders' || isMember(v))],
    ],
    agree: idOnly,
    open: idOnly,
    leave: [ID_FIELD, ['safe', false, bool]],
    // Section 4a
    admit: [ID_FIELD, ['member', false, valueField(isMember)], ['all', false, valueField((v) => v === true)]],
    deny: [ID_FIELD, ['member', false, valueField(isMember)], ['all', false, valueField((v) => v === true)]],
    to_lobby: onMember,
    mute: [...onMember, ['minutes', false, valueField((v) => isIntIn(v, 1, 1440))]],
    unmute: onMember,
    remove: onMember,
    ban: onMember,
    unban: [ID_FIELD, ['ban', true, valueField(isSession)]],
    bans: idOnly,
    delete: [ID_FIELD, ['seq', true, valueField(isSession)]],
    lock: [ID_FIELD, ['on', true, bool]],
    pause: [ID_FIELD, ['on', true, bool]],
    slow: [ID_FIELD, ['seconds', true, valueField((v) => isIntIn(v, 0, 3600))]],
    topic: [ID_FIELD, ['text', true, textField(0, 500)]],
    promote: onMember,
    demote: onMember,
    end: idOnly,
    round_start: [
        ID_FIELD,
        ['kind', true, valueField((v) => ['check_in', 'check_out', 'round'].includes(v))],
        ['order', false, valueField(isOrder)],
        ['exclusive', false, bool],
    ],
    round_pass: idOnly,
    round_done: idOnly,
    round_skip: idOnly,
    round_order: [ID_FIELD, ['order', true, valueField(isOrder)]],
    round_end: idOnly,
    hand: [ID_FIELD, ['up', true, bool], ['member', false, valueField(isMember)]],
    not_ok: idOnly,
    report: [ID_FIELD, ['seq', true, valueField(isSession)]],
};
// The requests of README section 4; the others are those of section 4a.
const SECTION_4 = ['hello', 'resume', 'say', 'agree', 'open', 'leave'];

// The ways into a room, in the order that decides which one a frame with two names.
const HELLO_WAYS = ['invite', 'token', 'room'];

/** The form rules of hello (README section 4), once every field is valid on its own. */
function checkHello(obj) {
    const ways = HELLO_WAYS.filter((w) => obj.has(w));
    if (ways.length > 1) throw new Fault('bad_field', ways[1]);
    if (ways.length === 0) throw new Fault('missing_field', 'invite');
    const leader = ways[0] === 'token';
    if (leader && !obj.has('session')) throw new Fault('missing_field', 'session');
    if (!leader && !obj.has('name')) throw new Fault('missing_field', 'name');
    if (leader && obj.has('name')) throw new Fault('bad_field', 'name');
    if (!leader && obj.has('session')) throw new Fault('bad_field', 'session');
    if (leader && obj.has('key')) throw new Fault('bad_field', 'key');
}

/** admit and deny take exactly one of member and all (README section 4a). */
function checkPick(obj) {
    if (!obj.has('member') && !obj.has('all')) throw new Fault('missing_field', 'member');
    if (obj.has('member') && obj.has('all')) throw new Fault('bad_field', 'all');
}

// The rules over several fields, applied once each field is valid on its own.
const FORM_RULES = { hello: checkHello, admit: checkPick, deny: checkPick };

/** Decodes one frame; returns the request type or throws a Fault. */
function decode(frame) {
    if (Buffer.byteLength(frame, 'utf8') > LIMITS.max_message_bytes) throw new Fault('too_big');
    if (nestingDepth(frame) > MAX_DEPTH) throw new Fault('too_deep');
    const obj = parseJson(frame);
    if (!(obj instanceof Map)) throw new Fault('not_object');
    if (!obj.has('type')) throw new Fault('missing_field', 'type');
    const type = obj.get('type');
    if (!isString(type)) throw new Fault('bad_field', 'type');
    if (!Object.hasOwn(REQUESTS_TABLE, type)) throw new Fault('unknown_type', 'type');
    const table = REQUESTS_TABLE[type];
    for (const key of obj.keys()) {
        if (key !== 'type' && !table.some(([f]) => f === key)) throw new Fault('unknown_field', key);
    }
    for (const [f, required] of table) {
        if (required && !obj.has(f)) throw new Fault('missing_field', f);
    }
    for (const [f, , check] of table) {
        if (!obj.has(f)) continue;
        const code = check(obj.get(f));
        if (code) throw new Fault(code, f);
    }
    FORM_RULES[type]?.(obj);
    return type;
}

function tryJsonParse(frame) {
    try {
        return { ok: true, value: JSON.parse(frame) };
    } catch {
        return { ok: false };
    }
}

// ---------------------------------------------------------------------------
// README helpers

/** The lines of one `## N.` section. */
function section(number) {
    const lines = README.split('\n');
    const start = lines.findIndex((l) => l.startsWith(`## ${number}.`));
    assert.ok(start >= 0, `README has no section ${number}`);
    const end = lines.findIndex((l, k) => k > start && l.startsWith('## '));
    return lines.slice(start, end < 0 ? undefined : end);
}

/**
 * First-column backticked names of the first table after a line matching `heading`
 * (whose header row matches `header`, when given). A row may name several
 * (`locked`, `paused`, `read_only`).
 */
function tableNames(lines, heading, header) {
    let k = heading ? lines.findIndex((l) => heading.test(l)) : 0;
    assert.ok(k >= 0, `README has no heading ${heading}`);
    while (k < lines.length && !(lines[k].startsWith('|') && (!header || header.test(lines[k])))) k++;
    assert.ok(k < lines.length, `README has no table ${header} after ${heading}`);
    const names = [];
    for (k += 2; k < lines.length && lines[k].startsWith('|'); k++) {
        const first = lines[k].split('|')[1];
        const row = [...first.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
        assert.ok(row.length > 0, `cannot read table row: ${lines[k]}`);
        names.push(...row);
    }
    return names;
}

/** The field names in a table cell, leaving out what is said in parentheses. */
function cellNames(cell) {
    return [...cell.replace(/\([^)]*\)/g, '').matchAll(/`([a-z_]+)(?::[^`]*)?`/g)].map((m) => m[1]);
}

/**
 * The requests of section 4a and their fields in table order, from its
 * `| request | fields |` tables; rows about requests of section 4 are left out.
 */
function section4aRequests() {
    const lines = section('4a');
    const requests = new Map();
    for (let k = 0; k < lines.length; k++) {
        if (!/^\| request \| fields \|/.test(lines[k])) continue;
        for (k += 2; k < lines.length && lines[k].startsWith('|'); k++) {
            const [, names, fields] = lines[k].split('|').map((c) => c.trim());
            for (const [, name] of names.matchAll(/`([a-z_]+)`/g)) {
                if (!SECTION_4.includes(name)) requests.set(name, cellNames(fields));
            }
        }
    }
    return requests;
}

/** The lines of a `### \`type\`` subsection of `lines`. */
function subsection(lines, type) {
    const start = lines.findIndex((l) => l.startsWith(`### \`${type}\``));
    assert.ok(start >= 0, `README has no subsection ${type}`);
    const end = lines.findIndex((l, k) => k > start && l.startsWith('#'));
    return lines.slice(start, end < 0 ? undefined : end);
}

/** The keys of the first inline JSON object `{"type":"…",…}` in `lines`. */
function inlineKeys(lines, type) {
    const text = lines.join(' ');
    const m = new RegExp(`\`(\\{"type":"${type}"[^\`]*\\})\``).exec(text);
    assert.ok(m, `README shows no inline ${type} object`);
    return [...m[1].matchAll(/"([a-z_]+)":/g)].map((k) => k[1]);
}

// ---------------------------------------------------------------------------
// Tests

test('every schema compiles', () => {
    const files = readdirSync(SCHEMA_DIR).filter((f) => f.endsWith('.json'));
    for (const f of [
        'hello.json', 'resume.json', 'say.json', 'agree.json', 'open.json', 'leave.json',
        'welcome.json', 'ack.json', 'message.json', 'presence.json', 'state.json', 'error.json',
        'client.json', 'server.json', 'defs.json',
        ...Object.keys(REQUESTS_TABLE).map((t) => `${t}.json`),
        ...readJson(new URL('server.json', SCHEMA_DIR)).properties.type.enum.map(serverSchemaFile),
    ]) {
        assert.ok(files.includes(f), `missing schema ${f}`);
    }
    for (const f of files) {
        const schema = readJson(new URL(f, SCHEMA_DIR));
        assert.equal(schema.$id, SCHEMA_BASE + f);
        assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
        assert.equal(typeof validator(f), 'function');
    }
});

test('requests.json is what generate.mjs writes', () => {
    const text = readFileSync(new URL('requests.json', EXAMPLES), 'utf8');
    assert.ok(text === render(), 'requests.json is stale: run node protocol/examples/generate.mjs');
});

test('example names are unique and frames are well-formed strings', () => {
    const all = [...REQUESTS.valid, ...REQUESTS.invalid];
    assert.equal(new Set(all.map((e) => e.name)).size, all.length);
    for (const e of all) {
        assert.equal(typeof e.frame, 'string', e.name);
        // A lone surrogate cannot be sent in a text frame; it is only ever escaped.
        assert.ok(!LONE_SURROGATE.test(e.frame), `${e.name}: frame holds a lone surrogate`);
    }
});

test('every valid frame decodes and matches client.json', () => {
    const client = validator('client.json');
    assert.ok(REQUESTS.valid.length > 0);
    for (const { name, frame } of REQUESTS.valid) {
        const type = decode(frame);
        const value = JSON.parse(frame);
        assert.equal(value.type, type, name);
        assert.ok(client(value), `${name}: ${JSON.stringify(client.errors)}`);
        assert.ok(validator(`${type}.json`)(value), name);
    }
});

test('every request type has valid examples with and without id', () => {
    for (const type of Object.keys(REQUESTS_TABLE)) {
        const values = REQUESTS.valid.map((e) => JSON.parse(e.frame)).filter((v) => v.type === type);
        assert.ok(values.some((v) => 'id' in v), `${type} with id`);
        if (type !== 'say') assert.ok(values.some((v) => !('id' in v)), `${type} without id`);
    }
});

test('every form of hello has valid examples, with and without id', () => {
    const hellos = REQUESTS.valid.map((e) => JSON.parse(e.frame)).filter((v) => v.type === 'hello');
    for (const way of HELLO_WAYS) {
        const values = hellos.filter((v) => way in v);
        assert.ok(values.some((v) => 'id' in v), `hello with ${way} and id`);
        assert.ok(values.some((v) => !('id' in v)), `hello with ${way} without id`);
    }
});

test('every form rule of hello has an invalid example', () => {
    const got = new Set();
    for (const { frame, code, field } of REQUESTS.invalid) {
        const v = tryJsonParse(frame);
        if (!v.ok || v.value?.type !== 'hello') continue;
        got.add(`${code} ${field}`);
    }
    for (const want of [
        'missing_field invite', 'missing_field session', 'missing_field name',
        'bad_field token', 'bad_field room', 'bad_field name', 'bad_field session',
        'bad_field invite',
    ]) {
        assert.ok(got.has(want), `no invalid hello example for ${want}`);
    }
});

test('every invalid frame gets its code and field from the model decoder', () => {
    for (const { name, frame, code, field } of REQUESTS.invalid) {
        assert.throws(() => decode(frame), (err) => {
            assert.ok(err instanceof Fault, `${name}: ${err}`);
            assert.deepEqual({ code: err.code, field: err.field }, { code, field }, name);
            return true;
        }, name);
    }
});

test('every invalid frame that JSON.parse accepts fails client.json', () => {
    const client = validator('client.json');
    let checked = 0;
    for (const { name, frame, code } of REQUESTS.invalid) {
        if (TEXT_LEVEL_CODES.has(code) || TEXT_LEVEL_EXAMPLES.has(name)) continue;
        const parsed = tryJsonParse(frame);
        if (!parsed.ok) continue;
        assert.equal(client(parsed.value), false, `${name} passes client.json`);
        checked++;
    }
    assert.ok(checked >= 60, `only ${checked} invalid frames were checked against the schema`);
});

test('the text-level exceptions really are beyond the schema', () => {
    // Keeps the exception lists honest: each listed example must name a real one.
    const names = new Set(REQUESTS.invalid.map((e) => e.name));
    for (const n of TEXT_LEVEL_EXAMPLES) assert.ok(names.has(n), `no example named ${n}`);
    const client = validator('client.json');
    for (const n of TEXT_LEVEL_EXAMPLES) {
        const e = REQUESTS.invalid.find((x) => x.name === n);
        assert.equal(client(JSON.parse(e.frame)), true, `${n} is caught by the schema after all`);
    }
});

test('invalid examples cover every decode-level code, at least 60 in all', () => {
    const codes = new Set(REQUESTS.invalid.map((e) => e.code));
    for (const code of [
        'too_big', 'too_deep', 'bad_json', 'invalid_utf8', 'duplicate_key', 'not_object',
        'missing_field', 'unknown_field', 'bad_field', 'unknown_type', 'text_too_long', 'bad_name',
    ]) {
        assert.ok(codes.has(code), `no invalid example for ${code}`);
    }
    assert.ok(REQUESTS.invalid.length >= 60);
    const fieldCodes = new Set(['missing_field', 'unknown_field', 'bad_field', 'unknown_type', 'text_too_long', 'bad_name']);
    for (const e of REQUESTS.invalid) {
        assert.equal('field' in e, fieldCodes.has(e.code), `${e.name}: field present iff field error`);
    }
});

test('every server example matches server.json and its own schema', () => {
    const server = validator('server.json');
    const files = readdirSync(new URL('server/', EXAMPLES)).filter((f) => f.endsWith('.json'));
    const types = new Set();
    for (const file of files) {
        const type = file.replace(/\.json$/, '');
        const own = validator(serverSchemaFile(type));
        const examples = readJson(new URL(`server/${file}`, EXAMPLES));
        assert.ok(Array.isArray(examples) && examples.length > 0, file);
        for (const { name, message } of examples) {
            assert.equal(message.type, type, `${file}: ${name}`);
            assert.ok(server(message), `${file}: ${name}: ${JSON.stringify(server.errors)}`);
            assert.ok(own(message), `${file}: ${name}`);
        }
        types.add(type);
    }
    const serverTypes = readJson(new URL('server.json', SCHEMA_DIR)).properties.type.enum;
    assert.deepEqual([...types].sort(), [...serverTypes].sort(), 'every server message has examples');
});

/** The first example message of server/<type>.json. */
const serverExample = (type) => readJson(new URL(`server/${type}.json`, EXAMPLES))[0].message;

/** Broken variants of the examples of what section 4a added. */
function moderationBreakers(welcome) {
    const all = readJson(new URL('server/welcome.json', EXAMPLES)).map((e) => e.message);
    const leader = all.find((m) => m.role === 'leader' && m.waiting.length > 0);
    const round = serverExample('round');
    const message = serverExample('message');
    const presence = { type: 'presence', seq: 1, member: 1, name: 'Aino', role: 'participant', ts: 1 };
    const error = { type: 'error', ref: null, message: 'x' };
    assert.ok(leader, 'server/welcome.json lacks a leader example with someone waiting');
    return {
        'welcome for a participant with someone waiting': { ...welcome, waiting: leader.waiting },
        'welcome for a participant showing who is muted': { ...welcome, members: [{ ...welcome.members[0], muted: false }] },
        'welcome for a leader not showing who is muted': { ...leader, members: [{ member: 1, name: 'helena', role: 'leader' }] },
        'welcome with muted false': { ...welcome, muted: false },
        'welcome with muted without until': { ...welcome, muted: {} },
        'welcome with an unknown private_messages policy': { ...welcome, private_messages: 'all' },
        'welcome with crisis resources in German': { ...welcome, crisis: { de: [{ name: 'x' }] } },
        'welcome with a crisis url over http': { ...welcome, crisis: { fi: [{ name: 'x', url: 'http://x.fi/' }] } },
        'welcome with a crisis entry without name': { ...welcome, crisis: { fi: [{ phone: '112' }] } },
        'welcome with slow_mode over an hour': { ...welcome, slow_mode: 3601 },
        'welcome with a raised hand twice': { ...welcome, hands: [2, 2] },
        'welcome with a topic of 501 code points': { ...welcome, topic: 'a'.repeat(501) },
        'welcome without locked': { ...welcome, locked: undefined },
        'message with text and deleted': { ...message, deleted: true },
        'message with neither text nor deleted': { ...message, text: undefined },
        'message with deleted false': { ...message, text: undefined, deleted: false },
        'back-channel message with with': { ...message, scope: 'leaders', with: 2 },
        'private message without with': { ...message, scope: 'private' },
        'room message with with': { ...message, with: 2 },
        'message in an unknown scope': { ...message, scope: 'room' },
        'presence left without reason': { ...presence, state: 'left' },
        'presence joined with a reason': { ...presence, state: 'joined', reason: 'left' },
        'presence left for an unknown reason': { ...presence, state: 'left', reason: 'kicked' },
        'round with speaker 0': { ...round, round: { ...round.round, speaker: 0 } },
        'round of an unknown kind': { ...round, round: { ...round.round, kind: 'talk' } },
        'round without exclusive': { ...round, round: { ...round.round, exclusive: undefined } },
        'round without seq': { ...round, seq: undefined },
        'room without by': { ...serverExample('room'), by: undefined },
        'room with by 0': { ...serverExample('room'), by: 0 },
        'role leader: promote makes co-leaders only': { ...serverExample('role'), role: 'leader' },
        'hands with a member id of 2^32': { ...serverExample('hands'), queue: [4294967296] },
        'deleted without target': { ...serverExample('deleted'), target: undefined },
        'mute false with until': { ...serverExample('mute'), muted: false },
        'mute without by': { ...serverExample('mute'), by: undefined },
        'alert of an unknown kind': { ...serverExample('alert'), kind: 'help' },
        'alert report without target': { type: 'alert', seq: 3, kind: 'report', member: 4, name: 'Aino', ts: 1 },
        'alert not_ok with a target': { ...serverExample('alert'), target: 3 },
        'lobby entry without knocked': { ...serverExample('lobby'), waiting: [{ member: 7, name: 'Noah', agreed: true }] },
        'notice of an unknown kind': { ...serverExample('notice'), kind: 'hello' },
        'notice without ts': { ...serverExample('notice'), ts: undefined },
        'bans with seq': { ...serverExample('bans'), seq: 4 },
        'bans entry by a co-leader': { type: 'bans', ref: null, bans: [{ id: 1, name: 'x', created_at: 1, by: 'co_leader:m4' }] },
        'bans entry with id 0': { type: 'bans', ref: null, bans: [{ id: 0, name: 'x', created_at: 1, by: 'leader:a' }] },
        'ack with ban 0': { type: 'ack', ref: 'x', seq: 5, ban: 0 },
        'muted without until': { ...error, code: 'muted' },
        'until on another code': { ...error, code: 'paused', until: null },
        'slow_mode without retry_after_ms': { ...error, code: 'slow_mode' },
        'field on not_found': { ...error, code: 'not_found', field: 'member' },
    };
}

/** Broken variants of the session examples of server/welcome.json. */
function sessionWelcomes() {
    const all = readJson(new URL('server/welcome.json', EXAMPLES)).map((e) => e.message);
    const lobby = all.find((m) => m.state === 'lobby' && m.role === 'participant');
    const leader = all.find((m) => m.role === 'leader');
    assert.ok(lobby && leader, 'server/welcome.json lacks a lobby or a leader example');
    return {
        'welcome in the lobby with members': { ...lobby, members: leader.members },
        'welcome for a co-leader with a null token': { ...leader, role: 'co_leader', token: null },
        'welcome resumed with a null token': { ...lobby, state: 'open', members: leader.members, token: null, resumed: true },
        'welcome for a leader with a null token': { ...leader, token: null },
        'welcome for a leader not agreed': { ...leader, agreed: false },
        'welcome for a leader without session': { ...leader, session: null },
        'welcome with a session in an unknown language': { ...lobby, session: { ...lobby.session, language: 'de' } },
        'welcome with a session without agreement': { ...lobby, session: { ...lobby.session, agreement: undefined } },
        'welcome with a session with an extra field': { ...lobby, session: { ...lobby.session, leader: 'x' } },
        'welcome with session id 0': { ...lobby, session: { ...lobby.session, id: 0 } },
        'welcome with a session whose room is not s<id>': { ...lobby, room: 'tuesday-group' },
    };
}

test('server.json rejects messages that break the README', () => {
    const server = validator('server.json');
    const welcome = readJson(new URL('server/welcome.json', EXAMPLES))[0].message;
    const bad = {
        'welcome with an extra field': { ...welcome, extra: 1 },
        'welcome with gap but not resumed': { ...welcome, resumed: false, gap: true },
        'welcome without limits': { ...welcome, limits: undefined },
        'ack with duplicate false': { type: 'ack', ref: 'm1', seq: 3, duplicate: false },
        'ack with seq 0': { type: 'ack', ref: 'm1', seq: 0 },
        'message with seq 0': { type: 'message', seq: 0, member: 1, name: 'Aino', text: 'hi', ts: 1 },
        'presence in an unknown state': {
            type: 'presence', seq: 1, member: 1, name: 'Aino', role: 'participant', state: 'away', ts: 1,
        },
        'error with an unknown code': { type: 'error', code: 'oops', ref: null, message: 'x' },
        'resume_failed without reason': { type: 'error', code: 'resume_failed', ref: null, message: 'x' },
        'reason on another code': { type: 'error', code: 'bad_json', ref: null, message: 'x', reason: 'expired' },
        'bad_field without field': { type: 'error', code: 'bad_field', ref: null, message: 'x' },
        'field on bad_json': { type: 'error', code: 'bad_json', ref: null, message: 'x', field: 'type' },
        'text_too_long about name': { type: 'error', code: 'text_too_long', ref: 'm', message: 'x', field: 'name' },
        'unknown_type without field': { type: 'error', code: 'unknown_type', ref: null, message: 'x' },
        'retry_after_ms on not_joined': {
            type: 'error', code: 'not_joined', ref: null, message: 'x', retry_after_ms: 5,
        },
        'error ref that is not an id': { type: 'error', code: 'internal', ref: 'a b', message: 'x' },
        'no_session without next_start': { type: 'error', code: 'no_session', ref: null, message: 'x' },
        'no_session with a negative next_start': {
            type: 'error', code: 'no_session', ref: null, message: 'x', next_start: -1,
        },
        'next_start on another code': { type: 'error', code: 'invite_invalid', ref: null, message: 'x', next_start: null },
        'field on forbidden other than room': { type: 'error', code: 'forbidden', ref: null, message: 'x', field: 'invite' },
        'field on invite_invalid': { type: 'error', code: 'invite_invalid', ref: null, message: 'x', field: 'invite' },
        'state in an unknown state': { type: 'state', seq: 2, state: 'lobby', ts: 1 },
        'state without seq': { type: 'state', state: 'open', ts: 1 },
        'ack with duplicate but no seq': { type: 'ack', ref: 'm1', duplicate: true },
        'presence with an unknown role': {
            type: 'presence', seq: 1, member: 1, name: 'Aino', role: 'moderator', state: 'joined', ts: 1,
        },
        ...moderationBreakers(welcome),
        'welcome without state': { ...welcome, state: undefined },
        'welcome in the ended state': { ...welcome, state: 'ended' },
        'welcome without session': { ...welcome, session: undefined },
        'welcome without agreed': { ...welcome, agreed: undefined },
        'welcome in the testing mode not agreed': { ...welcome, session: null, agreed: false },
        'welcome with no members in an open room': { ...welcome, members: [] },
        'welcome with a token of 42 characters': { ...welcome, token: welcome.token.slice(1) },
        ...sessionWelcomes(),
    };
    for (const [name, msg] of Object.entries(bad)) {
        const value = JSON.parse(JSON.stringify(msg));
        assert.equal(server(value), false, name);
    }
});

test('error.json lists exactly the codes of README section 6', () => {
    const readmeCodes = tableNames(section(6), /^\| code \| when/);
    assert.ok(readmeCodes.length >= 20);
    const schemaCodes = readJson(new URL('error.json', SCHEMA_DIR)).properties.code.enum;
    assert.deepEqual([...schemaCodes].sort(), [...readmeCodes].sort());
});

/** The schema's fields, and its required ones, agree with the model decoder's table. */
function assertRequestSchema(type, fields) {
    const schema = readJson(new URL(`${type}.json`, SCHEMA_DIR));
    assert.deepEqual(Object.keys(schema.properties), fields, type);
    const table = REQUESTS_TABLE[type];
    assert.deepEqual(['type', ...table.map(([f]) => f)], fields, `model decoder order for ${type}`);
    const required = table.filter(([, r]) => r).map(([f]) => f);
    assert.deepEqual(schema.required, ['type', ...required], `required fields of ${type}`);
}

test('request schemas have exactly the fields of README sections 4 and 4a', () => {
    const lines = section(4);
    const requests = lines.filter((l) => l.startsWith('### `')).map((l) => /^### `([a-z_]+)`/.exec(l)[1]);
    assert.deepEqual(requests, SECTION_4, 'requests of section 4');
    const moderation = section4aRequests();
    assert.ok(moderation.size >= 20, 'section 4a lists its requests in tables');
    const all = [...requests, ...moderation.keys()];
    assert.deepEqual(Object.keys(REQUESTS_TABLE).sort(), [...all].sort(), 'model decoder requests');
    const clientTypes = readJson(new URL('client.json', SCHEMA_DIR)).properties.type.enum;
    assert.deepEqual([...clientTypes].sort(), [...all].sort(), 'client.json types');
    for (const [type, fields] of moderation) assertRequestSchema(type, ['type', 'id', ...fields]);
    // Section 4a names the requests that take only an id.
    const bare = /Requests without fields \(([^)]*)\)/.exec(section('4a').join(' '));
    assert.ok(bare, 'README section 4a does not list the requests without fields');
    for (const [, type] of bare[1].matchAll(/`([a-z_]+)`/g)) {
        assert.deepEqual(moderation.get(type) ?? [], [], `${type} takes no fields`);
        assert.deepEqual(REQUESTS_TABLE[type].map(([f]) => f), ['id'], `${type} takes only id`);
    }
    for (const type of requests) {
        const sub = subsection(lines, type);
        // A request with a field table lists its fields there; the others show one inline object.
        const fields = sub.some((l) => /^\| field \|/.test(l))
            ? tableNames(sub, null, /^\| field \|/)
            : inlineKeys(sub, type);
        assertRequestSchema(type, fields);
    }
    // Section 6 repeats hello's field table order, which decides between bad_field
    // errors.
    const m = /`hello`'s field table is: ([^)]*)\)/.exec(section(6).join(' '));
    assert.ok(m, 'README section 6 does not give hello\'s field table');
    const order = [...m[1].matchAll(/`([a-z_]+)`/g)].map((k) => k[1]);
    const helloFields = Object.keys(readJson(new URL('hello.json', SCHEMA_DIR)).properties);
    assert.deepEqual(['type', ...order], helloFields);
});

test('hello.json has exactly the forms of README section 4', () => {
    const sub = subsection(section(4), 'hello');
    let k = sub.findIndex((l) => /^\| form \|/.test(l));
    assert.ok(k >= 0, 'README has no table of hello forms');
    const forms = {};
    for (k += 2; k < sub.length && sub[k].startsWith('|'); k++) {
        const [, form, fields] = sub[k].split('|').map((c) => c.trim());
        forms[form] = [...fields.matchAll(/`([a-z_]+)`/g)].map((f) => f[1]);
    }
    // Optional fields of some forms only, from the field table: "optional, with `invite` or `room`".
    const optional = {};
    for (const row of sub.filter((l) => /^\| `[a-z_]+` \|/.test(l))) {
        const only = /optional, with ((?:`[a-z_]+`(?: or )?)+)/.exec(row);
        if (!only) continue;
        const field = /^\| `([a-z_]+)`/.exec(row)[1];
        for (const [, way] of only[1].matchAll(/`([a-z_]+)`/g)) (optional[way] ??= []).push(field);
    }
    assert.deepEqual(optional, { invite: ['key'], room: ['key'] }, 'hello fields of some forms only');
    const schema = readJson(new URL('hello.json', SCHEMA_DIR));
    const branches = Object.fromEntries(schema.oneOf.map((b) => [b.title.replace(/ form$/, ''), b]));
    assert.deepEqual(Object.keys(branches).sort(), Object.keys(forms).sort());
    for (const [form, fields] of Object.entries(forms)) {
        const b = branches[form];
        const extra = optional[fields[0]] ?? [];
        assert.deepEqual(b.required, ['type', ...fields], `${form} form: required`);
        assert.deepEqual(Object.keys(b.properties), ['type', 'id', ...fields, ...extra], `${form} form: fields`);
        assert.equal(b.additionalProperties, false, `${form} form`);
    }
    // The ways in, in the order that names the second of two.
    assert.deepEqual(Object.values(forms).map((f) => f[0]), HELLO_WAYS);
    assert.match(sub.join(' '), new RegExp(`order ${HELLO_WAYS.join(', ')}`));
});

test('welcome and message schemas have the fields of README section 5', () => {
    const lines = section(5);
    const welcome = tableNames(lines, /^### `welcome`/);
    assert.deepEqual(Object.keys(readJson(new URL('welcome.json', SCHEMA_DIR)).properties), welcome);
    const message = tableNames(lines, /^### `message`/);
    const props = Object.keys(readJson(new URL('message.json', SCHEMA_DIR)).properties);
    assert.deepEqual(props.filter((p) => p !== 'type'), message);
    const error = tableNames(lines, /^### `error`/);
    const errProps = Object.keys(readJson(new URL('error.json', SCHEMA_DIR)).properties);
    assert.deepEqual(errProps.filter((p) => p !== 'type'), error);
});

test('welcome.session, presence and state have the fields of README section 5', () => {
    const lines = section(5);
    const welcome = readJson(new URL('welcome.json', SCHEMA_DIR));
    const row = lines.find((l) => l.startsWith('| `session` |'));
    assert.ok(row, 'README welcome table has no session row');
    const m = /`\{([^}]*)\}`/.exec(row);
    assert.ok(m, 'README session row lists no fields');
    const sessionFields = m[1].split(',').map((f) => f.trim());
    const sessionSchema = welcome.properties.session.anyOf.find((s) => s.type === 'object');
    assert.deepEqual(Object.keys(sessionSchema.properties), sessionFields);
    assert.deepEqual(sessionSchema.required, sessionFields);
    for (const type of ['presence', 'state']) {
        const sub = subsection(lines, type);
        // Fields only some of these carry follow the object: "a `left` one also has `reason`".
        const also = [...sub.join(' ').matchAll(/also has `([a-z_]+)`/g)].map((k) => k[1]);
        const keys = inlineKeys(sub, type);
        const props = Object.keys(readJson(new URL(`${type}.json`, SCHEMA_DIR)).properties);
        assert.deepEqual(props.filter((p) => !also.includes(p)), keys, type);
        assert.deepEqual(props.filter((p) => also.includes(p)), also, `${type}: fields some carry`);
    }
    const server = readJson(new URL('server.json', SCHEMA_DIR)).properties.type.enum;
    const messages = lines.filter((l) => l.startsWith('### `')).map((l) => /^### `([a-z_]+)`/.exec(l)[1]);
    const events = [...moderationEvents().keys()];
    assert.deepEqual([...server].sort(), [...messages, ...events].sort(), 'server.json types');
});

/** The rows of section 5's table of moderation events: type -> fields cell. */
function moderationEvents() {
    const lines = section(5);
    let k = lines.findIndex((l) => /^### Moderation events/.test(l));
    assert.ok(k >= 0, 'README section 5 has no moderation events');
    while (k < lines.length && !/^\| type \| fields \|/.test(lines[k])) k++;
    const events = new Map();
    for (k += 2; k < lines.length && lines[k].startsWith('|'); k++) {
        const [, type, fields] = lines[k].split('|').map((c) => c.trim());
        events.set(/^`([a-z_]+)`$/.exec(type)[1], fields);
    }
    return events;
}

/** Property names and enum/const strings anywhere in a schema, through its $refs. */
function schemaNames(schema, seen = new Set()) {
    const names = new Set();
    const walk = (node) => {
        if (Array.isArray(node)) return node.forEach(walk);
        if (!node || typeof node !== 'object') return;
        for (const [k, v] of Object.entries(node)) {
            if (k === 'properties') Object.keys(v).forEach((p) => names.add(p));
            if (k === 'enum') v.filter(isString).forEach((e) => names.add(e));
            if (k === 'const' && isString(v)) names.add(v);
            if (k === '$ref' && v.startsWith('defs.json#/$defs/') && !seen.has(v)) {
                seen.add(v);
                walk(readJson(new URL('defs.json', SCHEMA_DIR)).$defs[v.split('/').pop()]);
            }
            walk(v);
        }
    };
    walk(schema);
    return names;
}

test('moderation event schemas have the fields of README section 5', () => {
    const events = moderationEvents();
    assert.ok(events.size >= 9);
    for (const [type, cell] of events) {
        const schema = readJson(new URL(serverSchemaFile(type), SCHEMA_DIR));
        assert.equal(schema.title, type);
        assert.deepEqual(schema.required.filter((f) => ['type', 'seq', 'ts'].includes(f)), ['type', 'seq', 'ts'],
            `${type}: every event carries seq and ts`);
        // Names outside parentheses; `{a, b}` names the fields of a nested object.
        const text = cell.replace(/\([^)]*\)/g, '');
        const named = [...text.matchAll(/`([^`]+)`/g)].flatMap(([, n]) =>
            n.startsWith('{') ? n.slice(1, -1).split(',').map((f) => f.trim()) : [n]);
        const known = schemaNames(schema);
        for (const n of named) assert.ok(known.has(n), `${type}: README names ${n}, the schema does not`);
        for (const p of Object.keys(schema.properties).filter((f) => !['type', 'seq', 'ts'].includes(f))) {
            assert.ok(named.includes(p), `${type}: the schema has ${p}, README section 5 does not`);
        }
    }
});

test('the bans reply has the fields of README section 5', () => {
    const schema = readJson(new URL(serverSchemaFile('bans'), SCHEMA_DIR));
    const keys = inlineKeys(subsection(section(5), 'bans'), 'bans');
    const item = schema.properties.bans.items;
    assert.deepEqual([...Object.keys(schema.properties), ...Object.keys(item.properties)], keys);
    assert.deepEqual(item.required, Object.keys(item.properties));
});
