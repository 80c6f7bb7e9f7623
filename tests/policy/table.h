/* A reader for the tab-separated case tables in tests/policy/: one case a
 * line, fields separated by one or more tabs, '#' lines and blank lines
 * skipped. Test-only helper. */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TABLE_MAX_FIELDS 32

typedef struct table_row {
        unsigned line;
        size_t n;
        char *f[TABLE_MAX_FIELDS];
} table_row;

/* Reads the next row; returns 1, 0 at the end. Field pointers point into
 * *buf, which the caller frees at the end. */
static inline int table_next(FILE *f, char **buf, size_t *cap, unsigned *lineno, table_row *row)
{
        ssize_t n;

        while ((n = getline(buf, cap, f)) >= 0) {
                char *s = *buf, *save = NULL, *tok;

                (*lineno)++;
                if (n > 0 && s[n - 1] == '\n')
                        s[--n] = '\0';
                if (s[0] == '#' || s[0] == '\0')
                        continue;
                row->line = *lineno;
                row->n = 0;
                for (tok = strtok_r(s, "\t", &save); tok && row->n < TABLE_MAX_FIELDS;
                     tok = strtok_r(NULL, "\t", &save))
                        row->f[row->n++] = tok;
                return 1;
        }
        return 0;
}
