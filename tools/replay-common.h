/* Shared by replay, watch and export: how omitted output is shown. */
#pragma once

#include <stdio.h>

#include "store.h"

/* Write the text that stands for a digest or cut frame (for a terminal). */
void replay_marker(FILE *f, const vigil_frame *fr);
/* The same as a NUL-terminated string in @buf. */
void replay_marker_text(const vigil_frame *fr, char *buf, size_t size);
/* Parse --speed / --idle-limit style positive numbers. */
int parse_positive(const char *s, double *ret);
