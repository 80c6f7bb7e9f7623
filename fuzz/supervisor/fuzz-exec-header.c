/* What users control about an exec, as the supervisor parses it: the first
 * bytes of a file (the "#!" line, exactly as the kernel reads it) and an
 * argv (the dynamic loader's options, the command line shown on the
 * terminal, the event's JSON). The input is the file header; split at NUL
 * bytes it is also the argv. Checks that nothing crashes and that the
 * invariants hold: an interpreter name has no blank (it may be empty, as
 * the kernel takes "#!" followed by a NUL: the exec then fails), the terminal text has
 * no control byte, the JSON parses back with the same argv length. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "display.h"
#include "event.h"
#include "resolve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *interp = NULL, *arg = NULL, *text = NULL, *shown = NULL, *copy;
        cmd_event e = { .runas = (char *)"u", .cwd = (char *)"/", .decision = CMD_ALLOW };
        const char *argv0 = NULL;
        size_t idx = 0, len = 0;
        strv sv = { 0 };
        json_t *j;

        if (shebang_parse((const char *)data, size < EXEC_HEADER_SIZE ? size : EXEC_HEADER_SIZE, &interp, &arg) == 1) {
                if (strpbrk(interp, " \t"))
                        abort();
                free(interp);
                free(arg);
        }
        if (size > 65536)
                return 0;
        copy = malloc(size + 1);
        if (!copy)
                return 0;
        memcpy(copy, data, size);
        copy[size] = '\0';
        for (size_t off = 0; off <= size;) {
                size_t l = strlen(copy + off);

                if (strv_push(&sv, copy + off) < 0)
                        break;
                off += l + 1;
        }
        if (ldso_find_prog(&sv, &idx, &argv0) == 1 && (idx == 0 || idx >= sv.n))
                abort();
        if (display_cmdline((const char *const *)sv.v, sv.n, &shown) == 0) {
                if (strlen(shown) > DISPLAY_MAX)
                        abort();
                for (const unsigned char *p = (const unsigned char *)shown; *p; p++)
                        if (*p < 0x20 || *p == 0x7f)
                                abort();
                free(shown);
        }
        e.argv = sv;
        e.exe = copy;
        if (event_format_json(&e, "s", copy, &text, &len) == 0) {
                j = json_loadb(text, len, 0, NULL);
                if (!j || json_array_size(json_object_get(j, "argv")) != sv.n)
                        abort();
                json_decref(j);
                free(text);
        }
        strv_clear(&sv);
        free(copy);
        return 0;
}
