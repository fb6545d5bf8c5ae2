// Look-alike pseudonyms (protocol/README.md §4, "Pseudonym rules"): invisible and
// format characters and names that mix scripts are bad_name; a name that looks
// like a member's, or like a username of any leader of the group (present or
// not), is name_taken; real names in many scripts live side by side. The cases
// are protocol/examples/names.json, shared with tests/unit/test_names.c.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { connect, join, REPO, serverFixture, sessionFixture, test, uid } from './lib/harness.mjs';

const TABLE = JSON.parse(fs.readFileSync(path.join(REPO, 'protocol/examples/names.json'), 'utf8'));
const server = serverFixture({ limits: { max_conns_per_address: 200, max_websockets_per_address: 200, rate_per_sec: 200, rate_burst: 200 } });

/** Sends hello for room as name on client c; resolves the reply. */
async function hello(c, room, name) {
    const id = uid('h');
    c.send({ type: 'hello', id, room, name });
    const reply = await c.nextReply();
    assert.equal(reply.ref, id);
    return reply;
}

test('with "Veera" in the room, invisible, format and mixed-script variants are bad_name', async () => {
    const s = await server();
    const room = uid('veera-');
    await join(s, room, 'Veera');
    const c = await connect(s);
    for (const { name, why } of TABLE.refused) {
        const reply = await hello(c, room, name);
        assert.equal(reply.type, 'error', `${why}: ${JSON.stringify(reply)}`);
        assert.equal(reply.code, 'bad_name', why);
        assert.equal(reply.field, 'name', why);
    }
    // The connection stayed open, and a real name still gets in.
    assert.equal((await hello(c, room, 'Veera K')).type, 'welcome');
});

test('a name that looks like a present member\'s is name_taken', async () => {
    const s = await server();
    const c = await connect(s);
    for (const { a, b, why } of TABLE.same) {
        const room = uid('same-');
        await join(s, room, a);
        const reply = await hello(c, room, b);
        assert.equal(reply.code, 'name_taken', `${why}: "${a}" / "${b}": ${JSON.stringify(reply)}`);
        assert.equal(reply.field, undefined);
    }
    for (const { a, b, why } of TABLE.distinct) {
        const room = uid('distinct-');
        await join(s, room, a);
        await join(s, room, b).catch((e) => assert.fail(`${why}: "${a}" / "${b}": ${JSON.stringify(e.reply)}`));
    }
});

test('real names in many scripts are accepted side by side, kept in NFC', async () => {
    const s = await server();
    const room = uid('world-');
    const joined = [];
    for (const name of TABLE.accepted) joined.push(await join(s, room, name));
    const last = joined.at(-1).welcome;
    assert.deepEqual(last.members.map((m) => m.name).sort(), [...TABLE.accepted].sort());

    const nfd = await join(s, uid('nfc-'), 'Jose\u0301');
    assert.equal(nfd.welcome.name, 'Jos\u00e9', 'the room keeps and shows the NFC form');
    assert.equal(nfd.presence.name, 'Jos\u00e9');
});

test('a participant cannot take a name that looks like a leader\'s username, present or not', async () => {
    const fx = await sessionFixture({ leaders: 2, participants: [], leaderEnters: false });
    const [first, second] = fx.leaders;
    // Nobody is in the room yet: the names come from the group's leaders.
    for (const name of [first, first.toUpperCase(), first.replace(/^l/, 'I'), second, second.replace(/^l/, 'L')]) {
        const { reply } = await fx.enter(name, { expect: null });
        assert.equal(reply.code, 'name_taken', `${name}: ${JSON.stringify(reply)}`);
    }
    const sol = await fx.enter('Sol');
    assert.equal(sol.reply.state, 'lobby');

    // The leader takes their own seat; a second login takes it over again.
    const lead = await fx.enterLeader(first);
    assert.equal(lead.reply.name, first);
    assert.equal(lead.reply.role, 'leader');
    const again = await fx.enterLeader(first);
    assert.equal(again.reply.member, lead.reply.member, 'a leader\'s own seat is not a clash');
    const open = await again.client.request({ type: 'open' });
    assert.equal(open.type, 'ack');

    // In the open room too: still refused while the other leader is away.
    const { reply } = await fx.enter(second.toUpperCase(), { expect: null });
    assert.equal(reply.code, 'name_taken');
    const other = await fx.enterLeader(second);
    assert.equal(other.reply.role, 'leader');
});
