// What the client knows of the room, as the last welcome and the events since told it.
// Modules read it; only room.js writes it.

export const room = {
    me: 0,
    role: 'participant',
    state: 'lobby', // lobby | open
    agreed: false,
    members: new Map(), // member id -> {member, name, role, muted?}
    waiting: [], // leaders: who waits in the lobby
    hands: [],
    round: null,
    flags: { locked: false, paused: false, read_only: false, slow_mode: 0, topic: null },
    muted: null, // null or {until}
    privateMessages: 'leaders',
    session: null,
};

export const isLeader = () => room.role !== 'participant';

/** A member's pseudonym, from the room or the lobby; null when unknown. */
export function nameOf(id) {
    return room.members.get(id)?.name ?? room.waiting.find((w) => w.member === id)?.name ?? null;
}
