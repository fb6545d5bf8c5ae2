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
    PROTO_E_INTERNAL,
    PROTO_E_COUNT
};

/* The stable code ("bad_json"), or "internal" for values out of range. */
const char *proto_strerror(enum proto_err e);
/* A short English explanation for the error's `message` field. */
const char *proto_err_message(enum proto_err e);

enum proto_type { PROTO_HELLO, PROTO_RESUME, PROTO_SAY, PROTO_LEAVE, PROTO_AGREE, PROTO_OPEN };

#define PROTO_ID_MAX 64
#define PROTO_ROOM_MAX 64
#define PROTO_TOKEN_LEN 43                /* base64url of 32 bytes, no padding */
#define PROTO_INVITE_LEN 22               /* base64url of 16 bytes, no padding */
#define PROTO_SEQ_MAX 9007199254740991ull /* 2^53-1: exact in JavaScript */

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
        } hello;
        struct {
            char token[PROTO_TOKEN_LEN + 1];
            uint64_t epoch;
            uint64_t after_seq;
        } resume;
        struct {
            const char *text;
            size_t text_len;
        } say;
    } u;
    void *json; /* the parsed document the strings live in */
};

/*
 * Decode len bytes (need not be NUL-terminated). Returns PROTO_OK and fills
 * cmd, or an error code with cmd->field (and cmd->id if readable) set.
 * Either way the caller must call proto_cmd_clear(cmd).
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

enum proto_role { PROTO_ROLE_PARTICIPANT, PROTO_ROLE_LEADER };
const char *proto_role_name(enum proto_role r);

struct proto_member {
    uint32_t member;
    const char *name;
    enum proto_role role;
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
    const char *topic; /* NULL: none */
    enum proto_state state;
    const struct proto_session_info *session; /* NULL: an open room of the testing mode */
    bool agreed;
    bool resumed, gap;
    const struct proto_limits *limits;
    uint32_t rate_per_sec, rate_burst;
};

struct frame *proto_encode_welcome(const struct proto_welcome *w);

/* seq 0: no seq field. */
struct frame *proto_encode_ack(const char *ref, uint64_t seq, bool duplicate);

/* What an error may say beyond its code; NULL members and negative numbers
 * are left out. */
struct proto_error_detail {
    const char *field;
    const char *reason;
    int64_t retry_after_ms;
    int64_t next_start; /* no_session: ms since the epoch */
};

/* ref and d may be NULL. */
struct frame *proto_encode_error(enum proto_err e, const char *ref,
                                 const struct proto_error_detail *d);

struct frame *proto_encode_message(uint64_t seq, uint32_t member, const char *name,
                                   const char *text, size_t text_len, uint64_t ts);

struct frame *proto_encode_state(uint64_t seq, enum proto_state st, uint64_t ts);

struct frame *proto_encode_presence(uint64_t seq, uint32_t member, const char *name,
                                    enum proto_role role, bool joined, uint64_t ts);

#endif
