#include "proto.h"

#include <assert.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "names.h"
#include "util.h"

/* ---- error codes ---- */

static const struct {
    const char *code;
    const char *message;
} errors[PROTO_E_COUNT] = {
    [PROTO_OK] = {"ok", "ok"},
    [PROTO_E_BAD_JSON] = {"bad_json", "the message is not valid JSON"},
    [PROTO_E_INVALID_UTF8] = {"invalid_utf8", "a string is not valid Unicode"},
    [PROTO_E_DUPLICATE_KEY] = {"duplicate_key", "an object has the same key twice"},
    [PROTO_E_TOO_DEEP] = {"too_deep", "the message is nested too deeply"},
    [PROTO_E_NOT_OBJECT] = {"not_object", "the message is not a JSON object"},
    [PROTO_E_MISSING_FIELD] = {"missing_field", "a required field is missing"},
    [PROTO_E_UNKNOWN_FIELD] = {"unknown_field", "the request has a field it does not define"},
    [PROTO_E_BAD_FIELD] = {"bad_field", "a field has the wrong type or an invalid value"},
    [PROTO_E_UNKNOWN_TYPE] = {"unknown_type", "no request has this type"},
    [PROTO_E_TEXT_TOO_LONG] = {"text_too_long", "the text is too long"},
    [PROTO_E_BAD_NAME] = {"bad_name", "the pseudonym is not allowed"},
    [PROTO_E_NAME_TAKEN] = {"name_taken", "another member of the room uses this pseudonym"},
    [PROTO_E_ROOM_FULL] = {"room_full", "the room is full"},
    [PROTO_E_ALREADY_JOINED] = {"already_joined", "this connection has already joined"},
    [PROTO_E_NOT_JOINED] = {"not_joined", "send hello or resume first"},
    [PROTO_E_RESUME_FAILED] = {"resume_failed", "the membership cannot be resumed"},
    [PROTO_E_RATE_LIMITED] = {"rate_limited", "too many messages; wait and resend"},
    [PROTO_E_FORBIDDEN] = {"forbidden", "your role does not permit this"},
    [PROTO_E_TOO_BIG] = {"too_big", "the message is too big"},
    [PROTO_E_INVITE_INVALID] = {"invite_invalid", "the invite is not valid"},
    [PROTO_E_TOKEN_INVALID] = {"token_invalid", "log in again"},
    [PROTO_E_NO_SESSION] = {"no_session", "the group has no session open now"},
    [PROTO_E_IN_LOBBY] = {"in_lobby", "the session has not been opened yet"},
    [PROTO_E_AGREEMENT_REQUIRED] = {"agreement_required", "accept the group agreement first"},
    [PROTO_E_NOT_FOUND] = {"not_found", "no such member or message in this room"},
    [PROTO_E_MUTED] = {"muted", "a leader has muted you"},
    [PROTO_E_PAUSED] = {"paused", "the room is paused"},
    [PROTO_E_READ_ONLY] = {"read_only", "no leader is in the room; wait for one to come back"},
    [PROTO_E_SLOW_MODE] = {"slow_mode", "slow mode is on; wait and resend"},
    [PROTO_E_NOT_YOUR_TURN] = {"not_your_turn", "a round is running and it is not your turn"},
    [PROTO_E_WRONG_STATE] = {"wrong_state", "the request does not fit the room's state"},
    [PROTO_E_BANNED] = {"banned", "you may not enter this group"},
    [PROTO_E_BUSY] = {"busy", "the server is busy; the request had no effect; try again"},
    [PROTO_E_INTERNAL] = {"internal", "server error; the request had no effect"},
};

const char *proto_strerror(enum proto_err e)
{
    if ((unsigned)e >= PROTO_E_COUNT)
        e = PROTO_E_INTERNAL;
    return errors[e].code;
}

const char *proto_err_message(enum proto_err e)
{
    if ((unsigned)e >= PROTO_E_COUNT)
        e = PROTO_E_INTERNAL;
    return errors[e].message;
}

const char *proto_role_name(enum proto_role r)
{
    static const char *const names[] = {"participant", "leader", "co_leader"};
    return (unsigned)r < ARRAY_LEN(names) ? names[r] : "participant";
}

const char *proto_round_kind_name(enum proto_round_kind k)
{
    static const char *const names[] = {"check_in", "check_out", "round"};
    return (unsigned)k < ARRAY_LEN(names) ? names[k] : "round";
}

const char *proto_state_name(enum proto_state st)
{
    static const char *const names[] = {"open", "lobby", "ended"};
    return names[st];
}

/* ---- jansson memory: wipe on free ---- */

static void *json_alloc(size_t n)
{
    return xmalloc(n);
}

static void json_release(void *p)
{
    if (p)
        wipe(p, malloc_usable_size(p));
    free(p);
}

void proto_init(void)
{
    json_set_alloc_funcs(json_alloc, json_release);
}

/* ---- UTF-8 ---- */

/* Decode one code point of valid UTF-8 at s (jansson validated it). */
static uint32_t utf8_next(const unsigned char **s)
{
    const unsigned char *p = *s;
    uint32_t c = *p++;
    int more = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
    if (more)
        c &= 0x3fu >> more;
    while (more--)
        c = (c << 6) | (*p++ & 0x3fu);
    *s = p;
    return c;
}

bool proto_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        unsigned c = *p++;
        if (c < 0x80)
            continue;
        int more;
        unsigned min, cp;
        if (c >= 0xc2 && c <= 0xdf) {
            more = 1, min = 0x80, cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            more = 2, min = 0x800, cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            more = 3, min = 0x10000, cp = c & 0x07;
        } else {
            return false; /* stray continuation, C0/C1 overlong lead, or F5-FF */
        }
        if (end - p < more)
            return false;
        while (more--) {
            if ((*p & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (*p++ & 0x3fu);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
    }
    return true;
}

size_t proto_utf8_count(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xc0) != 0x80;
    return n;
}

static bool is_control(uint32_t c)
{
    return c < 0x20 || (c >= 0x7f && c <= 0x9f);
}

/* ---- decoding ---- */

/* Count nesting without parsing, so a deep document never reaches jansson's
 * recursive parser. Returns the maximum depth (the top object is 1). */
static int nesting_depth(const char *s, size_t len, int stop)
{
    int depth = 0, max = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (++depth > max && (max = depth) > stop)
                return max;
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return max;
}

#define MAX_DEPTH 4
#define MEMBER_MAX 4294967295u /* member ids are below 2^32 (README §4a) */

/* How a field's value is checked and where it is stored. */
enum field_kind {
    F_ID,
    F_ROOM,
    F_NAME,
    F_INVITE,
    F_LEADER_TOKEN,
    F_SESSION,
    F_KEY,
    F_TOKEN,
    F_EPOCH,
    F_AFTER_SEQ,
    F_TEXT,
    F_TO,
    F_MEMBER,
    F_ALL,
    F_MINUTES,
    F_BAN,
    F_SEQ,
    F_SECONDS,
    F_ON,
    F_TOPIC,
    F_KIND,
    F_ORDER,
    F_EXCLUSIVE,
};

struct field_spec {
    const char *name;
    enum field_kind kind;
    bool required;
};

/* A request: its fields in table order (which decides between errors, README
 * §6 rule 6), and the rules that concern several fields, checked after each
 * field is valid on its own. */
struct type_spec {
    const char *type;
    enum proto_type t;
    struct field_spec fields[7];
    enum proto_err (*form)(json_t *root, struct proto_cmd *cmd);
};

static enum proto_err check_hello(json_t *root, struct proto_cmd *cmd);
static enum proto_err check_pick(json_t *root, struct proto_cmd *cmd);
static enum proto_err round_defaults(json_t *root, struct proto_cmd *cmd);

/* The two fields most requests share. */
/* clang-format off */
#define ID_FIELD {"id", F_ID, false}
#define MEMBER_FIELD {"member", F_MEMBER, true}
/* clang-format on */

static const struct type_spec types[] = {
    {"hello",
     PROTO_HELLO,
     {ID_FIELD,
      {"invite", F_INVITE, false},
      {"token", F_LEADER_TOKEN, false},
      {"session", F_SESSION, false},
      {"room", F_ROOM, false},
      {"name", F_NAME, false},
      {"key", F_KEY, false}},
     check_hello},
    {"resume",
     PROTO_RESUME,
     {ID_FIELD,
      {"token", F_TOKEN, true},
      {"epoch", F_EPOCH, true},
      {"after_seq", F_AFTER_SEQ, true}},
     NULL},
    {"say", PROTO_SAY, {{"id", F_ID, true}, {"text", F_TEXT, true}, {"to", F_TO, false}}, NULL},
    {"leave", PROTO_LEAVE, {ID_FIELD, {"safe", F_ON, false}}, NULL},
    {"agree", PROTO_AGREE, {ID_FIELD}, NULL},
    {"open", PROTO_OPEN, {ID_FIELD}, NULL},
    {"admit",
     PROTO_ADMIT,
     {ID_FIELD, {"member", F_MEMBER, false}, {"all", F_ALL, false}},
     check_pick},
    {"deny",
     PROTO_DENY,
     {ID_FIELD, {"member", F_MEMBER, false}, {"all", F_ALL, false}},
     check_pick},
    {"to_lobby", PROTO_TO_LOBBY, {ID_FIELD, MEMBER_FIELD}, NULL},
    {"mute", PROTO_MUTE, {ID_FIELD, MEMBER_FIELD, {"minutes", F_MINUTES, false}}, NULL},
    {"unmute", PROTO_UNMUTE, {ID_FIELD, MEMBER_FIELD}, NULL},
    {"remove", PROTO_REMOVE, {ID_FIELD, MEMBER_FIELD}, NULL},
    {"ban", PROTO_BAN, {ID_FIELD, MEMBER_FIELD}, NULL},
    {"unban", PROTO_UNBAN, {ID_FIELD, {"ban", F_BAN, true}}, NULL},
    {"bans", PROTO_BANS, {ID_FIELD}, NULL},
    {"delete", PROTO_DELETE, {ID_FIELD, {"seq", F_SEQ, true}}, NULL},
    {"lock", PROTO_LOCK, {ID_FIELD, {"on", F_ON, true}}, NULL},
    {"pause", PROTO_PAUSE, {ID_FIELD, {"on", F_ON, true}}, NULL},
    {"slow", PROTO_SLOW, {ID_FIELD, {"seconds", F_SECONDS, true}}, NULL},
    {"topic", PROTO_TOPIC, {ID_FIELD, {"text", F_TOPIC, true}}, NULL},
    {"promote", PROTO_PROMOTE, {ID_FIELD, MEMBER_FIELD}, NULL},
    {"demote", PROTO_DEMOTE, {ID_FIELD, MEMBER_FIELD}, NULL},
    {"end", PROTO_END, {ID_FIELD}, NULL},
    {"round_start",
     PROTO_ROUND_START,
     {ID_FIELD,
      {"kind", F_KIND, true},
      {"order", F_ORDER, false},
      {"exclusive", F_EXCLUSIVE, false}},
     round_defaults},
    {"round_pass", PROTO_ROUND_PASS, {ID_FIELD}, NULL},
    {"round_done", PROTO_ROUND_DONE, {ID_FIELD}, NULL},
    {"round_skip", PROTO_ROUND_SKIP, {ID_FIELD}, NULL},
    {"round_order", PROTO_ROUND_ORDER, {ID_FIELD, {"order", F_ORDER, true}}, NULL},
    {"round_end", PROTO_ROUND_END, {ID_FIELD}, NULL},
    {"hand", PROTO_HAND, {ID_FIELD, {"up", F_ON, true}, {"member", F_MEMBER, false}}, NULL},
    {"not_ok", PROTO_NOT_OK, {ID_FIELD}, NULL},
    {"report", PROTO_REPORT, {ID_FIELD, {"seq", F_SEQ, true}}, NULL},
};

static bool chars_in(const char *s, size_t len, const char *extra)
{
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  (c && strchr(extra, c));
        if (!ok)
            return false;
    }
    return true;
}

static bool valid_id(json_t *v)
{
    size_t n = json_string_length(v);
    return json_is_string(v) && n >= 1 && n <= PROTO_ID_MAX &&
           chars_in(json_string_value(v), n, "_-.:");
}

/* Text of min..max code points with no control characters but line feed and
 * tab. A control character is bad_field even in a text that is also too long,
 * so the whole text is read before its length decides. */
static enum proto_err check_text(const char *s, size_t len, size_t min, size_t max)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    size_t count = 0;
    bool bad = false;
    while (p < end) {
        uint32_t c = utf8_next(&p);
        count++;
        if (is_control(c) && c != '\n' && c != '\t')
            bad = true;
    }
    if (count < min || bad)
        return PROTO_E_BAD_FIELD;
    if (count > max)
        return PROTO_E_TEXT_TOO_LONG;
    return PROTO_OK;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* A string of exactly len base64url characters, copied with its NUL to out. */
static enum proto_err base64url_field(const char *s, size_t n, size_t len, char *out)
{
    if (!s || n != len || !chars_in(s, n, "_-"))
        return PROTO_E_BAD_FIELD;
    memcpy(out, s, n + 1);
    return PROTO_OK;
}

/* A JSON integer (no fraction, no exponent) in min..max; max <= 2^53-1. */
static enum proto_err integer_field(json_t *v, uint64_t min, uint64_t max, uint64_t *out)
{
    if (!json_is_integer(v))
        return PROTO_E_BAD_FIELD;
    json_int_t i = json_integer_value(v);
    if (i < 0 || (uint64_t)i < min || (uint64_t)i > max)
        return PROTO_E_BAD_FIELD;
    *out = (uint64_t)i;
    return PROTO_OK;
}

/* integer_field for the small counts that the command keeps in 32 bits. */
static enum proto_err count_field(json_t *v, uint32_t min, uint32_t max, uint32_t *out)
{
    uint64_t n;
    if (integer_field(v, min, max, &n))
        return PROTO_E_BAD_FIELD;
    *out = (uint32_t)n;
    return PROTO_OK;
}

/* JSON true or false; 0, 1 and "true" are not booleans. */
static enum proto_err bool_field(json_t *v, bool *out)
{
    if (!json_is_boolean(v))
        return PROTO_E_BAD_FIELD;
    *out = json_is_true(v);
    return PROTO_OK;
}

/* say's `to`: "leaders" or a member id. */
static enum proto_err to_field(json_t *v, struct proto_cmd *cmd)
{
    if (!json_is_string(v))
        return integer_field(v, 1, MEMBER_MAX, &cmd->u.say.to);
    if (strcmp(json_string_value(v), "leaders") != 0)
        return PROTO_E_BAD_FIELD;
    cmd->u.say.to_leaders = true;
    return PROTO_OK;
}

static enum proto_err kind_field(const char *s, struct proto_cmd *cmd)
{
    for (int k = PROTO_ROUND_CHECK_IN; s && k <= PROTO_ROUND_PLAIN; k++) {
        if (strcmp(s, proto_round_kind_name((enum proto_round_kind)k)) == 0) {
            cmd->act.kind = (enum proto_round_kind)k;
            return PROTO_OK;
        }
    }
    return PROTO_E_BAD_FIELD;
}

/* A round's order: 1..PROTO_ORDER_MAX distinct member ids. The quadratic
 * check for repeats is bounded by the cap, which is tested first. */
static enum proto_err order_field(json_t *v, struct proto_cmd *cmd)
{
    size_t n = json_array_size(v);
    if (n < 1 || n > PROTO_ORDER_MAX)
        return PROTO_E_BAD_FIELD;
    for (size_t i = 0; i < n; i++) {
        uint64_t m;
        if (integer_field(json_array_get(v, i), 1, MEMBER_MAX, &m))
            return PROTO_E_BAD_FIELD;
        for (size_t j = 0; j < i; j++) {
            if (cmd->act.order[j] == m)
                return PROTO_E_BAD_FIELD;
        }
        cmd->act.order[i] = (uint32_t)m;
    }
    cmd->act.order_len = n;
    return PROTO_OK;
}

/* Strings are stored as pointers into the parsed document, which jansson
 * keeps NUL-terminated and free of embedded NULs (\u0000 is bad_json). */
static enum proto_err text_field(json_t *v, size_t min, size_t max, const char **text,
                                 size_t *text_len)
{
    const char *s = json_string_value(v);
    if (!s)
        return PROTO_E_BAD_FIELD;
    size_t n = json_string_length(v);
    enum proto_err e = check_text(s, n, min, max);
    if (e)
        return e;
    *text = s;
    *text_len = n;
    return PROTO_OK;
}

static enum proto_err epoch_field(const char *s, size_t n, uint64_t *out)
{
    if (!s || n != 16)
        return PROTO_E_BAD_FIELD;
    uint64_t e = 0;
    for (size_t i = 0; i < 16; i++) {
        int h = hexval(s[i]);
        if (h < 0)
            return PROTO_E_BAD_FIELD;
        e = (e << 4) | (uint64_t)h;
    }
    *out = e;
    return PROTO_OK;
}

static enum proto_err decode_field(const struct field_spec *f, json_t *v,
                                   const struct proto_limits *lim, struct proto_cmd *cmd)
{
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);

    switch (f->kind) {
    case F_ID:
        if (!valid_id(v))
            return PROTO_E_BAD_FIELD;
        memcpy(cmd->id, s, n + 1);
        return PROTO_OK;
    case F_ROOM:
        if (!s || n < 1 || n > PROTO_ROOM_MAX || !chars_in(s, n, "_-"))
            return PROTO_E_BAD_FIELD;
        memcpy(cmd->u.hello.room, s, n + 1);
        return PROTO_OK;
    case F_NAME:
        if (!s)
            return PROTO_E_BAD_FIELD;
        switch (names_check(s, n, lim->max_name_chars)) {
        case NAMES_OK:
            break;
        case NAMES_E_ICU:
            return PROTO_E_INTERNAL;
        default:
            return PROTO_E_BAD_NAME;
        }
        cmd->u.hello.name = s;
        cmd->u.hello.name_len = n;
        return PROTO_OK;
    case F_INVITE:
        return base64url_field(s, n, PROTO_INVITE_LEN, cmd->u.hello.invite);
    case F_LEADER_TOKEN:
        return base64url_field(s, n, PROTO_TOKEN_LEN, cmd->u.hello.token);
    case F_SESSION:
        return integer_field(v, 1, PROTO_SEQ_MAX, &cmd->u.hello.session);
    case F_KEY:
        return base64url_field(s, n, PROTO_KEY_LEN, cmd->u.hello.key);
    case F_TOKEN:
        return base64url_field(s, n, PROTO_TOKEN_LEN, cmd->u.resume.token);
    case F_EPOCH:
        return epoch_field(s, n, &cmd->u.resume.epoch);
    case F_AFTER_SEQ:
        return integer_field(v, 0, PROTO_SEQ_MAX, &cmd->u.resume.after_seq);
    case F_TEXT:
        return text_field(v, 1, lim->max_text_chars, &cmd->u.say.text, &cmd->u.say.text_len);
    case F_TO:
        return to_field(v, cmd);
    case F_MEMBER:
        return integer_field(v, 1, MEMBER_MAX, &cmd->act.member);
    case F_ALL:
        /* `all` only ever says yes; false would read as a request for nobody. */
        cmd->act.all = json_is_true(v);
        return cmd->act.all ? PROTO_OK : PROTO_E_BAD_FIELD;
    case F_MINUTES:
        return count_field(v, 1, PROTO_MUTE_MINUTES_MAX, &cmd->act.minutes);
    case F_BAN:
        return integer_field(v, 1, PROTO_SEQ_MAX, &cmd->act.ban);
    case F_SEQ:
        return integer_field(v, 1, PROTO_SEQ_MAX, &cmd->act.seq);
    case F_SECONDS:
        return count_field(v, 0, PROTO_SLOW_SECONDS_MAX, &cmd->act.seconds);
    case F_ON:
        return bool_field(v, &cmd->act.on);
    case F_TOPIC:
        return text_field(v, 0, PROTO_TOPIC_MAX, &cmd->act.text, &cmd->act.text_len);
    case F_KIND:
        return kind_field(s, cmd);
    case F_ORDER:
        return order_field(v, cmd);
    case F_EXCLUSIVE:
        return bool_field(v, &cmd->act.exclusive);
    }
    return PROTO_E_INTERNAL;
}

static const struct field_spec *spec_field(const struct type_spec *t, const char *key)
{
    for (size_t i = 0; i < ARRAY_LEN(t->fields) && t->fields[i].name; i++) {
        if (strcmp(t->fields[i].name, key) == 0)
            return &t->fields[i];
    }
    return NULL;
}

/* hello comes in three forms (protocol/README.md §4): with an invite and a
 * name, with a leader's token and a session, or (testing) with a room and a
 * name. The fields are valid one by one; here they must form one of them.
 * A participant key belongs to the participant forms only: leaders are not
 * banned, so a key with a token is a client bug worth reporting. */
static enum proto_err check_hello(json_t *root, struct proto_cmd *cmd)
{
    static const char *const ways[] = {"invite", "token", "room"};
    const char *way = NULL;
    for (size_t i = 0; i < ARRAY_LEN(ways); i++) {
        if (!json_object_get(root, ways[i]))
            continue;
        if (way) {
            cmd->field = ways[i];
            return PROTO_E_BAD_FIELD;
        }
        way = ways[i];
    }
    bool leader = way && strcmp(way, "token") == 0;
    bool has_name = json_object_get(root, "name") != NULL;
    bool has_session = json_object_get(root, "session") != NULL;
    if (!way)
        cmd->field = "invite";
    else if (leader && !has_session)
        cmd->field = "session";
    else if (!leader && !has_name)
        cmd->field = "name";
    if (cmd->field)
        return PROTO_E_MISSING_FIELD;
    if (leader && has_name)
        cmd->field = "name";
    else if (!leader && has_session)
        cmd->field = "session";
    else if (leader && cmd->u.hello.key[0])
        cmd->field = "key";
    return cmd->field ? PROTO_E_BAD_FIELD : PROTO_OK;
}

/* admit and deny take exactly one of `member` and `all` (README §4a). By now
 * a present `member` is non-zero and a present `all` is true. */
static enum proto_err check_pick(json_t *root, struct proto_cmd *cmd)
{
    if (!cmd->act.member && !cmd->act.all) {
        cmd->field = "member";
        return PROTO_E_MISSING_FIELD;
    }
    if (cmd->act.member && cmd->act.all) {
        cmd->field = "all";
        return PROTO_E_BAD_FIELD;
    }
    return PROTO_OK;
}

/* A round is exclusive unless the leader says otherwise. */
static enum proto_err round_defaults(json_t *root, struct proto_cmd *cmd)
{
    if (!json_object_get(root, "exclusive"))
        cmd->act.exclusive = true;
    return PROTO_OK;
}

static enum proto_err decode_object(json_t *root, const struct proto_limits *lim,
                                    struct proto_cmd *cmd)
{
    if (!json_is_object(root))
        return PROTO_E_NOT_OBJECT;

    /* Read the id first so every later error can be matched to its request. */
    json_t *id = json_object_get(root, "id");
    if (id && valid_id(id))
        memcpy(cmd->id, json_string_value(id), json_string_length(id) + 1);

    json_t *type = json_object_get(root, "type");
    cmd->field = "type";
    if (!type)
        return PROTO_E_MISSING_FIELD;
    if (!json_is_string(type))
        return PROTO_E_BAD_FIELD;
    const struct type_spec *t = NULL;
    for (size_t i = 0; i < ARRAY_LEN(types); i++) {
        if (strcmp(types[i].type, json_string_value(type)) == 0 &&
            strlen(types[i].type) == json_string_length(type))
            t = &types[i];
    }
    if (!t)
        return PROTO_E_UNKNOWN_TYPE;
    cmd->type = t->t;

    const char *key;
    json_t *value;
    json_object_foreach(root, key, value)
    {
        if (strcmp(key, "type") != 0 && !spec_field(t, key)) {
            /* The key is the peer's own text; echo it only when short. */
            cmd->field = strlen(key) <= PROTO_ID_MAX ? key : NULL;
            return PROTO_E_UNKNOWN_FIELD;
        }
    }
    for (size_t i = 0; i < ARRAY_LEN(t->fields) && t->fields[i].name; i++) {
        if (t->fields[i].required && !json_object_get(root, t->fields[i].name)) {
            cmd->field = t->fields[i].name;
            return PROTO_E_MISSING_FIELD;
        }
    }
    for (size_t i = 0; i < ARRAY_LEN(t->fields) && t->fields[i].name; i++) {
        json_t *v = json_object_get(root, t->fields[i].name);
        if (!v)
            continue;
        cmd->field = t->fields[i].name;
        enum proto_err e = decode_field(&t->fields[i], v, lim, cmd);
        if (e)
            return e;
    }
    cmd->field = NULL;
    return t->form ? t->form(root, cmd) : PROTO_OK;
}

enum proto_err proto_decode(const char *buf, size_t len, const struct proto_limits *lim,
                            struct proto_cmd *cmd)
{
    memset(cmd, 0, sizeof(*cmd));
    if (len > lim->max_message_bytes)
        return PROTO_E_TOO_BIG;
    if (nesting_depth(buf, len, MAX_DEPTH) > MAX_DEPTH)
        return PROTO_E_TOO_DEEP;

    json_error_t jerr;
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!root) {
        switch (json_error_code(&jerr)) {
        case json_error_duplicate_key:
            return PROTO_E_DUPLICATE_KEY;
        case json_error_invalid_utf8:
            return PROTO_E_INVALID_UTF8;
        case json_error_invalid_syntax:
            /* jansson reports a lone surrogate escape ("\ud800") as syntax;
             * its text is the only way to tell it apart. */
            if (strncmp(jerr.text, "invalid Unicode", 15) == 0)
                return PROTO_E_INVALID_UTF8;
            return PROTO_E_BAD_JSON;
        default:
            return PROTO_E_BAD_JSON;
        }
    }
    cmd->json = root;
    return decode_object(root, lim, cmd);
}

void proto_cmd_clear(struct proto_cmd *cmd)
{
    if (cmd->json)
        json_decref(cmd->json);
    cmd->json = NULL;
    cmd->u.say.text = NULL;
    cmd->u.hello.name = NULL;
    cmd->act.text = NULL;
}

/* ---- encoding: a small JSON writer into a reused scratch buffer ---- */

struct jw {
    char *buf;
    size_t len, cap;
};

static struct jw scratch;

static void jw_reserve(struct jw *w, size_t more)
{
    if (w->len + more <= w->cap)
        return;
    size_t cap = w->cap ? w->cap : 1024;
    while (cap < w->len + more)
        cap *= 2;
    char *nb = xmalloc(cap);
    if (w->buf) {
        memcpy(nb, w->buf, w->len);
        wipe(w->buf, w->cap);
        free(w->buf);
    }
    w->buf = nb;
    w->cap = cap;
}

static void jw_raw(struct jw *w, const char *s, size_t n)
{
    jw_reserve(w, n);
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

#define jw_lit(w, s) jw_raw(w, s, sizeof(s) - 1)

static void jw_str(struct jw *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    jw_reserve(w, n * 6 + 2);
    char *o = w->buf + w->len;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
        } else if (c == '\n') {
            *o++ = '\\';
            *o++ = 'n';
        } else if (c == '\t') {
            *o++ = '\\';
            *o++ = 't';
        } else if (c < 0x20 || c == 0x7f) {
            memcpy(o, "\\u00", 4);
            o[4] = hex[c >> 4];
            o[5] = hex[c & 15];
            o += 6;
        } else {
            *o++ = (char)c;
        }
    }
    *o++ = '"';
    w->len = (size_t)(o - w->buf);
}

static void jw_cstr(struct jw *w, const char *s)
{
    if (s)
        jw_str(w, s, strlen(s));
    else
        jw_lit(w, "null");
}

/* Digits by hand: snprintf's format parsing was a third of what a message
 * event cost to encode (seq, member, ts; bench/README.md: the envelope). */
static void jw_u64(struct jw *w, uint64_t v)
{
    char tmp[20]; /* UINT64_MAX has 20 digits */
    char *p = tmp + sizeof(tmp);
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    jw_raw(w, p, (size_t)(tmp + sizeof(tmp) - p));
}

static void jw_key(struct jw *w, const char *key)
{
    jw_reserve(w, strlen(key) + 4);
    w->buf[w->len++] = ',';
    jw_cstr(w, key);
    w->buf[w->len++] = ':';
}

static struct jw *jw_begin(const char *type)
{
    scratch.len = 0;
    jw_lit(&scratch, "{\"type\":");
    jw_cstr(&scratch, type);
    return &scratch;
}

static struct frame *jw_finish(struct jw *w)
{
    jw_lit(w, "}");
    struct frame *f = frame_from(w->buf, w->len);
    wipe(w->buf, w->len);
    w->len = 0;
    return f;
}

/* The writers below put `"key":value` after the first member of an object
 * (jw_key writes the comma); a nested object opens with jw_open. */

static void jw_open(struct jw *w, const char *first_key)
{
    jw_lit(w, "{");
    jw_cstr(w, first_key);
    jw_lit(w, ":");
}

static void jw_u64_at(struct jw *w, const char *key, uint64_t v)
{
    jw_key(w, key);
    jw_u64(w, v);
}

/* Where the protocol writes null for "none" and 0 is never a real value: a
 * member id, a time in ms, a ban id. */
static void jw_opt_u64(struct jw *w, uint64_t v)
{
    if (v)
        jw_u64(w, v);
    else
        jw_lit(w, "null");
}

static void jw_opt_u64_at(struct jw *w, const char *key, uint64_t v)
{
    jw_key(w, key);
    jw_opt_u64(w, v);
}

static void jw_str_at(struct jw *w, const char *key, const char *s)
{
    jw_key(w, key);
    jw_cstr(w, s);
}

static void jw_bool_at(struct jw *w, const char *key, bool b)
{
    jw_key(w, key);
    if (b)
        jw_lit(w, "true");
    else
        jw_lit(w, "false");
}

/* An array of member ids: a round's queue, raised hands. */
static void jw_ids_at(struct jw *w, const char *key, const uint32_t *ids, size_t n)
{
    jw_key(w, key);
    jw_lit(w, "[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            jw_lit(w, ",");
        jw_u64(w, ids[i]);
    }
    jw_lit(w, "]");
}

/* The round as README §5 describes it, or null. */
static void jw_round_at(struct jw *w, const char *key, const struct proto_round *r)
{
    jw_key(w, key);
    if (!r) {
        jw_lit(w, "null");
        return;
    }
    jw_open(w, "kind");
    jw_cstr(w, proto_round_kind_name(r->kind));
    jw_opt_u64_at(w, "speaker", r->speaker);
    jw_ids_at(w, "queue", r->queue, r->queue_len);
    jw_ids_at(w, "done", r->done, r->done_len);
    jw_ids_at(w, "passed", r->passed, r->passed_len);
    jw_bool_at(w, "exclusive", r->exclusive);
    jw_lit(w, "}");
}

/* Who waits in the lobby, for the leaders' welcome and `lobby` events. */
static void jw_waiting_at(struct jw *w, const char *key, const struct proto_waiting *wt, size_t n)
{
    jw_key(w, key);
    jw_lit(w, "[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            jw_lit(w, ",");
        jw_open(w, "member");
        jw_u64(w, wt[i].member);
        jw_str_at(w, "name", wt[i].name);
        jw_bool_at(w, "knocked", wt[i].knocked);
        jw_bool_at(w, "agreed", wt[i].agreed);
        jw_lit(w, "}");
    }
    jw_lit(w, "]");
}

/* The room's switches, shared by the welcome and the `room` event. */
static void jw_flags(struct jw *w, const struct proto_room_flags *fl)
{
    jw_bool_at(w, "locked", fl->locked);
    jw_bool_at(w, "paused", fl->paused);
    jw_bool_at(w, "read_only", fl->read_only);
    jw_u64_at(w, "slow_mode", fl->slow_mode);
    jw_str_at(w, "topic", fl->topic);
}

/* Room events open with their seq and close with their ts. */
static struct jw *event_begin(const char *type, uint64_t seq)
{
    struct jw *w = jw_begin(type);
    jw_u64_at(w, "seq", seq);
    return w;
}

static struct frame *event_finish(struct jw *w, uint64_t ts)
{
    jw_u64_at(w, "ts", ts);
    return jw_finish(w);
}

static struct jw *ack_begin(const char *ref, uint64_t seq)
{
    struct jw *w = jw_begin("ack");
    jw_str_at(w, "ref", ref);
    if (seq)
        jw_u64_at(w, "seq", seq);
    return w;
}

struct frame *proto_encode_ack(const char *ref, uint64_t seq, bool duplicate)
{
    struct jw *w = ack_begin(ref, seq);
    if (duplicate)
        jw_bool_at(w, "duplicate", true);
    return jw_finish(w);
}

struct frame *proto_encode_ack_ban(const char *ref, uint64_t seq, int64_t ban_id)
{
    struct jw *w = ack_begin(ref, seq);
    jw_opt_u64_at(w, "ban", ban_id > 0 ? (uint64_t)ban_id : 0);
    return jw_finish(w);
}

/* Optional details are left out when zero; the ones README §5 says are
 * "always there" for a code are written as null instead. */
struct frame *proto_encode_error(enum proto_err e, const char *ref,
                                 const struct proto_error_detail *d)
{
    static const struct proto_error_detail none = {0};
    if (!d)
        d = &none;
    struct jw *w = jw_begin("error");
    jw_str_at(w, "code", proto_strerror(e));
    jw_str_at(w, "ref", ref);
    jw_str_at(w, "message", proto_err_message(e));
    if (d->field)
        jw_str_at(w, "field", d->field);
    if (d->reason)
        jw_str_at(w, "reason", d->reason);
    if (d->retry_after_ms > 0 || e == PROTO_E_SLOW_MODE)
        jw_u64_at(w, "retry_after_ms", d->retry_after_ms > 0 ? (uint64_t)d->retry_after_ms : 0);
    if (e == PROTO_E_NO_SESSION)
        jw_opt_u64_at(w, "next_start", d->next_start > 0 ? (uint64_t)d->next_start : 0);
    if (e == PROTO_E_MUTED)
        jw_opt_u64_at(w, "until", d->until > 0 ? (uint64_t)d->until : 0);
    return jw_finish(w);
}

struct frame *proto_encode_state(uint64_t seq, enum proto_state st, uint64_t ts)
{
    struct jw *w = event_begin("state", seq);
    jw_str_at(w, "state", proto_state_name(st));
    return event_finish(w, ts);
}

/* By enum proto_scope; a room message names no scope. */
static const char *const scope_names[] = {NULL, "leaders", "private", "direct"};

struct frame *proto_encode_message(const struct proto_message *m)
{
    struct jw *w = event_begin("message", m->seq);
    jw_u64_at(w, "member", m->member);
    jw_str_at(w, "name", m->name);
    if (m->text) {
        jw_key(w, "text");
        jw_str(w, m->text, m->text_len);
    } else {
        /* A tombstone: the text was wiped, only the fact of it remains. */
        jw_bool_at(w, "deleted", true);
    }
    if (m->scope != PROTO_SCOPE_ROOM && (unsigned)m->scope < ARRAY_LEN(scope_names))
        jw_str_at(w, "scope", scope_names[m->scope]);
    /* The back-channel is all the leaders' and names nobody else. */
    if (m->scope == PROTO_SCOPE_PRIVATE || m->scope == PROTO_SCOPE_DIRECT)
        jw_u64_at(w, "with", m->with);
    return event_finish(w, m->ts);
}

struct frame *proto_encode_presence(uint64_t seq, uint32_t member, const char *name,
                                    enum proto_role role, bool joined, const char *reason,
                                    uint64_t ts)
{
    struct jw *w = event_begin("presence", seq);
    jw_u64_at(w, "member", member);
    jw_str_at(w, "name", name);
    jw_str_at(w, "role", proto_role_name(role));
    jw_str_at(w, "state", joined ? "joined" : "left");
    if (!joined)
        jw_str_at(w, "reason", reason ? reason : "left");
    return event_finish(w, ts);
}

struct frame *proto_encode_room(uint64_t seq, const struct proto_room_flags *fl, uint32_t by,
                                uint64_t ts)
{
    struct jw *w = event_begin("room", seq);
    jw_flags(w, fl);
    jw_opt_u64_at(w, "by", by);
    return event_finish(w, ts);
}

struct frame *proto_encode_role(uint64_t seq, uint32_t member, enum proto_role role, uint32_t by,
                                uint64_t ts)
{
    struct jw *w = event_begin("role", seq);
    jw_u64_at(w, "member", member);
    jw_str_at(w, "role", proto_role_name(role));
    jw_opt_u64_at(w, "by", by);
    return event_finish(w, ts);
}

struct frame *proto_encode_hands(uint64_t seq, const uint32_t *queue, size_t n, uint64_t ts)
{
    struct jw *w = event_begin("hands", seq);
    jw_ids_at(w, "queue", queue, n);
    return event_finish(w, ts);
}

struct frame *proto_encode_round(uint64_t seq, const struct proto_round *r, uint64_t ts)
{
    struct jw *w = event_begin("round", seq);
    jw_round_at(w, "round", r);
    return event_finish(w, ts);
}

struct frame *proto_encode_deleted(uint64_t seq, uint64_t target, uint32_t by, uint64_t ts)
{
    struct jw *w = event_begin("deleted", seq);
    jw_u64_at(w, "target", target);
    jw_opt_u64_at(w, "by", by);
    return event_finish(w, ts);
}

struct frame *proto_encode_mute(uint64_t seq, uint32_t member, bool muted, uint64_t until,
                                uint32_t by, uint64_t ts)
{
    struct jw *w = event_begin("mute", seq);
    jw_u64_at(w, "member", member);
    jw_bool_at(w, "muted", muted);
    jw_opt_u64_at(w, "until", muted ? until : 0);
    jw_opt_u64_at(w, "by", by);
    return event_finish(w, ts);
}

struct frame *proto_encode_alert(uint64_t seq, const char *kind, uint32_t member, const char *name,
                                 uint64_t target, uint64_t ts)
{
    struct jw *w = event_begin("alert", seq);
    jw_str_at(w, "kind", kind);
    jw_u64_at(w, "member", member);
    jw_str_at(w, "name", name);
    if (target)
        jw_u64_at(w, "target", target);
    return event_finish(w, ts);
}

struct frame *proto_encode_lobby(uint64_t seq, const struct proto_waiting *wt, size_t n,
                                 uint64_t ts)
{
    struct jw *w = event_begin("lobby", seq);
    jw_waiting_at(w, "waiting", wt, n);
    return event_finish(w, ts);
}

struct frame *proto_encode_notice(uint64_t seq, const char *kind, uint64_t ts)
{
    struct jw *w = event_begin("notice", seq);
    jw_str_at(w, "kind", kind);
    return event_finish(w, ts);
}

struct frame *proto_encode_bans(const char *ref, const struct proto_ban *b, size_t n)
{
    struct jw *w = jw_begin("bans");
    jw_str_at(w, "ref", ref);
    jw_key(w, "bans");
    jw_lit(w, "[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            jw_lit(w, ",");
        jw_open(w, "id");
        jw_u64(w, b[i].id > 0 ? (uint64_t)b[i].id : 0);
        jw_str_at(w, "name", b[i].name);
        jw_u64_at(w, "created_at", b[i].created_at);
        jw_str_at(w, "by", b[i].by);
        jw_lit(w, "}");
    }
    jw_lit(w, "]");
    return jw_finish(w);
}

static void jw_members_at(struct jw *w, const char *key, const struct proto_welcome *wl)
{
    jw_key(w, key);
    jw_lit(w, "[");
    for (size_t i = 0; i < wl->member_count; i++) {
        const struct proto_member *m = &wl->members[i];
        if (i)
            jw_lit(w, ",");
        jw_open(w, "member");
        jw_u64(w, m->member);
        jw_str_at(w, "name", m->name);
        jw_str_at(w, "role", proto_role_name(m->role));
        /* Who is muted is the leaders' business, not the room's. */
        if (wl->show_muted)
            jw_bool_at(w, "muted", m->muted);
        jw_lit(w, "}");
    }
    jw_lit(w, "]");
}

static void jw_session_at(struct jw *w, const char *key, const struct proto_session_info *si)
{
    jw_key(w, key);
    if (!si) {
        jw_lit(w, "null");
        return;
    }
    jw_open(w, "id");
    jw_u64(w, si->id);
    jw_str_at(w, "group", si->group);
    jw_str_at(w, "language", si->language);
    jw_str_at(w, "description", si->description);
    jw_str_at(w, "agreement", si->agreement);
    jw_u64_at(w, "starts_at", si->starts_at);
    jw_u64_at(w, "ends_at", si->ends_at);
    jw_lit(w, "}");
}

/* The member's own mute: null, or {"until": ms or null}. */
static void jw_muted_at(struct jw *w, const char *key, bool muted, uint64_t until)
{
    jw_key(w, key);
    if (!muted) {
        jw_lit(w, "null");
        return;
    }
    jw_open(w, "until");
    jw_opt_u64(w, until);
    jw_lit(w, "}");
}

static void jw_limits_at(struct jw *w, const char *key, const struct proto_welcome *wl)
{
    jw_key(w, key);
    jw_open(w, "max_text_chars");
    jw_u64(w, wl->limits->max_text_chars);
    jw_u64_at(w, "max_message_bytes", wl->limits->max_message_bytes);
    jw_u64_at(w, "rate_per_sec", wl->rate_per_sec);
    jw_u64_at(w, "rate_burst", wl->rate_burst);
    jw_lit(w, "}");
}

struct frame *proto_encode_welcome(const struct proto_welcome *wl)
{
    char epoch[17];
    snprintf(epoch, sizeof(epoch), "%016" PRIx64, wl->epoch);

    struct jw *w = jw_begin("welcome");
    jw_str_at(w, "ref", wl->ref);
    jw_str_at(w, "epoch", epoch);
    jw_str_at(w, "token", wl->token);
    jw_u64_at(w, "member", wl->member);
    jw_str_at(w, "name", wl->name);
    jw_str_at(w, "role", proto_role_name(wl->role));
    jw_str_at(w, "room", wl->room);
    jw_u64_at(w, "seq", wl->seq);
    jw_members_at(w, "members", wl);
    jw_flags(w, &wl->flags);
    jw_round_at(w, "round", wl->round);
    jw_ids_at(w, "hands", wl->hands, wl->hand_count);
    jw_muted_at(w, "muted", wl->muted, wl->muted_until);
    jw_waiting_at(w, "waiting", wl->waiting, wl->waiting_count);
    jw_str_at(w, "private_messages", wl->private_messages ? wl->private_messages : "leaders");
    /* The crisis file was validated as JSON when it was loaded (safety.c). */
    jw_key(w, "crisis");
    if (wl->crisis_json)
        jw_raw(w, wl->crisis_json, strlen(wl->crisis_json));
    else
        jw_lit(w, "{}");
    jw_str_at(w, "state", proto_state_name(wl->state));
    jw_session_at(w, "session", wl->session);
    jw_bool_at(w, "agreed", wl->agreed);
    jw_bool_at(w, "resumed", wl->resumed);
    jw_bool_at(w, "gap", wl->gap);
    jw_limits_at(w, "limits", wl);
    return jw_finish(w);
}

/* A deletion is rare (a leader's action), so the tombstone is made by
 * reading the message frame back rather than keeping every message's
 * fields beside its frame. The parse goes through the wiping allocator. */
struct frame *proto_encode_tombstone(const struct frame *f)
{
    json_t *j = json_loadb((const char *)f->buf + LWS_PRE, f->len, 0, NULL);
    const char *type = json_string_value(json_object_get(j, "type"));
    struct frame *out = NULL;
    if (type && strcmp(type, "message") == 0 && json_object_get(j, "text")) {
        const char *scope = json_string_value(json_object_get(j, "scope"));
        struct proto_message m = {
            .seq = (uint64_t)json_integer_value(json_object_get(j, "seq")),
            .member = (uint32_t)json_integer_value(json_object_get(j, "member")),
            .name = json_string_value(json_object_get(j, "name")),
            .ts = (uint64_t)json_integer_value(json_object_get(j, "ts")),
            .with = (uint32_t)json_integer_value(json_object_get(j, "with")),
        };
        for (size_t i = 1; scope && i < ARRAY_LEN(scope_names); i++) {
            if (strcmp(scope, scope_names[i]) == 0)
                m.scope = (enum proto_scope)i;
        }
        out = proto_encode_message(&m);
    }
    json_decref(j);
    return out;
}
