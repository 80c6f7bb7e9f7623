/* The built-in detectors: what each matches (docs/masking.md has the
 * prose), how the window scan finds where to look, and the post-match
 * checks. Patterns are matched on bytes (no UTF mode) against the text with
 * terminal escape sequences removed.
 *
 * Every pattern is bounded (no unbounded repeat), so that a partial match,
 * and with it what a stream holds back, stays below VIGIL_MASK_MAX_HOLD. */
#include <string.h>

#include "mask-internal.h"

#define PEM_BODY "16384" /* VIGIL_MASK_MAX_PEM */

const detector mask_detectors[] = {
        {
                .name = "credit-card",
                /* 13-19 digits, single spaces or dashes between any two. */
                .pattern = "(?<![0-9])[0-9](?:[ -]?[0-9]){12,18}(?![0-9])",
                .trig = TRIG_DIGITS,
                .min = 13,
                .maxlen = 40,
                .tail = 40,
                .validate = mask_validate_luhn,
        },
        {
                .name = "aws-access-key",
                .pattern = "(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])",
                .trig = TRIG_UPPER,
                .min = 20,
                .maxlen = 24,
                .tail = 24,
        },
        {
                .name = "aws-secret-key",
                /* Lead: the assignment (shell, ini, JSON, YAML); body: the 40-character key. */
                .pattern = "(?i)(?:aws_?)?secret_?(?:access_?)?key[\"']?[ \\t]{0,8}[:=][ \\t]{0,8}[\"']?",
                .body = "[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])",
                .trig = TRIG_ASSIGN,
                .back = 32,
                .maxlen = 48,
        },
        {
                .name = "private-key",
                /* BEGIN line, optional RFC 1421 / PGP headers, base64 lines, END line.
                 * Without an END line (a truncated key) the block ends at the last
                 * line that looks like key material. Lines may also be separated by
                 * a JSON-escaped "\n" (a cloud service-account key file). */
                .pattern = "-----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?-----"
                           "(?:\\r?\\n[A-Za-z0-9-]{1,32}: ?[^\\r\\n]{0,256}){0,8}"
                           "[A-Za-z0-9+/=\\r\\n \\t\\\\]{0," PEM_BODY "}(?<=[\\r\\n]|\\\\n)"
                           "(?:-----END (?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?-----)?",
                .trig = TRIG_LITERAL,
                .lit = "-----BEGIN ",
                .maxlen = 16384 + 8 * 300 + 200,
                .tail = 11,
        },
        {
                .name = "jwt",
                /* header.payload.signature, base64url; header and payload are JSON objects. */
                .pattern = "(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,2048}\\.ey[A-Za-z0-9_-]{3,8192}\\."
                           "[A-Za-z0-9_-]{0,2048}(?![A-Za-z0-9_-])",
                .trig = TRIG_LITERAL,
                .lit = "eyJ",
                .maxlen = 12400,
                .tail = 3,
        },
        {
                .name = "github-token",
                .pattern =
                        "(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,244})"
                        "(?![A-Za-z0-9_])",
                .trig = TRIG_BYTE,
                .byte = '_',
                .back = 10,
                .back_lo = 3,
                .maxlen = 260,
                .tail = 11,
        },
        {
                .name = "slack-token",
                .pattern = "(?<![A-Za-z0-9-])xox[abpr]-[A-Za-z0-9-]{10,250}(?![A-Za-z0-9-])",
                .trig = TRIG_LITERAL,
                .lit = "xox",
                .maxlen = 260,
                .tail = 5,
        },
        {
                .name = "ssn-us",
                /* AAA-GG-SSSS without the never-issued area/group/serial numbers. */
                .pattern = "(?<![0-9]|[0-9]-)(?!000|666|9[0-9][0-9])[0-9]{3}-(?!00)[0-9]{2}-(?!0000)[0-9]{4}"
                           "(?![0-9]|-[0-9])",
                .trig = TRIG_DIGITS,
                .min = 9,
                .maxlen = 14,
                .tail = 14,
        },
        {
                .name = "email",
                .pattern = "(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@"
                           "(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.){1,8}[A-Za-z]{2,24}"
                           "(?![A-Za-z0-9-])",
                .trig = TRIG_BYTE,
                .byte = '@',
                .back = 64,
                .back_lo = 1,
                .maxlen = 64 + 1 + 8 * 64 + 25 + 8,
                .tail = 66,
        },
        {
                .name = "iban",
                /* Country code, check digits, 11-30 alphanumerics with optional single spaces. */
                .pattern = "(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])",
                .trig = TRIG_UPPER,
                .min = 15,
                .maxlen = 70,
                .tail = 70,
                .validate = mask_validate_iban,
        },
        {
                .name = "password-assignment",
                /* Lead: key = or : (quoted or not); body: the value up to its quote, or up
                 * to whitespace and ; , & ` when unquoted. The lead stays visible. */
                .pattern = "(?i)(?:password|passwd|secret|token)(?:[_-]?key)?[\"']?[ \\t]{0,8}[:=][ "
                           "\\t]{0,8}[\"']?",
                .body = "(?:(?<=\")[^\"\\r\\n]{1,256}|(?<=')[^'\\r\\n]{1,256}"
                        "|(?<![\"'])(?![:=])[^\\x00-\\x20\\x7f\"'`;,&]{1,256})",
                .trig = TRIG_ASSIGN,
                .back = 24,
                .maxlen = 48,
        },
};

const size_t mask_n_detectors = sizeof(mask_detectors) / sizeof(mask_detectors[0]);

const detector *mask_detector_find(const char *name)
{
        for (size_t i = 0; i < mask_n_detectors; i++)
                if (strcmp(mask_detectors[i].name, name) == 0)
                        return &mask_detectors[i];
        return NULL;
}
