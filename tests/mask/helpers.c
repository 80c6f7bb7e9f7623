#include <stdlib.h>
#include <string.h>

#include "helpers.h"

vigil_mask_set *all_detectors(void)
{
        vigil_mask_rule rules[VIGIL_MASK_MAX_RULES];
        vigil_mask_set *set = NULL;
        size_t n = 0;

        for (size_t i = 0; vigil_mask_detectors[i]; i++)
                rules[n++] =
                        (vigil_mask_rule){.detector = vigil_mask_detectors[i], .file = "test", .line = 1};
        assert_int_equal(vigil_mask_set_new(rules, n, &set, NULL), 0);
        return set;
}

vigil_mask_set *one_regex(const char *regex, const char *replace)
{
        vigil_mask_rule r = {.regex = regex, .replace = replace, .file = "test", .line = 1};
        vigil_mask_set *set = NULL;
        char *err = NULL;
        int k = vigil_mask_set_new(&r, 1, &set, &err);

        if (k < 0)
                fail_msg("vigil_mask_set_new: %s", err ? err : "?");
        return set;
}

char *mask_text(const vigil_mask_set *set, const char *in, size_t len, size_t chunk,
                vigil_mask_stream **ret_stream)
{
        vigil_mask_stream *s = NULL;
        vigil_mask_buf rec = {0}, term = {0};
        char *out;

        assert_int_equal(vigil_mask_stream_new(set, 0, &s), 0);
        for (size_t off = 0; off < len;) {
                size_t n = chunk && chunk < len - off ? chunk : len - off;

                assert_int_equal(vigil_mask_stream_feed(s, in + off, n, &rec, &term), 0);
                assert_true(vigil_mask_stream_held(s) <= VIGIL_MASK_MAX_HOLD);
                off += n;
        }
        assert_int_equal(vigil_mask_stream_flush(s, &rec, &term), 0);
        assert_int_equal(vigil_mask_stream_held(s), 0);
        /* no echo was announced: the terminal gets what the recording gets */
        assert_int_equal(term.len, rec.len);
        if (rec.len)
                assert_memory_equal(term.data, rec.data, rec.len);
        vigil_mask_buf_done(&term);
        out = malloc(rec.len + 1);
        assert_non_null(out);
        if (rec.len)
                memcpy(out, rec.data, rec.len);
        out[rec.len] = 0;
        vigil_mask_buf_done(&rec);
        if (ret_stream)
                *ret_stream = s;
        else
                vigil_mask_stream_free(s);
        return out;
}

char *mask_str(const vigil_mask_set *set, const char *in)
{
        return mask_text(set, in, strlen(in), 0, NULL);
}
