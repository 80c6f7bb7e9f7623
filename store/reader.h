/* The record reader's state, shared by reader.c, verify.c and search.c. */
#pragma once

#include "store-internal.h"

struct vigil_record_reader {
        vigil_store *st;
        uint8_t id[ID_LEN];
        uint64_t next_seq;
        uint8_t head[HASH_LEN];      /* hash of the last record returned */
        uint8_t prev_head[HASH_LEN]; /* ... and of the one before it */
        bool check_chain;
        MDB_txn *snapshot; /* borrowed; NULL = follow the store */
        MDB_txn *txn;      /* own, reset between calls */
        record_decoder dec;
        vbuf canon;
        vbuf joined; /* a record stored in pieces */
        int failed;
        char problem[256];
};

/* @snapshot: read inside this transaction (not owned) instead of following. */
int record_reader_open(vigil_store *st, const uint8_t id[ID_LEN], MDB_txn *snapshot, bool check_chain,
                       vigil_record_reader **ret);
/* Continue at @seq without chain checks (the search's unit starts). */
void record_reader_seek(vigil_record_reader *r, uint64_t seq);
