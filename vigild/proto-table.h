/* The table behind vmsg_decode(): every tag's kind and bounds, every message
 * type's allowed fields and fd bounds. Internal to vigild/ (the decoder and
 * the daemon's request table read it). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

typedef struct vtag_def {
        const char *name;
        vkind kind;
        uint32_t min_len, max_len;
} vtag_def;

typedef struct vrule {
        uint16_t tag;
        uint16_t min_count; /* 1 = required */
        uint16_t max_count; /* 1 = at most once */
} vrule;

typedef struct vrules {
        const vrule *rules;
        size_t n;
} vrules;

typedef struct vtype_def {
        uint16_t type;
        const char *name;
        vrules req, reply, item;
        uint8_t req_min_fds, req_max_fds;
        uint8_t reply_max_fds;
        /* cross-field rules of a request; 0 or VIGIL_E_PARSE with err filled */
        int (*check_req)(const vmsg *m, size_t n_fds, char *err);
        int (*check_item)(const vmsg *m, char *err);
} vtype_def;

/** The tag's definition, or NULL for an unknown tag. */
const vtag_def *vtag_def_get(uint16_t tag);
/** The type's definition (request number, without reply/item bits), or NULL. */
const vtype_def *vtype_def_get(uint16_t type);
