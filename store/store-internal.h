/* Shared between the store's own source files; not an interface. */
#pragma once

#include <lmdb.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "codec.h"
#include "macro.h"
#include "store.h"
#include "vigil-error.h"

#define ID_LEN VIGIL_SESSION_ID_LEN
#define HASH_LEN 32
#define REC_KEY_LEN (ID_LEN + 8)
#define CHUNK_MAX_RAW (4u * 1024 * 1024) /* decoders refuse more per chunk */
#define CHUNK_MAX_FRAMES (1u << 20)
#define BLOOM_MAX_LOG 19 /* 2^19 bits = 64 KiB */
#define BLOOM_MIN_LOG 9

/* LMDB's page geometry, read once at open (pieces.c). */
typedef struct piece_geometry {
        size_t page_size; /* LMDB's page, the OS page when the environment was made */
        size_t room;      /* bytes for nodes in a leaf page */
        size_t node_max;  /* LMDB's largest leaf node; a bigger value goes on overflow pages */
} piece_geometry;

/* What a writer knows of a table's last leaf page, from its own appends. */
#define TAIL_UNKNOWN SIZE_MAX
typedef struct piece_tail {
        size_t free;    /* bytes left in it; TAIL_UNKNOWN: not known */
        MDB_stat after; /* the table as the last append left it */
} piece_tail;

struct vigil_store {
        MDB_env *env;
        MDB_dbi meta, sessions, records, events, evtime, users, search, unsealed;
        MDB_dbi approvals, approvals_pending; /* format 2 */
        uint32_t format; /* of the store as opened: VIGIL_STORE_FORMAT, or 1 read-only */
        char *dir, *key_path;
        int zstd_level;
        unsigned flags;
        void *key; /* EVP_PKEY *, loaded on first seal */
        piece_geometry geo;
        /* per table with values in pieces (records, search, events, sessions):
         * used inside write transactions only, which LMDB serializes */
        piece_tail tails[4];
};

/* ---- errors (env.c) ---- */

/* Map an mdb_* result to -errno / VIGIL_E_* and note "@what: <mdb text>" as the
 * calling thread's message (vigil_store_errmsg()). */
int store_mdb_error(vigil_store *st, int rc, const char *what);
void store_set_errmsg(vigil_store *st, const char *fmt, ...) _printf_(2, 3);
int store_txn_begin(vigil_store *st, bool write, MDB_txn **ret);

/* ---- values in pieces (pieces.c) ----
 *
 * Every read and write of the tables records, search, events and sessions
 * goes through these: a value over what LMDB keeps in a leaf page is stored
 * as pieces under continuation keys (the value's key and a piece number
 * byte), which these join again. Other tables pass through unchanged. */

#define PIECES_MAX 256u   /* pieces of one value: the first and 255 continuations */
#define PIECE_KEY_MAX 32u /* longest key of a table with pieces, plus the number byte */

/* At open: LMDB's page size; nothing known of any table's last page. */
void pieces_init(vigil_store *st, size_t page_size);

#define STORE_PUT_APPEND 1u /* the key is likely the table's last: try MDB_APPEND first */
#define STORE_PUT_NEW 2u    /* never over an existing value: -EEXIST (MDB_NOOVERWRITE) */

/* Write @val under @key (replacing an existing value and its pieces unless
 * STORE_PUT_NEW). Returns 0, -EEXIST, -EINVAL (a key of the wrong length
 * for a table with pieces), or an LMDB error (message set with @what). */
int store_put(vigil_store *st, MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, const void *val, size_t vlen,
              unsigned flags, const char *what);
/* Read the value of @key, its pieces joined into @buf when it has any.
 * *ret points into LMDB's map or into @buf: valid until the transaction
 * ends or writes, and until @buf's next use. Returns 0, -ENOENT,
 * VIGIL_E_CORRUPT (a piece missing or out of place; message set), -ENOMEM,
 * or an LMDB error. */
int store_get(vigil_store *st, MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, vbuf *buf, MDB_val *ret,
              const char *what);
/* Delete @key's value and its pieces. Returns 0, -ENOENT or an LMDB error. */
int store_del(vigil_store *st, MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, const char *what);

typedef struct piece_item {
        int rc; /* of the raw read: 0, MDB_NOTFOUND or an error */
        MDB_val k, v;
} piece_item;

/* A cursor that yields whole values: store_cursor_get() with MDB_FIRST,
 * MDB_SET_RANGE (from *key) or MDB_NEXT returns 0 with the key and the
 * joined value (valid until the next call), -ENOENT past the end,
 * VIGIL_E_CORRUPT (a piece missing, or a piece without its value; *key is
 * then the key of the value or of the piece, so that the caller sees whose
 * it is) or an error.
 * For reading only: a write to the table in between invalidates it. */
typedef struct store_cursor {
        vigil_store *st;
        MDB_cursor *c;
        size_t klen; /* the table's key length when it has pieces, else 0 */
        vbuf buf, key;
        bool have_ahead; /* the raw item after the last value was read already */
        piece_item ahead;
        /* Optional, set after store_cursor_open(): told a value's first
         * piece, false when the caller has no use for the value; its other
         * pieces are then stepped over (their numbers still checked), not
         * read, and *val is that first piece alone. */
        bool (*want)(void *userdata, const MDB_val *first);
        void *want_userdata;
} store_cursor;

int store_cursor_open(vigil_store *st, MDB_txn *txn, MDB_dbi dbi, store_cursor *ret);
int store_cursor_get(store_cursor *c, MDB_val *key, MDB_val *val, MDB_cursor_op op);
void store_cursor_close(store_cursor *c);

/* The parts that do not touch LMDB (and are fuzzed). */
void piece_geometry_init(piece_geometry *g, size_t page_size);
/* The largest value a leaf node with a key of @klen bytes holds (with a margin). */
size_t piece_leaf_max(const piece_geometry *g, size_t klen);
/* The bytes a node takes in a leaf page (its offset included). */
size_t piece_node_size(const piece_geometry *g, size_t klen, size_t dlen);
/* The size of piece number @n of a value, @remaining bytes of it still to
 * write under a key of @klen bytes; @tail_free: what is left of the table's
 * last leaf page when this is an append and that is known, else
 * TAIL_UNKNOWN. */
size_t piece_next_size(const piece_geometry *g, size_t remaining, size_t klen, size_t tail_free, unsigned n);
/* Whether @k is a continuation key of @base (@klen bytes); *ret_n its number. */
bool piece_key_is_continuation(const uint8_t *base, size_t klen, const MDB_val *k, unsigned *ret_n);
/* Join the value @first of key @base (@klen bytes, the table's key length)
 * with its pieces, read with @next (the raw items after it, in key order,
 * like MDB_NEXT: 0, MDB_NOTFOUND or an error). The first item that is not a
 * piece of it is left in *ahead. *ret is @first itself or @buf's content;
 * with @buf NULL the pieces are only stepped over and *ret is @first.
 * Returns 0; VIGIL_E_CORRUPT with @why (a piece of it missing or numbered
 * 0); -ENOMEM; -EIO when @next failed (ahead->rc). */
#define PIECE_WHY_MAX 80
typedef int (*piece_next_fn)(void *userdata, MDB_val *k, MDB_val *v);
int pieces_join(const uint8_t *base, size_t klen, const MDB_val *first, piece_next_fn next, void *userdata,
                vbuf *buf, MDB_val *ret, piece_item *ahead, char why[PIECE_WHY_MAX]);

/* ---- ids (id.c) ---- */
int store_session_id_new(uint64_t start_us, uint8_t ret[ID_LEN]);
uint64_t session_id_ms(const uint8_t id[ID_LEN]);

/* ---- writer identity (owner.c) ---- */
int owner_self(int32_t *ret_pid, uint64_t *ret_start, uint8_t ret_boot[16]);
/* Whether that process still runs (same boot, pid and start time). */
bool owner_alive(int32_t pid, uint64_t start, const uint8_t boot[16]);

/* ---- hashing (chain.c) ---- */
typedef struct chain_hasher chain_hasher;
chain_hasher *chain_hasher_new(const uint8_t prev[HASH_LEN], const uint8_t id[ID_LEN], uint64_t seq);
void chain_hasher_add(chain_hasher *h, const void *p, size_t n);
/* Finish into @out and free. Returns 0 or -ENOMEM/-EIO. */
int chain_hasher_finish(chain_hasher *h, uint8_t out[HASH_LEN]);
void chain_hasher_free(chain_hasher *h);
int sha256_buf(const void *p, size_t n, uint8_t out[32]);
/* Incremental SHA-256 for digest frames. */
void *sha256_new(void);
void sha256_add(void *c, const void *p, size_t n);
int sha256_finish(void *c, uint8_t out[32]); /* frees */
void sha256_free(void *c);

/* ---- seal (seal.c) ---- */
/* The message signed: "vigil-seal-1" | id | be64 covers | head | flags. */
int seal_sign(vigil_store *st, const uint8_t id[ID_LEN], uint64_t covers, const uint8_t head[HASH_LEN],
              bool truncated, uint8_t ret_pub[32], uint8_t ret_sig[64]);
/* 0 when the signature is good and made with the host key; VIGIL_E_CORRUPT with
 * @why set when not; other errors when the key cannot be read. */
int seal_check(vigil_store *st, const uint8_t id[ID_LEN], uint64_t covers, const uint8_t head[HASH_LEN],
               bool truncated, const uint8_t pub[32], const uint8_t sig[64], const char **why);

/* ---- summaries and events (summary.c) ---- */
void meta_encode(vbuf *b, const vigil_session_info *i);
int meta_decode(vdec *d, vigil_session_info *i); /* fills the meta part; 0, VIGIL_E_CORRUPT, -ENOMEM */
void summary_encode(vbuf *b, const vigil_session_info *i);
int summary_decode(const void *p, size_t n, const uint8_t id[ID_LEN], vigil_session_info *ret);
void event_encode(vbuf *b, const vigil_event *e);
int event_decode(const void *p, size_t n, vigil_event *ret); /* session/no come from the key */
int session_info_copy(const vigil_session_info *src, vigil_session_info *dst);

/* ---- records (record.c) ---- */

/* A decoded chunk's owned content. */
typedef struct chunk_content {
        vbuf frames_raw; /* the frame table, decoded */
        vbuf data;       /* the stream bytes kept */
        vigil_frame *frames;
        size_t n_frames, cap_frames;
} chunk_content;

/* Decoder state for a session's record stream (the output stream's compression
 * context runs across chunks within a unit). */
typedef struct record_decoder {
        void *dctx;    /* ZSTD_DCtx * of the output stream */
        void *dctx_in; /* ... of input chunks (each its own zstd frame) */
        bool in_frame;   /* the output stream is inside a compression unit */
        vigil_record rec;
        chunk_content chunk;
        vigil_session_info begin;
        vigil_event cmd;
        vigil_approval_outcome appr;
        vigil_mask_count *masks;
        size_t n_masks;
} record_decoder;

void record_decoder_init(record_decoder *dec);
void record_decoder_done(record_decoder *dec);
void record_decoder_reset_stream(record_decoder *dec);
/* Decode the stored value (after the hash) of record @seq. On success dec->rec is
 * valid until the next call; @canon (may be NULL) receives the canonical bytes the
 * chain hash covers. Returns 0, VIGIL_E_CORRUPT (with *why) or -ENOMEM. */
int record_decode(record_decoder *dec, uint64_t seq, const uint8_t *p, size_t n, vbuf *canon, const char **why);

/* Encoders (writer side). The encoded record is appended to @out; the canonical
 * form is fed to @h. */
void record_encode_simple(vbuf *out, vigil_record_type type, uint64_t t, const vbuf *body);

/* ---- text normalisation and search signatures (trigram.c) ---- */

/* Turns terminal output into lines as shown: escape sequences removed, CR and LF
 * end lines, backspace and other control bytes dropped. */
typedef struct line_norm {
        int state;
        vbuf line;
} line_norm;

typedef void (*line_fn)(void *userdata, const uint8_t *line, size_t len);
void line_norm_feed(line_norm *n, const uint8_t *p, size_t len, line_fn fn, void *userdata);
void line_norm_break(line_norm *n, line_fn fn, void *userdata); /* end the current line */
void line_norm_done(line_norm *n);
#define LINE_MAX_LEN 65536u /* longer lines are cut into pieces */

/* A unit's trigram signature: bits set at hash(trigram) mod 2^log. */
typedef struct bloom {
        uint8_t *bits;       /* 2^BLOOM_MAX_LOG bits while building */
        uint64_t raw;        /* bytes indexed */
        size_t set;          /* bits set */
        uint64_t next_check; /* raw at which the fill is looked at next */
        bool saturated;      /* random-looking data: the unit goes unindexed, nothing more is hashed */
        bool early;          /* bloom_expect_random(): a first, stricter check at 16 KiB */
} bloom;

int bloom_init(bloom *b);
void bloom_done(bloom *b);
void bloom_clear(bloom *b);
void bloom_add_line(bloom *b, const uint8_t *line, size_t len, bool command);
/* The data is likely random-looking (the unit before was): look at the fill
 * early, so that such data is hashed for 16 KiB rather than 64 KiB. */
void bloom_expect_random(bloom *b);
void bloom_line_cb(void *userdata, const uint8_t *line, size_t len); /* output lines */
/* Fold to the stored form into @out: u8 log (0 = "matches everything") and the
 * bits. @max_bytes: fold at least down to this size (0 = no limit); a result
 * more than 60% full is stored as "matches everything". */
void bloom_finish(const bloom *b, size_t max_bytes, vbuf *out);
/* A unit's signature may cost 1/128 of the output it covers (8 KiB per MiB,
 * 512 bytes at least): enough for ordinary text, while random data (base64,
 * binary kept in full) goes unindexed instead of paying 64 KiB. */
static inline size_t signature_budget(uint64_t raw)
{
        return raw / 128 > 512 ? (size_t)(raw / 128) : 512;
}
/* Whether a stored signature holds every trigram of @b (0), or not or is
 * malformed (-1); "unindexed" always does. */
int bloom_check_stored(const bloom *b, const uint8_t *sig, size_t len);
/* Whether a stored signature says "unindexed" (always acceptable). */
static inline bool bloom_stored_all(const uint8_t *sig, size_t len)
{
        return len == 1 && sig[0] == 0;
}
/* Probe a stored signature for a trigram hash set. */
bool bloom_stored_may_contain(const uint8_t *val, size_t len, const uint32_t *hashes, size_t n);
uint32_t trigram_hash(uint8_t a, uint8_t b, uint8_t c, bool command);
static inline uint32_t trigram_hash_inline(uint8_t a, uint8_t b, uint8_t c, bool command)
{
        uint32_t h = (uint32_t)a << 16 | (uint32_t)b << 8 | c;

        h ^= command ? 0x9e3779b9u : 0;
        /* murmur3 finaliser */
        h ^= h >> 16;
        h *= 0x85ebca6bu;
        h ^= h >> 13;
        h *= 0xc2b2ae35u;
        h ^= h >> 16;
        return h;
}

/* The search index entry for a unit: be64 first_seq | be64 last_seq | signature. */

/* ---- binary detection (binary.c) ---- */
/* Whether this write looks binary; @was_binary gives hysteresis. */
bool looks_binary(const uint8_t *p, size_t len, bool was_binary);

/* ---- time (time.c) ---- */
uint64_t session_rel(uint64_t start_us, uint64_t t_us);

/* ---- index keys ---- */
static inline void rec_key(uint8_t k[REC_KEY_LEN], const uint8_t id[ID_LEN], uint64_t seq)
{
        memcpy(k, id, ID_LEN);
        be64_put(k + ID_LEN, seq);
}
int user_key(vbuf *b, const char *user, uint64_t start_us, const uint8_t id[ID_LEN]);

/* ---- shared verification walk (verify.c) ---- */

/* Bodies shared by the writer and the orphan sealer (record.c). */
void end_body(vbuf *b, vigil_end_how how, bool truncated, int status, uint64_t out, uint64_t in, uint64_t ncmd);
void seal_body(vbuf *b, bool truncated, uint64_t covers, const uint8_t head[HASH_LEN], const uint8_t pub[32],
               const uint8_t sig[64]);
void masks_body(vbuf *b, const vigil_mask_count *m, size_t n);
/* An approval record's body (writer.c encodes, record.c decodes). */
void approval_body(vbuf *b, const vigil_approval_outcome *o);
void approval_outcome_clear(vigil_approval_outcome *o);
/* The outcomes a held command can have. */
static inline bool approval_outcome_decision(int d)
{
        return d == VIGIL_DEC_APPROVED || d == VIGIL_DEC_REJECTED || d == VIGIL_DEC_TIMEOUT ||
               d == VIGIL_DEC_WITHDRAWN;
}
/* The command line as the search index and search see it (writer.c). */
void command_line(vbuf *b, char *const *argv, size_t argc);
/* Key of a session's search unit and of its events. */
static inline void unit_key(uint8_t k[ID_LEN + 4], const uint8_t id[ID_LEN], uint32_t no)
{
        memcpy(k, id, ID_LEN);
        be32_put(k + ID_LEN, no);
}
