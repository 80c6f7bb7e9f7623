/* Value checks for the vigild protocol's kinds (proto.h, VK_*). Pure
 * functions over byte ranges; no allocation. Internal to vigild/. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

/**
 * vkind_valid() - does @s[0..len) have kind @k?
 * Length bounds are the caller's (they differ per tag); fixed-size kinds
 * (VK_U32, VK_I64, VK_BOOL) check their exact size here.
 * @param[out] ret_why  on false, a static phrase saying what is wrong; may be NULL.
 */
bool vkind_valid(vkind k, const uint8_t *s, size_t len, const char **ret_why);

/** Little-endian loads; the caller has checked the length. */
uint32_t vle32(const uint8_t *p);
uint64_t vle64(const uint8_t *p);
uint16_t vle16(const uint8_t *p);
