#include "proto.h"

#include <assert.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

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
    return r == PROTO_ROLE_LEADER ? "leader" : "participant";
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

/* Marks that change the direction of surrounding text. */
static bool is_bidi_control(uint32_t c)
{
    return c == 0x061c || c == 0x200e || c == 0x200f || (c >= 0x202a && c <= 0x202e) ||
           (c >= 0x2066 && c <= 0x2069);
}

static bool is_space(uint32_t c)
{
    return c == ' ' || c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 ||
           c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000 || c == 0xfeff;
}

static bool name_ok(const char *s, size_t len, uint32_t max_chars)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    size_t count = 0;
    uint32_t c = 0;
    while (p < end) {
        c = utf8_next(&p);
        if (is_control(c) || is_bidi_control(c))
            return false;
        if (count++ == 0 && is_space(c))
            return false;
    }
    return count >= 1 && count <= max_chars && !is_space(c);
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

enum field_kind {
    F_ID,
    F_ROOM,
    F_NAME,
    F_INVITE,
    F_LEADER_TOKEN,
    F_SESSION,
    F_TOKEN,
    F_EPOCH,
    F_SEQ,
    F_TEXT
};

struct field_spec {
    const char *name;
    enum field_kind kind;
    bool required;
};

struct type_spec {
    const char *type;
    enum proto_type t;
    struct field_spec fields[6];
};

static const struct type_spec types[] = {
    {"hello",
     PROTO_HELLO,
     {{"id", F_ID, false},
      {"invite", F_INVITE, false},
      {"token", F_LEADER_TOKEN, false},
      {"session", F_SESSION, false},
      {"room", F_ROOM, false},
      {"name", F_NAME, false}}},
    {"resume",
     PROTO_RESUME,
     {{"id", F_ID, false},
      {"token", F_TOKEN, true},
      {"epoch", F_EPOCH, true},
      {"after_seq", F_SEQ, true}}},
    {"say", PROTO_SAY, {{"id", F_ID, true}, {"text", F_TEXT, true}}},
    {"leave", PROTO_LEAVE, {{"id", F_ID, false}}},
    {"agree", PROTO_AGREE, {{"id", F_ID, false}}},
    {"open", PROTO_OPEN, {{"id", F_ID, false}}},
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

static enum proto_err check_text(const char *s, size_t len, const struct proto_limits *lim)
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
    if (count == 0 || bad)
        return PROTO_E_BAD_FIELD;
    if (count > lim->max_text_chars)
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

/* A JSON integer (no fraction, no exponent) in min..2^53-1. */
static enum proto_err integer_field(json_t *v, uint64_t min, uint64_t *out)
{
    if (!json_is_integer(v))
        return PROTO_E_BAD_FIELD;
    json_int_t i = json_integer_value(v);
    if (i < 0 || (uint64_t)i < min || (uint64_t)i > PROTO_SEQ_MAX)
        return PROTO_E_BAD_FIELD;
    *out = (uint64_t)i;
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
        if (!name_ok(s, n, lim->max_name_chars))
            return PROTO_E_BAD_NAME;
        cmd->u.hello.name = s;
        cmd->u.hello.name_len = n;
        return PROTO_OK;
    case F_INVITE:
        return base64url_field(s, n, PROTO_INVITE_LEN, cmd->u.hello.invite);
    case F_LEADER_TOKEN:
        return base64url_field(s, n, PROTO_TOKEN_LEN, cmd->u.hello.token);
    case F_TOKEN:
        return base64url_field(s, n, PROTO_TOKEN_LEN, cmd->u.resume.token);
    case F_SESSION:
        return integer_field(v, 1, &cmd->u.hello.session);
    case F_EPOCH: {
        if (!s || n != 16)
            return PROTO_E_BAD_FIELD;
        uint64_t e = 0;
        for (size_t i = 0; i < 16; i++) {
            int h = hexval(s[i]);
            if (h < 0)
                return PROTO_E_BAD_FIELD;
            e = (e << 4) | (uint64_t)h;
        }
        cmd->u.resume.epoch = e;
        return PROTO_OK;
    }
    case F_SEQ:
        return integer_field(v, 0, &cmd->u.resume.after_seq);
    case F_TEXT: {
        if (!s)
            return PROTO_E_BAD_FIELD;
        enum proto_err e = check_text(s, n, lim);
        if (e)
            return e;
        cmd->u.say.text = s;
        cmd->u.say.text_len = n;
        return PROTO_OK;
    }
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
 * name. The fields are valid one by one; here they must form one of them. */
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
    return cmd->field ? PROTO_E_BAD_FIELD : PROTO_OK;
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
    return cmd->type == PROTO_HELLO ? check_hello(root, cmd) : PROTO_OK;
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

static void jw_u64(struct jw *w, uint64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, v);
    jw_raw(w, tmp, (size_t)n);
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

struct frame *proto_encode_ack(const char *ref, uint64_t seq, bool duplicate)
{
    struct jw *w = jw_begin("ack");
    jw_key(w, "ref");
    jw_cstr(w, ref);
    if (seq) {
        jw_key(w, "seq");
        jw_u64(w, seq);
    }
    if (duplicate) {
        jw_key(w, "duplicate");
        jw_lit(w, "true");
    }
    return jw_finish(w);
}

struct frame *proto_encode_error(enum proto_err e, const char *ref,
                                 const struct proto_error_detail *d)
{
    struct jw *w = jw_begin("error");
    jw_key(w, "code");
    jw_cstr(w, proto_strerror(e));
    jw_key(w, "ref");
    jw_cstr(w, ref);
    jw_key(w, "message");
    jw_cstr(w, proto_err_message(e));
    if (d && d->field) {
        jw_key(w, "field");
        jw_cstr(w, d->field);
    }
    if (d && d->reason) {
        jw_key(w, "reason");
        jw_cstr(w, d->reason);
    }
    if (d && d->retry_after_ms >= 0) {
        jw_key(w, "retry_after_ms");
        jw_u64(w, (uint64_t)d->retry_after_ms);
    }
    if (e == PROTO_E_NO_SESSION) {
        jw_key(w, "next_start");
        if (d && d->next_start >= 0)
            jw_u64(w, (uint64_t)d->next_start);
        else
            jw_lit(w, "null");
    }
    return jw_finish(w);
}

struct frame *proto_encode_state(uint64_t seq, enum proto_state st, uint64_t ts)
{
    struct jw *w = jw_begin("state");
    jw_key(w, "seq");
    jw_u64(w, seq);
    jw_key(w, "state");
    jw_cstr(w, proto_state_name(st));
    jw_key(w, "ts");
    jw_u64(w, ts);
    return jw_finish(w);
}

struct frame *proto_encode_message(uint64_t seq, uint32_t member, const char *name,
                                   const char *text, size_t text_len, uint64_t ts)
{
    struct jw *w = jw_begin("message");
    jw_key(w, "seq");
    jw_u64(w, seq);
    jw_key(w, "member");
    jw_u64(w, member);
    jw_key(w, "name");
    jw_cstr(w, name);
    jw_key(w, "text");
    jw_str(w, text, text_len);
    jw_key(w, "ts");
    jw_u64(w, ts);
    return jw_finish(w);
}

struct frame *proto_encode_presence(uint64_t seq, uint32_t member, const char *name,
                                    enum proto_role role, bool joined, uint64_t ts)
{
    struct jw *w = jw_begin("presence");
    jw_key(w, "seq");
    jw_u64(w, seq);
    jw_key(w, "member");
    jw_u64(w, member);
    jw_key(w, "name");
    jw_cstr(w, name);
    jw_key(w, "role");
    jw_cstr(w, proto_role_name(role));
    jw_key(w, "state");
    jw_cstr(w, joined ? "joined" : "left");
    jw_key(w, "ts");
    jw_u64(w, ts);
    return jw_finish(w);
}

struct frame *proto_encode_welcome(const struct proto_welcome *wl)
{
    char epoch[17];
    snprintf(epoch, sizeof(epoch), "%016" PRIx64, wl->epoch);

    struct jw *w = jw_begin("welcome");
    jw_key(w, "ref");
    jw_cstr(w, wl->ref);
    jw_key(w, "epoch");
    jw_cstr(w, epoch);
    jw_key(w, "token");
    jw_cstr(w, wl->token);
    jw_key(w, "member");
    jw_u64(w, wl->member);
    jw_key(w, "name");
    jw_cstr(w, wl->name);
    jw_key(w, "role");
    jw_cstr(w, proto_role_name(wl->role));
    jw_key(w, "room");
    jw_cstr(w, wl->room);
    jw_key(w, "seq");
    jw_u64(w, wl->seq);
    jw_key(w, "members");
    jw_lit(w, "[");
    for (size_t i = 0; i < wl->member_count; i++) {
        const struct proto_member *m = &wl->members[i];
        if (i)
            jw_lit(w, ",");
        jw_lit(w, "{\"member\":");
        jw_u64(w, m->member);
        jw_key(w, "name");
        jw_cstr(w, m->name);
        jw_key(w, "role");
        jw_cstr(w, proto_role_name(m->role));
        jw_lit(w, "}");
    }
    jw_lit(w, "]");
    jw_key(w, "topic");
    jw_cstr(w, wl->topic);
    jw_key(w, "state");
    jw_cstr(w, proto_state_name(wl->state));
    jw_key(w, "agreed");
    jw_raw(w, wl->agreed ? "true" : "false", wl->agreed ? 4 : 5);
    jw_key(w, "session");
    if (wl->session) {
        const struct proto_session_info *si = wl->session;
        jw_lit(w, "{\"id\":");
        jw_u64(w, si->id);
        jw_key(w, "group");
        jw_cstr(w, si->group);
        jw_key(w, "language");
        jw_cstr(w, si->language);
        jw_key(w, "description");
        jw_cstr(w, si->description);
        jw_key(w, "agreement");
        jw_cstr(w, si->agreement);
        jw_key(w, "starts_at");
        jw_u64(w, si->starts_at);
        jw_key(w, "ends_at");
        jw_u64(w, si->ends_at);
        jw_lit(w, "}");
    } else {
        jw_lit(w, "null");
    }
    jw_key(w, "resumed");
    jw_raw(w, wl->resumed ? "true" : "false", wl->resumed ? 4 : 5);
    jw_key(w, "gap");
    jw_raw(w, wl->gap ? "true" : "false", wl->gap ? 4 : 5);
    jw_key(w, "limits");
    jw_lit(w, "{\"max_text_chars\":");
    jw_u64(w, wl->limits->max_text_chars);
    jw_key(w, "max_message_bytes");
    jw_u64(w, wl->limits->max_message_bytes);
    jw_key(w, "rate_per_sec");
    jw_u64(w, wl->rate_per_sec);
    jw_key(w, "rate_burst");
    jw_u64(w, wl->rate_burst);
    jw_lit(w, "}");
    return jw_finish(w);
}
