#!/usr/bin/env node
// Writes requests.json: the client frames every kamrat.v1 decoder is tested with.
//
// Each `frame` is the exact text of one WebSocket text frame, so frames that are
// not JSON can be listed too. Invalid frames carry the error `code` (and `field`)
// the server must answer with, following the order in README.md section 6; each
// breaks exactly one rule unless its name says which rule wins. Limits are the
// defaults: max_message_bytes 16384, max_text_chars 4000, max_name_chars 40.
//
// Run `node protocol/examples/generate.mjs` after editing; the tests check that
// requests.json is what this script writes.

import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const MAX_BYTES = 16384;
const MAX_TEXT = 4000;
const MAX_NAME = 40;

// 32 bytes in base64url, no padding: 43 characters, with both - and _.
const TOKEN = 'q7Kx2-Vb9_LmT4cWz8NfR1hJ0sYdPa3uE6gQoI5nXkA';
const EPOCH = '3f9a1c0b7d2e4f68';
// An invite code: 16 bytes in base64url, no padding: 22 characters, with both - and _.
const INVITE = 'Xk3_pQ9-vT2mLw8aZr5cYb';
// A leader's login token: 43 characters of base64url, like a resume token.
const LOGIN = 'Lr8_Wq2-Nx5tKc9vBm1hJd4sYf7gPa0uE3oQiZ6nXkA';
const SESSION = 17;
const MAX_SAFE = '9007199254740991'; // 2^53-1
// A participant key: 32 bytes in base64url, no padding, like a token.
const KEY = 'Pk4_Zt7-Hw2nQx9cVb6mLr1sJd8fGa3yE5uTiO0kXwA';
const MAX_MEMBER = 4294967295; // member ids are below 2^32
const MAX_TOPIC = 500;
if (TOKEN.length !== 43 || LOGIN.length !== 43 || INVITE.length !== 22 || KEY.length !== 43) {
    throw new Error('bad constant');
}

const frame = (obj) => JSON.stringify(obj);
// The three forms of hello (README section 4): room (testing only), invite, leader.
const hello = (name, extra = {}) => frame({ type: 'hello', room: 'tuesday-group', name, ...extra });
const helloInvite = (extra = {}) => frame({ type: 'hello', invite: INVITE, name: 'Aino', ...extra });
const helloLeader = (extra = {}) => frame({ type: 'hello', token: LOGIN, session: SESSION, ...extra });
// A leader hello with `session` written out as raw JSON text.
const helloSession = (num) => `{"type":"hello","token":"${LOGIN}","session":${num}}`;
const say = (text, id = 'm1') => frame({ type: 'say', id, text });
const resume = (extra = {}) =>
    frame({ type: 'resume', token: TOKEN, epoch: EPOCH, after_seq: 41, ...extra });
// A resume frame with `after_seq` written out as raw JSON number text.
const resumeSeq = (num) =>
    `{"type":"resume","token":"${TOKEN}","epoch":"${EPOCH}","after_seq":${num}}`;
// A frame with one field's value written as raw JSON text (for escapes).
const raw = (before, value, after = '}') => `${before}${value}${after}`;
const sayRaw = (textJson) => raw('{"type":"say","id":"m1","text":', textJson);
const helloRaw = (nameJson) => raw('{"type":"hello","room":"tuesday-group","name":', nameJson);
const pad = (head, bytes) => head + ' '.repeat(bytes - Buffer.byteLength(head));
// A request of README section 4a.
const req = (type, extra = {}) => frame({ type, ...extra });
// One with a single field written as raw JSON text (numbers as typed, nested arrays).
const reqRaw = (type, field, value) => `{"type":"${type}","${field}":${value}}`;
// 1..n as member ids, for round orders.
const ids = (n, from = 1) => Array.from({ length: n }, (_, i) => from + i);

// The requests of section 4a that take nothing but id, and those that name one member.
const BARE = ['bans', 'end', 'round_pass', 'round_done', 'round_skip', 'round_end', 'not_ok'];
const ON_MEMBER = ['to_lobby', 'unmute', 'remove', 'ban', 'promote', 'demote'];

const valid = [
    // hello
    ['hello with id', hello('Aino', { id: 'h1' })],
    ['hello without id', hello('Aino')],
    ['hello, name with a ring above', hello('Åsa')],
    ['hello, Cyrillic name', hello('Миша')],
    ['hello, Arabic name', hello('محمد')],
    ['hello, name with inner spaces and punctuation', hello('Li Wei (she/her)')],
    ['hello, name with emoji', hello('🌻 Sunflower')],
    ['hello, name with a combining mark', hello('A\u030Asa')],
    ['hello, name written with \\u escapes', helloRaw('"\\u00c5sa"')],
    ['hello, name of 40 code points (80 bytes)', hello('ä'.repeat(MAX_NAME))],
    ['hello, name of 40 emoji (160 bytes)', hello('🌻'.repeat(MAX_NAME))],
    ['hello, name of 1 character', hello('A')],
    ['hello, room of 1 character', frame({ type: 'hello', room: 'a', name: 'Aino' })],
    ['hello, room of 64 characters', frame({ type: 'hello', room: 'R_-9'.repeat(16), name: 'Aino' })],
    ['hello, fields in another order', frame({ name: 'Aino', room: 'tuesday-group', id: 'x', type: 'hello' })],
    ['hello, id of 64 characters', hello('Aino', { id: 'a'.repeat(64) })],
    ['hello, id using every allowed punctuation', hello('Aino', { id: 'A.b:c-d_9' })],
    ['hello, white space around and inside the object', ` \n{ "type" : "hello",\t"room" : "r", "name" : "Aino" }\r\n `],
    ['hello with an invite', helloInvite()],
    ['hello with an invite and id', helloInvite({ id: 'h1' })],
    ['hello with an invite, fields in another order', frame({ name: 'Åsa', id: 'h2', invite: INVITE, type: 'hello' })],
    ['hello with an invite of only letters and digits', helloInvite({ invite: 'AbCdEfGhIjKlMnOpQrStUv' })],
    ['hello with an invite, name of 40 code points', helloInvite({ name: 'ä'.repeat(MAX_NAME) })],
    ['hello as a leader', helloLeader()],
    ['hello as a leader with id', helloLeader({ id: 'L1' })],
    ['hello as a leader, fields in another order', frame({ session: SESSION, id: 'L2', token: LOGIN, type: 'hello' })],
    ['hello as a leader, session 1', helloLeader({ session: 1 })],
    ['hello as a leader, session 2^53-1', helloSession(MAX_SAFE)],
    // resume
    ['resume without id', resume()],
    ['resume with id', resume({ id: 'r-1' })],
    ['resume after_seq 0', resume({ after_seq: 0 })],
    ['resume after_seq 2^53-1', resume({ after_seq: 2 ** 53 - 1 })],
    ['resume after_seq written as -0', resumeSeq('-0')],
    // say
    ['say plain text', say('Hei kaikki!')],
    ['say with a UUID id', say('hello', '0b6f4f3e-8c4a-4d0e-9f57-1c2d3e4f5a6b')],
    ['say emoji text', say('Kiitos 💛🌻 — tack!')],
    ['say with line feeds and tabs', say('first line\nsecond line\n\tindented')],
    ['say Arabic text with a right-to-left mark', say('مرحبا\u200F!')],
    ['say a single character', say('a')],
    ['say only white space', say('  ')],
    ['say brackets inside a string do not count as nesting', say('[[[[[{{{{{ }}}}}]]]]]')],
    ['say escaped quotes and backslashes', say('she said "hi" \\o/')],
    ['say text written with \\u escapes and a surrogate pair', sayRaw('"\\u00e4\\ud83c\\udf3b\\t"')],
    ['say 4000 ASCII characters', say('a'.repeat(MAX_TEXT))],
    ['say 4000 two-byte characters (8000 bytes)', say('ä'.repeat(MAX_TEXT))],
    ['say 4000 three-byte characters (12000 bytes)', say('中'.repeat(MAX_TEXT))],
    ['say 4000 emoji (16000 bytes, under max_message_bytes)', say('🌻'.repeat(MAX_TEXT))],
    // agree
    ['agree', frame({ type: 'agree' })],
    ['agree with id', frame({ type: 'agree', id: 'a1' })],
    // open
    ['open', frame({ type: 'open' })],
    ['open with id', frame({ type: 'open', id: 'o1' })],
    // leave
    ['leave', frame({ type: 'leave' })],
    ['leave with id', frame({ type: 'leave', id: 'bye' })],
    ['leave padded with white space to exactly max_message_bytes', pad('{"type":"leave"}', MAX_BYTES)],

    // Section 4a: the participant key, private messages, "I'm safe"
    ['hello with an invite and a participant key', helloInvite({ key: KEY })],
    ['hello in the testing mode with a participant key and id', hello('Aino', { id: 'h9', key: KEY })],
    ['say to the leaders', frame({ type: 'say', id: 'p1', text: 'Voinko puhua jonkun kanssa?', to: 'leaders' })],
    ['say to a member', frame({ type: 'say', id: 'p2', text: 'Totta kai.', to: 4 })],
    ['say to member 2^32-1', frame({ type: 'say', id: 'p3', text: 'hi', to: MAX_MEMBER })],
    ['leave, safe', frame({ type: 'leave', id: 'bye', safe: true })],
    ['leave, not safe, without id', frame({ type: 'leave', safe: false })],
    // the lobby
    ['admit a member', req('admit', { member: 4 })],
    ['admit a member with id', req('admit', { id: 'a1', member: 4 })],
    ['admit all', req('admit', { all: true })],
    ['admit all with id, all first', req('admit', { all: true, id: 'a2' })],
    ['deny a member', req('deny', { member: 7 })],
    ['deny all with id', req('deny', { id: 'd1', all: true })],
    // requests that name one member
    ...ON_MEMBER.flatMap((type) => [
        [`${type}`, req(type, { member: 4 })],
        [`${type} with id`, req(type, { id: `${type}-1`, member: 4 })],
    ]),
    ['remove member 1', req('remove', { member: 1 })],
    ['ban member 2^32-1', req('ban', { member: MAX_MEMBER })],
    ['mute until unmuted', req('mute', { member: 4 })],
    ['mute with id for 10 minutes', req('mute', { id: 'mu1', member: 4, minutes: 10 })],
    ['mute for 1 minute', req('mute', { member: 4, minutes: 1 })],
    ['mute for 1440 minutes', req('mute', { member: 4, minutes: 1440 })],
    ['mute, fields in another order', req('mute', { minutes: 5, member: 4 })],
    ['unban', req('unban', { ban: 3 })],
    ['unban with id', req('unban', { id: 'u1', ban: 3 })],
    ['unban ban 2^53-1', reqRaw('unban', 'ban', MAX_SAFE)],
    // requests without fields
    ...BARE.flatMap((type) => [
        [`${type}`, req(type)],
        [`${type} with id`, req(type, { id: `${type}-1` })],
    ]),
    ['delete', req('delete', { seq: 27 })],
    ['delete with id', req('delete', { id: 'del1', seq: 27 })],
    ['delete seq 2^53-1', reqRaw('delete', 'seq', MAX_SAFE)],
    ['report', req('report', { seq: 27 })],
    ['report with id', req('report', { id: 'rep1', seq: 1 })],
    // the room's switches
    ['lock', req('lock', { on: true })],
    ['unlock with id', req('lock', { id: 'l1', on: false })],
    ['pause', req('pause', { on: true })],
    ['unpause with id', req('pause', { id: 'p1', on: false })],
    ['slow mode 30 s', req('slow', { seconds: 30 })],
    ['slow mode off with id', req('slow', { id: 's1', seconds: 0 })],
    ['slow mode 3600 s', req('slow', { seconds: 3600 })],
    ['topic', req('topic', { text: 'Uni ja stressi' })],
    ['topic with id', req('topic', { id: 't1', text: 'Sömn och stress 💤' })],
    ['topic cleared with ""', req('topic', { text: '' })],
    ['topic with a line feed and a tab', req('topic', { text: 'Tänään:\n\t1. kuulumiset' })],
    [`topic of ${MAX_TOPIC} emoji`, req('topic', { text: '🌻'.repeat(MAX_TOPIC) })],
    // rounds
    ['round_start, a check-in in the default order', req('round_start', { kind: 'check_in' })],
    ['round_start with id, a check-out', req('round_start', { id: 'r1', kind: 'check_out' })],
    ['round_start with an order, not exclusive', req('round_start', { kind: 'round', order: [5, 2, 4], exclusive: false })],
    ['round_start, exclusive said out loud', req('round_start', { kind: 'check_in', exclusive: true })],
    ['round_start with an order of one', req('round_start', { kind: 'round', order: [MAX_MEMBER] })],
    ['round_start with an order of 500', req('round_start', { kind: 'check_in', order: ids(500) })],
    ['round_order', req('round_order', { order: [4, 2] })],
    ['round_order with id', req('round_order', { id: 'ro1', order: [6] })],
    // hands
    ['hand up', req('hand', { up: true })],
    ['hand down with id', req('hand', { id: 'hd1', up: false })],
    ['hand down for another member', req('hand', { up: false, member: 4 })],
];

const badName = (label, esc) => [`bad_name: ${label}`, helloRaw(`"${esc}"`), 'bad_name', 'name'];

const invalid = [
    // (1) size
    ['too_big: white space padding one byte over max_message_bytes',
        pad('{"type":"leave"}', MAX_BYTES + 1), 'too_big'],
    ['too_big: 4000 code points written as \\u escapes (24000 bytes)',
        sayRaw(`"${'\\u00e4'.repeat(MAX_TEXT)}"`), 'too_big'],
    ['too_big wins over bad_json', pad('{"type":"leave"', MAX_BYTES + 1), 'too_big'],

    // (2) nesting
    ['too_deep: depth 5 of arrays', '{"a":[[[[1]]]]}', 'too_deep'],
    ['too_deep: depth 5 of objects', '{"type":"leave","x":{"a":{"b":{"c":{}}}}}', 'too_deep'],
    ['too_deep wins over not_object', '[[[[[]]]]]', 'too_deep'],
    ['too_deep wins over bad_json (unbalanced)', '{"a":[[[[', 'too_deep'],

    // (3) JSON
    ['bad_json: empty frame', '', 'bad_json'],
    ['bad_json: only white space', ' \n', 'bad_json'],
    ['bad_json: truncated object', '{"type":"leave"', 'bad_json'],
    ['bad_json: truncated inside a string', '{"type":"lea', 'bad_json'],
    ['bad_json: trailing garbage', '{"type":"leave"}x', 'bad_json'],
    ['bad_json: two objects in one frame', '{"type":"leave"}{"type":"leave"}', 'bad_json'],
    ['bad_json: raw NUL after the object', '{"type":"leave"}\u0000', 'bad_json'],
    ['bad_json: trailing comma', '{"type":"leave",}', 'bad_json'],
    ['bad_json: single quotes', "{'type':'leave'}", 'bad_json'],
    ['bad_json: unquoted key', '{type:"leave"}', 'bad_json'],
    ['bad_json: comment', '{"type":"leave"/* bye */}', 'bad_json'],
    ['bad_json: byte order mark', '\uFEFF{"type":"leave"}', 'bad_json'],
    ['bad_json: after_seq NaN', resumeSeq('NaN'), 'bad_json'],
    ['bad_json: after_seq Infinity', resumeSeq('Infinity'), 'bad_json'],
    ['bad_json: after_seq 1e999 overflows a double', resumeSeq('1e999'), 'bad_json'],
    ['bad_json: after_seq 2^63 is over int64', resumeSeq('9223372036854775808'), 'bad_json'],
    ['bad_json: after_seq -2^63-1 is under int64', resumeSeq('-9223372036854775809'), 'bad_json'],
    ['bad_json: after_seq with a leading zero', resumeSeq('01'), 'bad_json'],
    ['bad_json: after_seq with a plus sign', resumeSeq('+1'), 'bad_json'],
    ['bad_json: \\u0000 escape in text', sayRaw('"a\\u0000b"'), 'bad_json'],
    ['bad_json: raw tab inside a string', sayRaw('"a\tb"'), 'bad_json'],
    ['bad_json: raw line feed inside a string', sayRaw('"a\nb"'), 'bad_json'],
    ['bad_json: unknown escape \\x', sayRaw('"\\x41"'), 'bad_json'],
    ['bad_json: short \\u escape', sayRaw('"\\u12"'), 'bad_json'],
    ['bad_json: True is not true', '{"type":"leave","id":True}', 'bad_json'],

    ['invalid_utf8: lone high surrogate', sayRaw('"\\ud800"'), 'invalid_utf8'],
    ['invalid_utf8: lone low surrogate', sayRaw('"\\udc00"'), 'invalid_utf8'],
    ['invalid_utf8: high surrogate then a letter', sayRaw('"\\ud83cx"'), 'invalid_utf8'],
    ['invalid_utf8: high surrogate then a non-surrogate escape', sayRaw('"\\ud800\\u0041"'), 'invalid_utf8'],
    ['invalid_utf8: surrogates in the wrong order', sayRaw('"\\udf3b\\ud83c"'), 'invalid_utf8'],
    ['invalid_utf8: lone surrogate in a name', helloRaw('"Aino\\udbff"'), 'invalid_utf8'],
    ['invalid_utf8 in a key wins over unknown_field', '{"type":"leave","\\ud800":1}', 'invalid_utf8'],

    ['duplicate_key: type twice', '{"type":"say","type":"leave"}', 'duplicate_key'],
    ['duplicate_key: same key, same value', '{"type":"say","id":"m1","text":"hi","type":"say"}', 'duplicate_key'],
    ['duplicate_key: id twice', '{"type":"leave","id":"a","id":"b"}', 'duplicate_key'],
    ['duplicate_key: keys equal after unescaping', '{"type":"leave","t\\u0079pe":"leave"}', 'duplicate_key'],
    ['duplicate_key in a nested object wins over unknown_field', '{"type":"leave","x":{"a":1,"a":2}}', 'duplicate_key'],

    // (4) top level
    ['not_object: empty array', '[]', 'not_object'],
    ['not_object: array holding a request', '[{"type":"leave"}]', 'not_object'],
    ['not_object: string', '"leave"', 'not_object'],
    ['not_object: number', '42', 'not_object'],
    ['not_object: null', 'null', 'not_object'],
    ['not_object: true', 'true', 'not_object'],
    ['not_object: array of depth 4', '[[[[]]]]', 'not_object'],

    // (5) type
    ['missing_field: empty object', '{}', 'missing_field', 'type'],
    ['missing_field: no type, only id', '{"id":"x"}', 'missing_field', 'type'],
    ['missing_field type wins over unknown fields', '{"text":"hi","foo":1}', 'missing_field', 'type'],
    ['bad_field: type is a number', '{"type":1}', 'bad_field', 'type'],
    ['bad_field: type is null', '{"type":null}', 'bad_field', 'type'],
    ['bad_field: type is an array', '{"type":["say"]}', 'bad_field', 'type'],
    ['unknown_type: kick', '{"type":"kick"}', 'unknown_type', 'type'],
    ['unknown_type: empty string', '{"type":""}', 'unknown_type', 'type'],
    ['unknown_type: Say (case matters)', '{"type":"Say","id":"m1","text":"hi"}', 'unknown_type', 'type'],
    ['unknown_type: a server message type', '{"type":"welcome"}', 'unknown_type', 'type'],
    ['unknown_type: state is a server event', '{"type":"state"}', 'unknown_type', 'type'],
    ['unknown_type: Open (case matters)', '{"type":"Open"}', 'unknown_type', 'type'],
    ['unknown_type wins over unknown fields', '{"type":"kick","member":3}', 'unknown_type', 'type'],

    // (6) fields: unknown, then missing, then values in table order
    ['unknown_field: leave with text', '{"type":"leave","text":"bye"}', 'unknown_field', 'text'],
    ['unknown_field: say with name', frame({ type: 'say', id: 'm1', text: 'hi', name: 'Aino' }), 'unknown_field', 'name'],
    ['unknown_field: hello with epoch', hello('Aino', { epoch: EPOCH }), 'unknown_field', 'epoch'],
    ['unknown_field: invite hello with after_seq', helloInvite({ after_seq: 1 }), 'unknown_field', 'after_seq'],
    ['unknown_field: leader hello with password', helloLeader({ password: 'hunter2' }), 'unknown_field', 'password'],
    ['unknown_field: hello with group', helloInvite({ group: 3 }), 'unknown_field', 'group'],
    ['unknown_field wins over the form rules', '{"type":"hello","session":1,"x":1}', 'unknown_field', 'x'],
    ['unknown_field: agree with text', '{"type":"agree","text":"yes"}', 'unknown_field', 'text'],
    ['unknown_field: agree with agreed', frame({ type: 'agree', id: 'a1', agreed: true }), 'unknown_field', 'agreed'],
    ['unknown_field: open with session', frame({ type: 'open', id: 'o1', session: SESSION }), 'unknown_field', 'session'],
    ['unknown_field: open with state', '{"type":"open","state":"open"}', 'unknown_field', 'state'],
    ['unknown_field: resume with room', resume({ room: 'tuesday-group' }), 'unknown_field', 'room'],
    ['unknown_field: keys are case-sensitive', '{"type":"leave","ID":"x"}', 'unknown_field', 'ID'],
    ['unknown_field: empty key', '{"type":"leave","":1}', 'unknown_field', ''],
    ['unknown_field: nested depth 4 passes the depth check', '{"type":"leave","x":[[[1]]]}', 'unknown_field', 'x'],
    ['unknown_field wins over missing_field', '{"type":"say","id":"m1","extra":true}', 'unknown_field', 'extra'],
    ['unknown_field wins over bad_field', '{"type":"say","id":"","text":"","extra":1}', 'unknown_field', 'extra'],

    ['missing_field: say without id', '{"type":"say","text":"hi"}', 'missing_field', 'id'],
    ['missing_field: say without text', '{"type":"say","id":"m1"}', 'missing_field', 'text'],
    ['missing_field: say without id or text names id first', '{"type":"say"}', 'missing_field', 'id'],
    ['missing_field wins over bad_field', '{"type":"say","id":""}', 'missing_field', 'text'],
    ['missing_field: hello with only a name names invite', '{"type":"hello","name":"Aino"}', 'missing_field', 'invite'],
    ['missing_field: hello without name', '{"type":"hello","room":"tuesday-group"}', 'missing_field', 'name'],
    ['missing_field: hello with neither a way in nor a name names invite', '{"type":"hello","id":"h1"}', 'missing_field', 'invite'],
    ['missing_field: resume without token', frame({ type: 'resume', epoch: EPOCH, after_seq: 3 }), 'missing_field', 'token'],
    ['missing_field: resume without epoch', frame({ type: 'resume', token: TOKEN, after_seq: 3 }), 'missing_field', 'epoch'],
    ['missing_field: resume without after_seq', frame({ type: 'resume', token: TOKEN, epoch: EPOCH }), 'missing_field', 'after_seq'],

    ['bad_field: id is a number', '{"type":"leave","id":7}', 'bad_field', 'id'],
    ['bad_field: id is null', '{"type":"leave","id":null}', 'bad_field', 'id'],
    ['bad_field: id is empty', say('hi', ''), 'bad_field', 'id'],
    ['bad_field: id of 65 characters', say('hi', 'a'.repeat(65)), 'bad_field', 'id'],
    ['bad_field: id with a space', say('hi', 'm 1'), 'bad_field', 'id'],
    ['bad_field: id with a slash', say('hi', 'm/1'), 'bad_field', 'id'],
    ['bad_field: id with a non-ASCII letter', say('hi', 'mä'), 'bad_field', 'id'],
    ['bad_field: room is a number', '{"type":"hello","room":5,"name":"Aino"}', 'bad_field', 'room'],
    ['bad_field: room is empty', frame({ type: 'hello', room: '', name: 'Aino' }), 'bad_field', 'room'],
    ['bad_field: room with a space', frame({ type: 'hello', room: 'tuesday group', name: 'Aino' }), 'bad_field', 'room'],
    ['bad_field: room with a dot', frame({ type: 'hello', room: 'group.1', name: 'Aino' }), 'bad_field', 'room'],
    ['bad_field: room of 65 characters', frame({ type: 'hello', room: 'r'.repeat(65), name: 'Aino' }), 'bad_field', 'room'],
    ['bad_field: room with a non-ASCII letter', frame({ type: 'hello', room: 'grupp-å', name: 'Aino' }), 'bad_field', 'room'],
    ['bad_field room wins over bad_name (table order)', frame({ type: 'hello', room: 'a b', name: '' }), 'bad_field', 'room'],
    ['bad_field: name is a number', '{"type":"hello","room":"tuesday-group","name":42}', 'bad_field', 'name'],
    ['bad_field: name is null', '{"type":"hello","room":"tuesday-group","name":null}', 'bad_field', 'name'],
    ['bad_field: text is a number', '{"type":"say","id":"m1","text":1}', 'bad_field', 'text'],
    ['bad_field: text is an array', '{"type":"say","id":"m1","text":["hi"]}', 'bad_field', 'text'],
    ['bad_field: text is empty', say(''), 'bad_field', 'text'],
    ['bad_field: text with BEL \\u0007', say('ding\u0007'), 'bad_field', 'text'],
    ['bad_field: text with a carriage return', say('line\r\nline'), 'bad_field', 'text'],
    ['bad_field: text with ESC', say('\u001b[31mred'), 'bad_field', 'text'],
    ['bad_field: text with DEL', say('a\u007fb'), 'bad_field', 'text'],
    ['bad_field: text with C1 control U+0085', say('a\u0085b'), 'bad_field', 'text'],
    ['bad_field: text with a control character and 4001 code points', say('\u0007' + 'a'.repeat(MAX_TEXT)), 'bad_field', 'text'],
    ['bad_field id wins over bad_field text (table order)', say('', 'no spaces'), 'bad_field', 'id'],
    ['bad_field: token of 42 characters', resume({ token: TOKEN.slice(1) }), 'bad_field', 'token'],
    ['bad_field: token of 44 characters', resume({ token: TOKEN + 'A' }), 'bad_field', 'token'],
    ['bad_field: token in standard base64 (+ and /)', resume({ token: TOKEN.replace('-', '+').replace('_', '/') }), 'bad_field', 'token'],
    ['bad_field: token with = padding', resume({ token: TOKEN.slice(1) + '=' }), 'bad_field', 'token'],
    ['bad_field: token is a number', resumeSeq('1').replace(`"${TOKEN}"`, '12345'), 'bad_field', 'token'],
    ['bad_field: epoch in upper case', resume({ epoch: EPOCH.toUpperCase() }), 'bad_field', 'epoch'],
    ['bad_field: epoch of 15 digits', resume({ epoch: EPOCH.slice(1) }), 'bad_field', 'epoch'],
    ['bad_field: epoch of 17 digits', resume({ epoch: EPOCH + '0' }), 'bad_field', 'epoch'],
    ['bad_field: epoch with a non-hex letter', resume({ epoch: 'g' + EPOCH.slice(1) }), 'bad_field', 'epoch'],
    ['bad_field: epoch is a number', resume({ epoch: 1234567890123456 }), 'bad_field', 'epoch'],
    ['bad_field token wins over bad_field epoch (table order)', resume({ token: 'x', epoch: 'y' }), 'bad_field', 'token'],
    ['bad_field: after_seq -1', resumeSeq('-1'), 'bad_field', 'after_seq'],
    ['bad_field: after_seq 1.5', resumeSeq('1.5'), 'bad_field', 'after_seq'],
    ['bad_field: after_seq 1.0 has a fraction', resumeSeq('1.0'), 'bad_field', 'after_seq'],
    ['bad_field: after_seq 1e2 has an exponent', resumeSeq('1e2'), 'bad_field', 'after_seq'],
    ['bad_field: after_seq 2^53', resumeSeq('9007199254740992'), 'bad_field', 'after_seq'],
    ['bad_field: after_seq 2^63-1 fits int64 but is over 2^53-1', resumeSeq('9223372036854775807'), 'bad_field', 'after_seq'],
    ['bad_field: after_seq is a string', resumeSeq('"5"'), 'bad_field', 'after_seq'],
    ['bad_field: after_seq is null', resumeSeq('null'), 'bad_field', 'after_seq'],
    ['bad_field: after_seq is true', resumeSeq('true'), 'bad_field', 'after_seq'],
    ['bad_field: agree id is a number', '{"type":"agree","id":1}', 'bad_field', 'id'],
    ['bad_field: open id with a space', frame({ type: 'open', id: 'o 1' }), 'bad_field', 'id'],

    // hello: each field on its own (table order: id, invite, token, session, room, name)
    ['bad_field: invite of 21 characters', helloInvite({ invite: INVITE.slice(1) }), 'bad_field', 'invite'],
    ['bad_field: invite of 23 characters', helloInvite({ invite: INVITE + 'A' }), 'bad_field', 'invite'],
    ['bad_field: invite is empty', helloInvite({ invite: '' }), 'bad_field', 'invite'],
    ['bad_field: invite of 43 characters (a token)', helloInvite({ invite: TOKEN }), 'bad_field', 'invite'],
    ['bad_field: invite in standard base64 (+ and /)', helloInvite({ invite: INVITE.replace('-', '+').replace('_', '/') }), 'bad_field', 'invite'],
    ['bad_field: invite with = padding', helloInvite({ invite: INVITE.slice(2) + '==' }), 'bad_field', 'invite'],
    ['bad_field: invite with a dot', helloInvite({ invite: INVITE.slice(1) + '.' }), 'bad_field', 'invite'],
    ['bad_field: invite with a non-ASCII letter', helloInvite({ invite: INVITE.slice(1) + 'ä' }), 'bad_field', 'invite'],
    ['bad_field: invite as a whole link', helloInvite({ invite: `https://chat.example.org/j/${INVITE}` }), 'bad_field', 'invite'],
    ['bad_field: invite is a number', helloInvite({ invite: 1234567890 }), 'bad_field', 'invite'],
    ['bad_field: invite is null', helloInvite({ invite: null }), 'bad_field', 'invite'],
    ['bad_field: leader token of 42 characters', helloLeader({ token: LOGIN.slice(1) }), 'bad_field', 'token'],
    ['bad_field: leader token of 44 characters', helloLeader({ token: LOGIN + 'A' }), 'bad_field', 'token'],
    ['bad_field: leader token in standard base64 (+ and /)', helloLeader({ token: LOGIN.replace('-', '+').replace('_', '/') }), 'bad_field', 'token'],
    ['bad_field: leader token with = padding', helloLeader({ token: LOGIN.slice(1) + '=' }), 'bad_field', 'token'],
    ['bad_field: leader token of 22 characters (an invite)', helloLeader({ token: INVITE }), 'bad_field', 'token'],
    ['bad_field: leader token is a number', helloLeader({ token: 42 }), 'bad_field', 'token'],
    ['bad_field: session 0', helloSession('0'), 'bad_field', 'session'],
    ['bad_field: session -1', helloSession('-1'), 'bad_field', 'session'],
    ['bad_field: session 1.5', helloSession('1.5'), 'bad_field', 'session'],
    ['bad_field: session 1.0 has a fraction', helloSession('1.0'), 'bad_field', 'session'],
    ['bad_field: session 1e1 has an exponent', helloSession('1e1'), 'bad_field', 'session'],
    ['bad_field: session is a string', helloSession('"1"'), 'bad_field', 'session'],
    ['bad_field: session 2^53', helloSession('9007199254740992'), 'bad_field', 'session'],
    ['bad_field: session 2^63-1 fits int64 but is over 2^53-1', helloSession('9223372036854775807'), 'bad_field', 'session'],
    ['bad_field: session is null', helloSession('null'), 'bad_field', 'session'],
    ['bad_field: session is true', helloSession('true'), 'bad_field', 'session'],
    ['bad_field invite wins over bad_field token (table order)', frame({ type: 'hello', invite: 'x', token: 'y' }), 'bad_field', 'invite'],
    ['bad_field token wins over bad_field session (table order)', helloLeader({ token: 'x', session: 0 }), 'bad_field', 'token'],
    ['bad_field session wins over bad_field room (table order)', frame({ type: 'hello', session: 0, room: 'a b' }), 'bad_field', 'session'],
    ['bad_field id wins over bad_field invite (table order)', helloInvite({ id: '', invite: '' }), 'bad_field', 'id'],

    // (7) hello: the form rules, once every field is valid on its own
    ['form: no way in names invite', frame({ type: 'hello', id: 'h1', name: 'Aino' }), 'missing_field', 'invite'],
    ['form: only a session names invite', frame({ type: 'hello', session: SESSION }), 'missing_field', 'invite'],
    ['form: only type names invite', '{"type":"hello"}', 'missing_field', 'invite'],
    ['form: invite and token names token', helloInvite({ token: LOGIN }), 'bad_field', 'token'],
    ['form: invite and room names room', helloInvite({ room: 'tuesday-group' }), 'bad_field', 'room'],
    ['form: token and room names room', helloLeader({ room: 'tuesday-group' }), 'bad_field', 'room'],
    ['form: invite, token and room names token', helloInvite({ token: LOGIN, session: SESSION, room: 'r' }), 'bad_field', 'token'],
    ['form: two ways are named in the fixed order, not the frame order',
        frame({ type: 'hello', room: 'tuesday-group', name: 'Aino', invite: INVITE }), 'bad_field', 'room'],
    ['form: two ways wins over a missing name', frame({ type: 'hello', invite: INVITE, room: 'r' }), 'bad_field', 'room'],
    ['form: two ways wins over a missing session', frame({ type: 'hello', token: LOGIN, invite: INVITE, name: 'Aino' }), 'bad_field', 'token'],
    ['form: token without session', frame({ type: 'hello', token: LOGIN }), 'missing_field', 'session'],
    ['form: token without session, with id', frame({ type: 'hello', id: 'L1', token: LOGIN }), 'missing_field', 'session'],
    ['form: token with a name but no session names session', frame({ type: 'hello', token: LOGIN, name: 'helena' }), 'missing_field', 'session'],
    ['form: invite without name', frame({ type: 'hello', invite: INVITE }), 'missing_field', 'name'],
    ['form: invite without name, with id', frame({ type: 'hello', id: 'h1', invite: INVITE }), 'missing_field', 'name'],
    ['form: room without name', frame({ type: 'hello', room: 'tuesday-group', id: 'h1' }), 'missing_field', 'name'],
    ['form: invite with a session but no name names name', frame({ type: 'hello', invite: INVITE, session: SESSION }), 'missing_field', 'name'],
    ['form: name with token', helloLeader({ name: 'helena' }), 'bad_field', 'name'],
    ['form: session without token (invite)', helloInvite({ session: SESSION }), 'bad_field', 'session'],
    ['form: session without token (room)', hello('Aino', { session: SESSION }), 'bad_field', 'session'],
    ['bad_name wins over the form rules', frame({ type: 'hello', token: LOGIN, name: ' ' }), 'bad_name', 'name'],
    ['bad_field invite wins over the form rules', frame({ type: 'hello', invite: 'short' }), 'bad_field', 'invite'],
    ['bad_field session wins over the form rules', frame({ type: 'hello', session: 0 }), 'bad_field', 'session'],

    ['text_too_long: 4001 ASCII characters', say('a'.repeat(MAX_TEXT + 1)), 'text_too_long', 'text'],
    ['text_too_long: 4001 two-byte characters (8002 bytes)', say('ä'.repeat(MAX_TEXT + 1)), 'text_too_long', 'text'],
    ['text_too_long: 4001 three-byte characters (12003 bytes)', say('中'.repeat(MAX_TEXT + 1)), 'text_too_long', 'text'],
    ['text_too_long: 4001 emoji (16004 bytes, still under max_message_bytes)', say('🌻'.repeat(MAX_TEXT + 1)), 'text_too_long', 'text'],
    ['text_too_long: 4000 characters and a line feed', say('a'.repeat(MAX_TEXT) + '\n'), 'text_too_long', 'text'],

    ['bad_name: empty', hello(''), 'bad_name', 'name'],
    ['bad_name: leading space', hello(' Aino'), 'bad_name', 'name'],
    ['bad_name: trailing space', hello('Aino '), 'bad_name', 'name'],
    ['bad_name: only spaces', hello('   '), 'bad_name', 'name'],
    badName('trailing no-break space U+00A0', 'Aino\\u00a0'),
    badName('leading ideographic space U+3000', '\\u3000Aino'),
    badName('trailing line separator U+2028', 'Aino\\u2028'),
    badName('right-to-left override U+202E', '\\u202eevil'),
    badName('left-to-right isolate U+2066 inside', 'a\\u2066b'),
    badName('pop directional isolate U+2069', 'Aino\\u2069x'),
    badName('only a right-to-left mark U+200F', '\\u200f'),
    badName('left-to-right mark U+200E inside', 'Ai\\u200eno'),
    badName('Arabic letter mark U+061C', '\\u061cمحمد'),
    badName('BEL control character', 'Aino\\u0007'),
    badName('line feed inside', 'Ai\\nno'),
    badName('tab inside', 'Ai\\tno'),
    badName('DEL', 'Ai\\u007fno'),
    badName('C1 control U+009B', 'Ai\\u009bno'),
    ['bad_name: 41 ASCII characters', hello('a'.repeat(MAX_NAME + 1)), 'bad_name', 'name'],
    ['bad_name: 41 two-byte characters', hello('ä'.repeat(MAX_NAME + 1)), 'bad_name', 'name'],
    ['bad_name: 41 emoji', hello('🌻'.repeat(MAX_NAME + 1)), 'bad_name', 'name'],

    // ---- section 4a and the fields it added to section 4
    // hello key
    ['bad_field: key of 42 characters', helloInvite({ key: KEY.slice(1) }), 'bad_field', 'key'],
    ['bad_field: key of 44 characters', hello('Aino', { key: KEY + 'A' }), 'bad_field', 'key'],
    ['bad_field: key in standard base64 (+ and /)', helloInvite({ key: KEY.replace('-', '+').replace('_', '/') }), 'bad_field', 'key'],
    ['bad_field: key of 22 characters (an invite)', helloInvite({ key: INVITE }), 'bad_field', 'key'],
    ['bad_field: key is a number', helloInvite({ key: 42 }), 'bad_field', 'key'],
    ['bad_field: key is null', helloInvite({ key: null }), 'bad_field', 'key'],
    ['form: key with token', helloLeader({ key: KEY }), 'bad_field', 'key'],
    ['form: name with token wins over key with token', helloLeader({ name: 'helena', key: KEY }), 'bad_field', 'name'],
    ['bad_field key wins over the form rules', helloLeader({ key: 'short' }), 'bad_field', 'key'],
    ['bad_name wins over bad_field key (table order)', helloInvite({ name: ' ', key: 'short' }), 'bad_name', 'name'],
    ['unknown_field: resume with key', resume({ key: KEY }), 'unknown_field', 'key'],
    // say to
    ['bad_field: to "leader"', frame({ type: 'say', id: 'm1', text: 'hi', to: 'leader' }), 'bad_field', 'to'],
    ['bad_field: to "Leaders" (case matters)', frame({ type: 'say', id: 'm1', text: 'hi', to: 'Leaders' }), 'bad_field', 'to'],
    ['bad_field: to "4" is a string', frame({ type: 'say', id: 'm1', text: 'hi', to: '4' }), 'bad_field', 'to'],
    ['bad_field: to 0', frame({ type: 'say', id: 'm1', text: 'hi', to: 0 }), 'bad_field', 'to'],
    ['bad_field: to -1', frame({ type: 'say', id: 'm1', text: 'hi', to: -1 }), 'bad_field', 'to'],
    ['bad_field: to 2^32', frame({ type: 'say', id: 'm1', text: 'hi', to: MAX_MEMBER + 1 }), 'bad_field', 'to'],
    ['bad_field: to 4.5', frame({ type: 'say', id: 'm1', text: 'hi', to: 4.5 }), 'bad_field', 'to'],
    ['bad_field: to 4.0 has a fraction', '{"type":"say","id":"m1","text":"hi","to":4.0}', 'bad_field', 'to'],
    ['bad_field: to is true', frame({ type: 'say', id: 'm1', text: 'hi', to: true }), 'bad_field', 'to'],
    ['bad_field: to is null', frame({ type: 'say', id: 'm1', text: 'hi', to: null }), 'bad_field', 'to'],
    ['bad_field: to is an array', frame({ type: 'say', id: 'm1', text: 'hi', to: ['leaders'] }), 'bad_field', 'to'],
    ['bad_field text wins over bad_field to (table order)', frame({ type: 'say', id: 'm1', text: '', to: 0 }), 'bad_field', 'text'],
    ['missing_field text wins over bad_field to', frame({ type: 'say', id: 'm1', to: 0 }), 'missing_field', 'text'],
    // leave safe
    ['bad_field: safe is "true"', req('leave', { safe: 'true' }), 'bad_field', 'safe'],
    ['bad_field: safe is 1', req('leave', { safe: 1 }), 'bad_field', 'safe'],
    ['bad_field: safe is null', req('leave', { safe: null }), 'bad_field', 'safe'],
    ['unknown_field: leave with reason', req('leave', { reason: 'bye' }), 'unknown_field', 'reason'],
    // admit and deny: one of member and all
    ['form: admit with neither member nor all names member', req('admit'), 'missing_field', 'member'],
    ['form: admit with only an id names member', req('admit', { id: 'a1' }), 'missing_field', 'member'],
    ['form: deny with neither member nor all names member', req('deny', { id: 'd1' }), 'missing_field', 'member'],
    ['form: admit with member and all names all', req('admit', { member: 4, all: true }), 'bad_field', 'all'],
    ['form: deny with all and member names all', req('deny', { all: true, member: 4 }), 'bad_field', 'all'],
    ['bad_field: admit all false', req('admit', { all: false }), 'bad_field', 'all'],
    ['bad_field: deny all false', req('deny', { all: false }), 'bad_field', 'all'],
    ['bad_field: admit all "true"', req('admit', { all: 'true' }), 'bad_field', 'all'],
    ['bad_field: admit all 1', req('admit', { all: 1 }), 'bad_field', 'all'],
    ['bad_field: deny all null', req('deny', { all: null }), 'bad_field', 'all'],
    ['bad_field: admit member 0', req('admit', { member: 0 }), 'bad_field', 'member'],
    ['bad_field member wins over the form rule', req('admit', { member: 0, all: true }), 'bad_field', 'member'],
    ['bad_field all false wins over the form rule', req('deny', { member: 4, all: false }), 'bad_field', 'all'],
    ['unknown_field: admit with members', req('admit', { members: [1, 2] }), 'unknown_field', 'members'],
    // member
    ...ON_MEMBER.map((type) => [`missing_field: ${type} without member`, req(type, { id: 'x1' }), 'missing_field', 'member']),
    ['missing_field: mute without member', req('mute', { minutes: 10 }), 'missing_field', 'member'],
    ['bad_field: remove member 0', req('remove', { member: 0 }), 'bad_field', 'member'],
    ['bad_field: ban member 2^32', req('ban', { member: MAX_MEMBER + 1 }), 'bad_field', 'member'],
    ['bad_field: promote member "4"', req('promote', { member: '4' }), 'bad_field', 'member'],
    ['bad_field: demote member -1', req('demote', { member: -1 }), 'bad_field', 'member'],
    ['bad_field: to_lobby member 1.5', req('to_lobby', { member: 1.5 }), 'bad_field', 'member'],
    ['bad_field: unmute member null', req('unmute', { member: null }), 'bad_field', 'member'],
    ['bad_field: mute member 4.0 has a fraction', reqRaw('mute', 'member', '4.0'), 'bad_field', 'member'],
    ['bad_field: ban member 4e0 has an exponent', reqRaw('ban', 'member', '4e0'), 'bad_field', 'member'],
    ['bad_field: remove member is an array', req('remove', { member: [4] }), 'bad_field', 'member'],
    ['unknown_field: remove with reason', req('remove', { member: 4, reason: 'spam' }), 'unknown_field', 'reason'],
    // mute minutes
    ['bad_field: minutes 0', req('mute', { member: 4, minutes: 0 }), 'bad_field', 'minutes'],
    ['bad_field: minutes 1441', req('mute', { member: 4, minutes: 1441 }), 'bad_field', 'minutes'],
    ['bad_field: minutes "10"', req('mute', { member: 4, minutes: '10' }), 'bad_field', 'minutes'],
    ['bad_field: minutes 2.5', req('mute', { member: 4, minutes: 2.5 }), 'bad_field', 'minutes'],
    ['bad_field: minutes is null', req('mute', { member: 4, minutes: null }), 'bad_field', 'minutes'],
    ['bad_field member wins over bad_field minutes (table order)', req('mute', { minutes: 0, member: 0 }), 'bad_field', 'member'],
    ['unknown_field: mute with seconds', req('mute', { member: 4, seconds: 60 }), 'unknown_field', 'seconds'],
    // unban
    ['missing_field: unban without ban', req('unban', { id: 'u1' }), 'missing_field', 'ban'],
    ['bad_field: unban ban 0', req('unban', { ban: 0 }), 'bad_field', 'ban'],
    ['bad_field: unban ban 2^53', reqRaw('unban', 'ban', '9007199254740992'), 'bad_field', 'ban'],
    ['bad_field: unban ban "3"', req('unban', { ban: '3' }), 'bad_field', 'ban'],
    ['unknown_field: unban with member', req('unban', { ban: 3, member: 4 }), 'unknown_field', 'member'],
    // requests without fields
    ...BARE.map((type) => [`unknown_field: ${type} with member`, req(type, { member: 4 }), 'unknown_field', 'member']),
    ['unknown_field: round_end with kind', req('round_end', { kind: 'round' }), 'unknown_field', 'kind'],
    ['bad_field: end id is a number', req('end', { id: 5 }), 'bad_field', 'id'],
    // delete and report
    ['missing_field: delete without seq', req('delete', { id: 'del1' }), 'missing_field', 'seq'],
    ['missing_field: report without seq', req('report'), 'missing_field', 'seq'],
    ['bad_field: delete seq 0', req('delete', { seq: 0 }), 'bad_field', 'seq'],
    ['bad_field: report seq -1', req('report', { seq: -1 }), 'bad_field', 'seq'],
    ['bad_field: delete seq "27"', req('delete', { seq: '27' }), 'bad_field', 'seq'],
    ['bad_field: report seq 2^53', reqRaw('report', 'seq', '9007199254740992'), 'bad_field', 'seq'],
    ['unknown_field: delete with member', req('delete', { seq: 27, member: 4 }), 'unknown_field', 'member'],
    // lock, pause
    ['missing_field: lock without on', req('lock'), 'missing_field', 'on'],
    ['missing_field: pause without on', req('pause', { id: 'p1' }), 'missing_field', 'on'],
    ['bad_field: lock on 1', req('lock', { on: 1 }), 'bad_field', 'on'],
    ['bad_field: pause on "true"', req('pause', { on: 'true' }), 'bad_field', 'on'],
    ['bad_field: lock on null', req('lock', { on: null }), 'bad_field', 'on'],
    ['unknown_field: lock with locked', req('lock', { locked: true }), 'unknown_field', 'locked'],
    // slow
    ['missing_field: slow without seconds', req('slow'), 'missing_field', 'seconds'],
    ['bad_field: seconds -1', req('slow', { seconds: -1 }), 'bad_field', 'seconds'],
    ['bad_field: seconds 3601', req('slow', { seconds: 3601 }), 'bad_field', 'seconds'],
    ['bad_field: seconds true', req('slow', { seconds: true }), 'bad_field', 'seconds'],
    ['bad_field: seconds 1.5', req('slow', { seconds: 1.5 }), 'bad_field', 'seconds'],
    ['bad_field: seconds 6e1 has an exponent', reqRaw('slow', 'seconds', '6e1'), 'bad_field', 'seconds'],
    // topic
    ['missing_field: topic without text', req('topic', { id: 't1' }), 'missing_field', 'text'],
    ['bad_field: topic text is null', req('topic', { text: null }), 'bad_field', 'text'],
    ['bad_field: topic text is a number', req('topic', { text: 5 }), 'bad_field', 'text'],
    ['bad_field: topic with BEL', req('topic', { text: 'ding\u0007' }), 'bad_field', 'text'],
    ['bad_field: topic with a carriage return', req('topic', { text: 'a\r\nb' }), 'bad_field', 'text'],
    ['bad_field: topic with C1 control U+0085', req('topic', { text: 'a\u0085b' }), 'bad_field', 'text'],
    ['bad_field: topic with a control character and 501 code points', req('topic', { text: '\u0007' + 'a'.repeat(MAX_TOPIC) }), 'bad_field', 'text'],
    [`text_too_long: topic of ${MAX_TOPIC + 1} ASCII characters`, req('topic', { text: 'a'.repeat(MAX_TOPIC + 1) }), 'text_too_long', 'text'],
    [`text_too_long: topic of ${MAX_TOPIC + 1} emoji`, req('topic', { text: '🌻'.repeat(MAX_TOPIC + 1) }), 'text_too_long', 'text'],
    ['unknown_field: topic with topic', req('topic', { text: 'x', topic: 'y' }), 'unknown_field', 'topic'],
    // round_start
    ['missing_field: round_start without kind', req('round_start', { order: [1] }), 'missing_field', 'kind'],
    ['bad_field: kind "checkin"', req('round_start', { kind: 'checkin' }), 'bad_field', 'kind'],
    ['bad_field: kind "Check_in" (case matters)', req('round_start', { kind: 'Check_in' }), 'bad_field', 'kind'],
    ['bad_field: kind is null', req('round_start', { kind: null }), 'bad_field', 'kind'],
    ['bad_field: kind is a number', req('round_start', { kind: 1 }), 'bad_field', 'kind'],
    ['bad_field: order is empty', req('round_start', { kind: 'round', order: [] }), 'bad_field', 'order'],
    ['bad_field: order repeats a member', req('round_start', { kind: 'round', order: [2, 4, 2] }), 'bad_field', 'order'],
    ['bad_field: order with member 0', req('round_start', { kind: 'round', order: [0] }), 'bad_field', 'order'],
    ['bad_field: order with a string', req('round_start', { kind: 'round', order: [2, '4'] }), 'bad_field', 'order'],
    ['bad_field: order with member 2^32', req('round_start', { kind: 'round', order: [MAX_MEMBER + 1] }), 'bad_field', 'order'],
    ['bad_field: order with null', req('round_start', { kind: 'round', order: [null] }), 'bad_field', 'order'],
    ['bad_field: order with 1.5', req('round_start', { kind: 'round', order: [1.5] }), 'bad_field', 'order'],
    ['bad_field: order entry 2.0 has a fraction', '{"type":"round_start","kind":"round","order":[1,2.0]}', 'bad_field', 'order'],
    ['bad_field: order of 501', req('round_start', { kind: 'round', order: ids(501) }), 'bad_field', 'order'],
    ['bad_field: order is a number', req('round_start', { kind: 'round', order: 4 }), 'bad_field', 'order'],
    ['bad_field: order is an object', req('round_start', { kind: 'round', order: { 1: 2 } }), 'bad_field', 'order'],
    ['bad_field: order of arrays', req('round_start', { kind: 'round', order: [[1]] }), 'bad_field', 'order'],
    ['too_deep: order nested to depth 5', reqRaw('round_order', 'order', '[[[[1]]]]'), 'too_deep'],
    ['bad_field: exclusive "yes"', req('round_start', { kind: 'round', exclusive: 'yes' }), 'bad_field', 'exclusive'],
    ['bad_field: exclusive 0', req('round_start', { kind: 'round', exclusive: 0 }), 'bad_field', 'exclusive'],
    ['bad_field kind wins over bad_field order (table order)', req('round_start', { order: [], kind: 'x' }), 'bad_field', 'kind'],
    ['bad_field order wins over bad_field exclusive (table order)', req('round_start', { exclusive: 1, kind: 'round', order: [] }), 'bad_field', 'order'],
    ['missing_field kind wins over bad_field order', req('round_start', { order: [] }), 'missing_field', 'kind'],
    ['unknown_field: round_start with speaker', req('round_start', { kind: 'round', speaker: 2 }), 'unknown_field', 'speaker'],
    // round_order
    ['missing_field: round_order without order', req('round_order', { id: 'ro1' }), 'missing_field', 'order'],
    ['bad_field: round_order order is empty', req('round_order', { order: [] }), 'bad_field', 'order'],
    ['bad_field: round_order repeats a member', req('round_order', { order: [3, 1, 3] }), 'bad_field', 'order'],
    ['bad_field: round_order order is null', req('round_order', { order: null }), 'bad_field', 'order'],
    ['unknown_field: round_order with kind', req('round_order', { order: [1], kind: 'round' }), 'unknown_field', 'kind'],
    // hand
    ['missing_field: hand without up', req('hand', { member: 4 }), 'missing_field', 'up'],
    ['bad_field: up "true"', req('hand', { up: 'true' }), 'bad_field', 'up'],
    ['bad_field: up 1', req('hand', { up: 1 }), 'bad_field', 'up'],
    ['bad_field: hand member 0', req('hand', { up: true, member: 0 }), 'bad_field', 'member'],
    ['bad_field up wins over bad_field member (table order)', req('hand', { member: 0, up: 'no' }), 'bad_field', 'up'],
    // types
    ['unknown_type: Mute (case matters)', req('Mute', { member: 4 }), 'unknown_type', 'type'],
    ['unknown_type: unlock (lock takes on)', req('unlock'), 'unknown_type', 'type'],
    ['unknown_type: mute_all', req('mute_all'), 'unknown_type', 'type'],
    ['unknown_type: deleted is a server event', req('deleted', { target: 3 }), 'unknown_type', 'type'],
    ['unknown_type: round is a server event', req('round'), 'unknown_type', 'type'],
    ['duplicate_key: admit member twice', '{"type":"admit","member":4,"member":5}', 'duplicate_key'],
];

/** Builds the object written to requests.json. */
export function build() {
    const names = new Set();
    const check = (name) => {
        if (names.has(name)) throw new Error(`duplicate example name: ${name}`);
        names.add(name);
    };
    return {
        valid: valid.map(([name, f]) => (check(name), { name, frame: f })),
        invalid: invalid.map(([name, f, code, field]) =>
            (check(name), field === undefined ? { name, frame: f, code } : { name, frame: f, code, field })),
    };
}

// Invisible and format characters are written as \u escapes so the file can be read;
// the parsed frames are the same.
const INVISIBLE = /[\u007f-\u00a0\u00ad\u061c\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff]/g;

/** The exact text of requests.json. */
export function render() {
    const json = JSON.stringify(build(), null, 2) + '\n';
    return json.replace(INVISIBLE, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
    writeFileSync(new URL('requests.json', import.meta.url), render());
}
