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
if (TOKEN.length !== 43 || LOGIN.length !== 43 || INVITE.length !== 22) throw new Error('bad constant');

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
