/*
 * proto: the kamrat.v1 wire format (protocol/README.md), both ways.
 *
 * proto_decode turns the bytes of one client message into a typed command,
 * or into exactly one error code with the field it concerns. It applies
 * the checks in the README's precedence order: size, nesting depth, JSON
 * syntax, object, type, unknown fields, missing fields, then each field.
 *
 * The proto_encode_* functions build server messages directly into
 * refcounted frames; a room event is encoded once for all its recipients.
 *
 * json_t never leaves this module. Thread: the lws thread (a static scratch
 * buffer is reused between encodes).
 */
#ifndef KAMRAT_PROTO_H
#define KAMRAT_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frame.h"

/* Close codes of protocol/README.md §7 that kamrat sends itself. */
enum proto_close {
    PROTO_CLOSE_NORMAL = 1000,
    PROTO_CLOSE_GOING_AWAY = 1001,
    PROTO_CLOSE_BINARY = 1003,
    PROTO_CLOSE_POLICY = 1008,
    PROTO_CLOSE_TOO_BIG = 1009,
    PROTO_CLOSE_INTERNAL = 1011,
    PROTO_CLOSE_RESTART = 1012, /* a planned restart: the new process has the room */
    PROTO_CLOSE_UNAUTHORISED = 4401,
    PROTO_CLOSE_REMOVED = 4403, /* removed, banned or denied by a leader */
    PROTO_CLOSE_TOO_SLOW = 4408,
    PROTO_CLOSE_REPLACED = 4409,
    PROTO_CLOSE_SESSION_ENDED = 4410,
    PROTO_CLOSE_ABUSE = 4429,
};

/* Error codes, one-for-one with protocol/README.md §6 (a unit test checks). */
enum proto_err {
    PROTO_OK = 0,
    PROTO_E_BAD_JSON,
    PROTO_E_INVALID_UTF8,
    PROTO_E_DUPLICATE_KEY,
    PROTO_E_TOO_DEEP,
    PROTO_E_NOT_OBJECT,
    PROTO_E_MISSING_FIELD,
    PROTO_E_UNKNOWN_FIELD,
    PROTO_E_BAD_FIELD,
    PROTO_E_UNKNOWN_TYPE,
    PROTO_E_TEXT_TOO_LONG,
    PROTO_E_BAD_NAME,
    PROTO_E_NAME_TAKEN,
    PROTO_E_ROOM_FULL,
    PROTO_E_ALREADY_JOINED,
    PROTO_E_NOT_JOINED,
    PROTO_E_RESUME_FAILED,
    PROTO_E_RATE_LIMITED,
    PROTO_E_FORBIDDEN,
    PROTO_E_TOO_BIG,
    PROTO_E_INVITE_INVALID,
    PROTO_E_TOKEN_INVALID,
    PROTO_E_NO_SESSION,
    PROTO_E_IN_LOBBY,
    PROTO_E_AGREEMENT_REQUIRED,
    PROTO_E_NOT_FOUND,
    PROTO_E_MUTED,
    PROTO_E_PAUSED,
    PROTO_E_READ_ONLY,
    PROTO_E_SLOW_MODE,
    PROTO_E_NOT_YOUR_TURN,
    PROTO_E_WRONG_STATE,
    PROTO_E_BANNED,
    PROTO_E_BUSY,
    PROTO_E_INTERNAL,
    PROTO_E_COUNT
};

/* The stable code ("bad_json"), or "internal" for values out of range. */
const char *proto_strerror(enum proto_err e);
/* A short English explanation for the error's `message` field. */
const char *proto_err_message(enum proto_err e);

enum proto_type {
    PROTO_HELLO,
    PROTO_RESUME,
    PROTO_SAY,
    PROTO_LEAVE,
    PROTO_AGREE,
    PROTO_OPEN,
    /* moderation and participant tools (README §4a); their arguments are in
     * proto_cmd.act */
    PROTO_ADMIT,
    PROTO_DENY,
    PROTO_TO_LOBBY,
    PROTO_MUTE,
    PROTO_UNMUTE,
    PROTO_REMOVE,
    PROTO_BAN,
    PROTO_UNBAN,
    PROTO_BANS,
    PROTO_DELETE,
    PROTO_LOCK,
    PROTO_PAUSE,
    PROTO_SLOW,
    PROTO_TOPIC,
    PROTO_PROMOTE,
    PROTO_DEMOTE,
    PROTO_END,
    PROTO_ROUND_START,
    PROTO_ROUND_PASS,
    PROTO_ROUND_DONE,
    PROTO_ROUND_SKIP,
    PROTO_ROUND_ORDER,
    PROTO_ROUND_END,
    PROTO_HAND,
    PROTO_NOT_OK,
    PROTO_REPORT,
};

enum proto_round_kind { PROTO_ROUND_CHECK_IN, PROTO_ROUND_CHECK_OUT, PROTO_ROUND_PLAIN };
const char *proto_round_kind_name(enum proto_round_kind k); /* "check_in", "check_out", "round" */

#define PROTO_ID_MAX 64
#define PROTO_ROOM_MAX 64
#define PROTO_TOKEN_LEN 43                /* base64url of 32 bytes, no padding */
#define PROTO_INVITE_LEN 22               /* base64url of 16 bytes, no padding */
#define PROTO_SEQ_MAX 9007199254740991ull /* 2^53-1: exact in JavaScript */
#define PROTO_KEY_LEN 43                  /* participant key: base64url of 32 bytes */
#define PROTO_ORDER_MAX 500               /* member ids in a round's order */
#define PROTO_TOPIC_MAX 500               /* code points */
#define PROTO_MUTE_MINUTES_MAX 1440
#define PROTO_SLOW_SECONDS_MAX 3600

struct proto_limits {
    uint32_t max_message_bytes;
    uint32_t max_text_chars;
    uint32_t max_name_chars;
};

/* A decoded request. Strings point into memory owned by the command until
 * proto_cmd_clear(); `id` is set (non-empty) on errors too whenever the
 * request carried a valid id, so the error can carry it as `ref`. */
struct proto_cmd {
    enum proto_type type;
    char id[PROTO_ID_MAX + 1]; /* "" when absent */
    const char *field;         /* on error: the field concerned, or NULL */
    union {
        struct {
            /* exactly one of room (testing only), invite, token is set */
            char room[PROTO_ROOM_MAX + 1];
            char invite[PROTO_INVITE_LEN + 1];
            char token[PROTO_TOKEN_LEN + 1]; /* a leader's login token */
            uint64_t session;                /* with token: which session */
            const char *name;                /* with room or invite */
            size_t name_len;
            char key[PROTO_KEY_LEN + 1]; /* participant key, "" when absent */
        } hello;
        struct {
            char token[PROTO_TOKEN_LEN + 1];
            uint64_t epoch;
            uint64_t after_seq;
        } resume;
        struct {
            const char *text;
            size_t text_len;
            bool to_leaders; /* to: "leaders" */
            uint64_t to;     /* to: a member id; 0 when absent or "leaders" */
        } say;
    } u;
    /* The fields of the §4a requests (and leave's `safe`); absent ones are
     * zero/false (exclusive: true). */
    struct {
        uint64_t member;  /* member; 0: absent */
        bool all;         /* all: true */
        uint64_t seq;     /* delete, report */
        uint64_t ban;     /* unban */
        uint32_t minutes; /* mute; 0: absent (no timeout) */
        uint32_t seconds; /* slow */
        bool on;          /* lock, pause: on; hand: up; leave: safe */
        bool exclusive;   /* round_start; true when absent */
        enum proto_round_kind kind;
        const char *text; /* topic; "" clears */
        size_t text_len;
        uint32_t order[PROTO_ORDER_MAX]; /* round_start (optional), round_order */
        size_t order_len;                /* 0: absent */
    } act;
    void *json; /* the parsed document the strings live in */
};

/*
 * Decode len bytes (need not be NUL-terminated). Returns PROTO_OK and fills
 * cmd, or an error code with cmd->field (and cmd->id if readable) set.
 * Either way the caller must call proto_cmd_clear(cmd). A hello's name is
 * held to names_check (names.h): names_init must have run.
 */
enum proto_err proto_decode(const char *buf, size_t len, const struct proto_limits *lim,
                            struct proto_cmd *cmd);

/* Release (and wipe) what a decode left in cmd. Safe to call twice. */
void proto_cmd_clear(struct proto_cmd *cmd);

/* Route jansson's allocations through wrappers that wipe freed memory, so
 * parsed message text does not linger in freed heap. Call once at start. */
void proto_init(void);

/* Is len bytes at s well-formed UTF-8 (no overlongs, surrogates or code
 * points above U+10FFFF)? */
bool proto_utf8_valid(const char *s, size_t len);

/* Count the code points of valid UTF-8. */
size_t proto_utf8_count(const char *s, size_t len);

/* ---- encoding ---- */

enum proto_role { PROTO_ROLE_PARTICIPANT, PROTO_ROLE_LEADER, PROTO_ROLE_CO_LEADER };
const char *proto_role_name(enum proto_role r); /* "participant", "leader", "co_leader" */

struct proto_member {
    uint32_t member;
    const char *name;
    enum proto_role role;
    bool muted; /* written only in a snapshot with show_muted */
};

/* Someone waiting in the lobby, as leaders see them. */
struct proto_waiting {
    uint32_t member;
    const char *name;
    bool knocked; /* removed earlier in this session */
    bool agreed;
};

/* A round as members see it; speaker 0 is null. Arrays are borrowed. */
struct proto_round {
    enum proto_round_kind kind;
    uint32_t speaker;
    const uint32_t *queue, *done, *passed;
    size_t queue_len, done_len, passed_len;
    bool exclusive;
};

/* The room's switches (event `room`, and the welcome). */
struct proto_room_flags {
    bool locked, paused, read_only;
    uint32_t slow_mode;
    const char *topic; /* NULL: none */
};

/* The room's state as members see it. */
enum proto_state { PROTO_STATE_OPEN, PROTO_STATE_LOBBY, PROTO_STATE_ENDED };
const char *proto_state_name(enum proto_state st);

/* What a session room tells its members about the group and the session. */
struct proto_session_info {
    uint64_t id;
    const char *group;
    const char *language;
    const char *description;
    const char *agreement;
    uint64_t starts_at, ends_at; /* ms since the epoch */
};

struct proto_welcome {
    const char *ref; /* request id or NULL */
    uint64_t epoch;
    const char *token; /* PROTO_TOKEN_LEN chars */
    uint32_t member;
    const char *name;
    enum proto_role role;
    const char *room;
    uint64_t seq;
    const struct proto_member *members;
    size_t member_count;
    bool show_muted;               /* a leader's snapshot: members carry `muted` */
    struct proto_room_flags flags; /* flags.topic: the topic, NULL for none */
    enum proto_state state;
    const struct proto_session_info *session; /* NULL: an open room of the testing mode */
    bool agreed;
    bool resumed, gap;
    const struct proto_limits *limits;
    uint32_t rate_per_sec, rate_burst;
    const struct proto_round *round; /* NULL: none */
    const uint32_t *hands;
    size_t hand_count;
    bool muted;
    uint64_t muted_until; /* with muted: ms, 0 for null */
    const struct proto_waiting *waiting;
    size_t waiting_count;
    const char *private_messages; /* "off", "leaders", "everyone" */
    const char *crisis_json;      /* a JSON object's text, written as is; NULL: {} */
};

struct frame *proto_encode_welcome(const struct proto_welcome *w);

/* seq 0: no seq field. */
struct frame *proto_encode_ack(const char *ref, uint64_t seq, bool duplicate);
/* The answer to `ban`: with "ban": ban_id, or null when ban_id is 0. */
struct frame *proto_encode_ack_ban(const char *ref, uint64_t seq, int64_t ban_id);

/* What an error may say beyond its code; NULL and 0 members are left out
 * (next_start 0 and until 0 are written as null where the field is always
 * there). */
struct proto_error_detail {
    const char *field;
    const char *reason;
    int64_t retry_after_ms;
    int64_t next_start; /* no_session: ms since the epoch, 0: null */
    int64_t until;      /* muted: ms since the epoch; 0 writes null */
};

/* ref and d may be NULL. */
struct frame *proto_encode_error(enum proto_err e, const char *ref,
                                 const struct proto_error_detail *d);

enum proto_scope { PROTO_SCOPE_ROOM, PROTO_SCOPE_LEADERS, PROTO_SCOPE_PRIVATE, PROTO_SCOPE_DIRECT };

struct proto_message {
    uint64_t seq;
    uint32_t member;
    const char *name;
    const char *text; /* NULL: a tombstone (deleted: true, no text) */
    size_t text_len;
    uint64_t ts;
    enum proto_scope scope; /* ROOM writes no scope */
    uint32_t with;          /* PRIVATE: the participant; DIRECT: the recipient */
};

struct frame *proto_encode_message(const struct proto_message *m);

/* The tombstone of an encoded message frame: the same seq, member, name,
 * ts, scope and with, `deleted: true` and no text. NULL when f is already a
 * tombstone or not a message. */
struct frame *proto_encode_tombstone(const struct frame *f);

struct frame *proto_encode_state(uint64_t seq, enum proto_state st, uint64_t ts);

/* reason: NULL for joined; "left", "lost", "removed" or "lobby" for left. */
struct frame *proto_encode_presence(uint64_t seq, uint32_t member, const char *name,
                                    enum proto_role role, bool joined, const char *reason,
                                    uint64_t ts);

/* ---- moderation events (README §5); by 0 writes null ---- */

struct frame *proto_encode_room(uint64_t seq, const struct proto_room_flags *fl, uint32_t by,
                                uint64_t ts);
struct frame *proto_encode_role(uint64_t seq, uint32_t member, enum proto_role role, uint32_t by,
                                uint64_t ts);
struct frame *proto_encode_hands(uint64_t seq, const uint32_t *queue, size_t n, uint64_t ts);
/* r NULL: "round": null */
struct frame *proto_encode_round(uint64_t seq, const struct proto_round *r, uint64_t ts);
struct frame *proto_encode_deleted(uint64_t seq, uint64_t target, uint32_t by, uint64_t ts);
/* until 0 writes null */
struct frame *proto_encode_mute(uint64_t seq, uint32_t member, bool muted, uint64_t until,
                                uint32_t by, uint64_t ts);
/* kind: "not_ok", "report", "risk_word", "disconnected", "returned", "safe";
 * target 0: no target field */
struct frame *proto_encode_alert(uint64_t seq, const char *kind, uint32_t member, const char *name,
                                 uint64_t target, uint64_t ts);
struct frame *proto_encode_lobby(uint64_t seq, const struct proto_waiting *w, size_t n,
                                 uint64_t ts);
/* kind: "crisis" */
struct frame *proto_encode_notice(uint64_t seq, const char *kind, uint64_t ts);

struct proto_ban {
    int64_t id;
    const char *name;
    uint64_t created_at; /* ms */
    const char *by;
};
/* The `bans` reply. */
struct frame *proto_encode_bans(const char *ref, const struct proto_ban *b, size_t n);

#endif
