/* Reading /etc/pam.d the way libpam does (pam_handlers.c): one logical line
 * per module (backslash joins lines), '#' starts a comment, "-type" lines
 * are dropped when their module is missing, `include` and Debian's
 * `@include` put another file's lines in place, `substack` puts them one
 * level down. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pam-stack.h"
#include "vigil-error.h"

static const char *const code_names[PAM_STACK_N_CODES] = {
        "success", "open_err", "symbol_err", "service_err", "system_err", "buf_err", "perm_denied",
        "auth_err", "cred_insufficient", "authinfo_unavail", "user_unknown", "maxtries",
        "new_authtok_reqd", "acct_expired", "session_err", "cred_unavail", "cred_expired", "cred_err",
        "no_module_data", "conv_err", "authtok_err", "authtok_recover_err", "authtok_lock_busy",
        "authtok_disable_aging", "try_again", "ignore", "abort", "authtok_expired", "module_unknown",
        "bad_item", "conv_again", "incomplete",
};

const char *pam_code_name(int code)
{
        return code >= 0 && code < PAM_STACK_N_CODES ? code_names[code] : "?";
}

const char *pam_entry_basename(const pam_entry *e)
{
        const char *s = strrchr(e->module, '/');

        return s ? s + 1 : e->module;
}

static void entry_free(pam_entry *e)
{
        free(e->module);
        free(e->args);
        free(e->control);
        free(e->file);
}

void pam_stack_done(pam_stack *s)
{
        for (size_t i = 0; i < s->n; i++)
                entry_free(&s->v[i]);
        free(s->v);
        free(s->problem);
        *s = (pam_stack){ 0 };
}

static void set_all(int *actions, int a)
{
        for (int i = 0; i < PAM_STACK_N_CODES; i++)
                actions[i] = a;
}

/* The four keywords, as libpam expands them. */
static bool keyword_actions(const char *w, int *actions)
{
        if (strcasecmp(w, "required") == 0 || strcasecmp(w, "requisite") == 0) {
                set_all(actions, strcasecmp(w, "required") == 0 ? PAM_ACT_BAD : PAM_ACT_DIE);
                actions[PAM_STACK_SUCCESS] = PAM_ACT_OK;
                actions[12 /* new_authtok_reqd */] = PAM_ACT_OK;
                actions[PAM_STACK_IGNORE] = PAM_ACT_IGNORE;
                return true;
        }
        if (strcasecmp(w, "optional") == 0) {
                set_all(actions, PAM_ACT_IGNORE);
                actions[PAM_STACK_SUCCESS] = PAM_ACT_OK;
                actions[12] = PAM_ACT_OK;
                return true;
        }
        if (strcasecmp(w, "sufficient") == 0) {
                set_all(actions, PAM_ACT_IGNORE);
                actions[PAM_STACK_SUCCESS] = PAM_ACT_DONE;
                actions[12] = PAM_ACT_DONE;
                return true;
        }
        return false;
}

static int action_parse(const char *s, size_t len)
{
        static const struct {
                const char *name;
                int act;
        } names[] = {
                { "ignore", PAM_ACT_IGNORE }, { "ok", PAM_ACT_OK },   { "done", PAM_ACT_DONE },
                { "bad", PAM_ACT_BAD },       { "die", PAM_ACT_DIE }, { "reset", PAM_ACT_RESET },
        };
        int n = 0;

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (strlen(names[i].name) == len && strncasecmp(s, names[i].name, len) == 0)
                        return names[i].act;
        if (len == 0 || len > 4)
                return 0;
        for (size_t i = 0; i < len; i++) {
                if (!isdigit((unsigned char)s[i]))
                        return 0;
                n = n * 10 + (s[i] - '0');
        }
        return n; /* 0 is not a valid jump: an error */
}

/* "[value=action ...]" (without the brackets). Values not named get
 * default=, and with no default they are "bad" (libpam's _PAM_ACTION_UNDEF
 * lands in the failing branch of the dispatcher). Returns false on a syntax error. */
static bool bracket_actions(const char *s, int *actions)
{
        int given[PAM_STACK_N_CODES];
        int def = PAM_ACT_BAD;

        for (int i = 0; i < PAM_STACK_N_CODES; i++)
                given[i] = 0;
        while (*s) {
                const char *eq, *end;
                int act, code = -1;

                s += strspn(s, " \t");
                if (!*s)
                        break;
                end = s + strcspn(s, " \t");
                eq = memchr(s, '=', (size_t)(end - s));
                if (!eq)
                        return false;
                act = action_parse(eq + 1, (size_t)(end - eq - 1));
                if (act == 0)
                        return false;
                if ((size_t)(eq - s) == 7 && strncasecmp(s, "default", 7) == 0)
                        def = act;
                else {
                        for (int i = 0; i < PAM_STACK_N_CODES; i++)
                                if (strlen(code_names[i]) == (size_t)(eq - s) &&
                                    strncasecmp(s, code_names[i], (size_t)(eq - s)) == 0)
                                        code = i;
                        if (code < 0)
                                return false;
                        given[code] = act;
                }
                s = end;
        }
        for (int i = 0; i < PAM_STACK_N_CODES; i++)
                actions[i] = given[i] ? given[i] : def;
        return true;
}

typedef struct loader {
        const doctor_ctx *c;
        const char *type;
        pam_stack *st;
} loader;

static int add_entry(loader *l, pam_entry *e)
{
        if (l->st->n >= PAM_STACK_MAX_ENTRIES) {
                entry_free(e);
                return VIGIL_E_TOO_BIG;
        }
        if ((l->st->n & 15) == 0) {
                pam_entry *n = reallocarray(l->st->v, l->st->n + 16, sizeof *n);

                if (!n) {
                        entry_free(e);
                        return -ENOMEM;
                }
                l->st->v = n;
        }
        l->st->v[l->st->n++] = *e;
        return 0;
}

static void note_problem(loader *l, const char *fmt, const char *a, unsigned line, const char *b)
{
        if (!l->st->problem)
                l->st->problem = doctor_fmt(fmt, a, line, b);
}

/* A line libpam cannot use becomes one that always fails. */
static int add_broken(loader *l, const char *file, unsigned line, const char *what)
{
        pam_entry e = { .kind = PAM_ENTRY_BROKEN, .line = line };

        set_all(e.actions, PAM_ACT_BAD);
        e.module = strdup(what);
        e.args = strdup("");
        e.control = strdup("");
        e.file = strdup(file);
        if (!e.module || !e.args || !e.control || !e.file) {
                entry_free(&e);
                return -ENOMEM;
        }
        return add_entry(l, &e);
}

static int load_file(loader *l, const char *path, unsigned level, unsigned depth);

static char *service_path(const char *name)
{
        return name[0] == '/' ? strdup(name) : doctor_fmt("/etc/pam.d/%s", name);
}

/* Split off the next blank-separated word; NULL at the end. */
static char *next_word(char **s)
{
        char *w;

        *s += strspn(*s, " \t");
        if (!**s)
                return NULL;
        w = *s;
        *s += strcspn(*s, " \t");
        if (**s)
                *(*s)++ = '\0';
        return w;
}

static int load_line(loader *l, const char *path, unsigned lineno, char *s, unsigned level, unsigned depth)
{
        _cleanup_free_ char *inc = NULL;
        pam_entry e = { .kind = PAM_ENTRY_MODULE, .level = level, .line = lineno };
        char *type, *control, *module;
        bool ok;

        type = next_word(&s);
        if (!type)
                return 0;
        if (strcasecmp(type, "@include") == 0) {
                module = next_word(&s);
                if (!module)
                        return 0;
                inc = service_path(module);
                return inc ? load_file(l, inc, level, depth + 1) : -ENOMEM;
        }
        if (type[0] == '-') {
                e.dash = true;
                type++;
        }
        if (strcasecmp(type, l->type) != 0)
                return 0;

        s += strspn(s, " \t");
        if (*s == '[') {
                char *end = strchr(s, ']');

                if (!end) {
                        note_problem(l, "%s:%u: unterminated '[' in the control%s", path, lineno, "");
                        return add_broken(l, path, lineno, "(bad control)");
                }
                *end = '\0';
                control = s + 1;
                s = end + 1;
                ok = bracket_actions(control, e.actions);
                e.control = doctor_fmt("[%s]", control);
        } else {
                control = next_word(&s);
                if (!control)
                        return 0;
                e.control = strdup(control);
                if (strcasecmp(control, "include") == 0 || strcasecmp(control, "substack") == 0) {
                        int r;

                        free(e.control);
                        module = next_word(&s);
                        if (!module)
                                return add_broken(l, path, lineno, "(include without a file)");
                        inc = service_path(module);
                        if (!inc)
                                return -ENOMEM;
                        if (strcasecmp(control, "include") == 0)
                                return load_file(l, inc, level, depth + 1);
                        /* The substack's marker, then its lines one level down. */
                        e.kind = PAM_ENTRY_SUBSTACK;
                        e.module = strdup(module);
                        e.args = strdup("");
                        e.control = strdup("substack");
                        e.file = strdup(path);
                        set_all(e.actions, PAM_ACT_IGNORE);
                        if (!e.module || !e.args || !e.control || !e.file) {
                                entry_free(&e);
                                return -ENOMEM;
                        }
                        r = add_entry(l, &e);
                        return r < 0 ? r : load_file(l, inc, level + 1, depth + 1);
                }
                ok = keyword_actions(control, e.actions);
        }
        module = next_word(&s);
        if (!e.control || !module) {
                free(e.control);
                if (!module)
                        return 0;
                return -ENOMEM;
        }
        if (!ok) {
                note_problem(l, "%s:%u: control '%s' is not valid", path, lineno, e.control);
                e.kind = PAM_ENTRY_BROKEN;
                set_all(e.actions, PAM_ACT_BAD);
        }
        s += strspn(s, " \t");
        e.module = strdup(module);
        e.args = strdup(s);
        e.file = strdup(path);
        if (!e.module || !e.args || !e.file) {
                entry_free(&e);
                return -ENOMEM;
        }
        return add_entry(l, &e);
}

static int load_file(loader *l, const char *path, unsigned level, unsigned depth)
{
        _cleanup_free_ char *text = NULL;
        unsigned lineno = 0;
        char *p;
        int r;

        if (depth > DOCTOR_PAM_MAX_DEPTH) {
                note_problem(l, "%s:%u: includes nest deeper than %s (a loop?)", path, 0, "8");
                return add_broken(l, path, 0, "(include loop)");
        }
        r = doctor_read(l->c, path, &text);
        if (r < 0) {
                note_problem(l, "%s:%u: cannot be read: %s", path, 0, strerror(-r));
                return r == -ENOMEM ? r : add_broken(l, path, 0, "(missing include)");
        }
        p = text;
        while (*p) {
                char *line = p, *nl, *w, *hash;
                unsigned first = ++lineno;

                /* A logical line: physical lines joined where they end in a backslash. */
                for (;;) {
                        nl = strchr(p, '\n');
                        if (!nl) {
                                p += strlen(p);
                                break;
                        }
                        if (nl > line && nl[-1] == '\\') {
                                nl[-1] = ' ';
                                *nl = ' ';
                                p = nl + 1;
                                lineno++;
                                continue;
                        }
                        *nl = '\0';
                        p = nl + 1;
                        break;
                }
                hash = strchr(line, '#');
                if (hash)
                        *hash = '\0';
                for (w = line; *w; w++)
                        if (*w == '\r')
                                *w = ' ';
                r = load_line(l, path, first, line, level, depth);
                if (r < 0)
                        return r;
        }
        return 0;
}

int pam_stack_load(const doctor_ctx *c, const char *service, const char *type, pam_stack *ret)
{
        _cleanup_free_ char *path = doctor_fmt("/etc/pam.d/%s", service);
        pam_stack st = { 0 };
        loader l = { .c = c, .type = type, .st = &st };
        int r;

        if (!path)
                return -ENOMEM;
        if (!doctor_exists(c, path)) {
                free(path);
                path = strdup("/etc/pam.d/other");
                if (!path)
                        return -ENOMEM;
                if (!doctor_exists(c, path))
                        return -ENOENT;
        }
        r = load_file(&l, path, 0, 0);
        if (r < 0) {
                pam_stack_done(&st);
                return r;
        }
        *ret = st;
        return 0;
}
