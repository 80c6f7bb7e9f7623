/* Replay and watch items on the wire (view.h, docs/vigild.md): output as
 * `data` + `time`, everything else as one small JSON object in `item`:
 *
 *   {"session":"<id>","start_us":N,"commands":N}
 *   {"command":N,"decision":"allow","exec_off":N}
 *   {"omitted":"digest","time":MS,"len":N,"sha256":"<hex>"}   {"omitted":"cut","time":MS}
 *   {"skip":N}
 *   {"end":"exit"|"killed"|"lost","exit_status":N}
 *
 * The decoder accepts exactly these shapes. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "vigil-error.h"
#include "view.h"

static bool fits(uint64_t v)
{
        return v <= (uint64_t)INT64_MAX;
}

int view_item_encode(const view_item *it, vmsg_builder *b)
{
        char json[256], id[VIGIL_SESSION_ID_STRLEN + 1], hex[65];
        const char *w;

        switch (it->kind) {
        case VIEW_OUTPUT:
                if (it->len == 0 || it->len > VIEW_DATA_MAX)
                        return -ERANGE;
                (void)vmsg_add(b, VF_DATA, it->data, it->len);
                return vmsg_add_i64(b, VF_TIME, it->time_ms);
        case VIEW_HEADER:
                if (!fits(it->start_us) || !fits(it->n_commands))
                        return -ERANGE;
                vigil_session_id_format(it->id, id);
                snprintf(json, sizeof json, "{\"session\":\"%s\",\"start_us\":%llu,\"commands\":%llu}", id,
                         (unsigned long long)it->start_us, (unsigned long long)it->n_commands);
                break;
        case VIEW_COMMAND:
                w = vigil_decision_name((vigil_decision_kind)it->decision);
                if (!w || !fits(it->exec_off))
                        return -ERANGE;
                snprintf(json, sizeof json, "{\"command\":%u,\"decision\":\"%s\",\"exec_off\":%llu}", it->no, w,
                         (unsigned long long)it->exec_off);
                break;
        case VIEW_OMITTED:
                if (it->omit == VIGIL_FRAME_CUT) {
                        snprintf(json, sizeof json, "{\"omitted\":\"cut\",\"time\":%lld}", (long long)it->time_ms);
                        break;
                }
                if (it->omit != VIGIL_FRAME_DIGEST || !fits(it->len))
                        return -ERANGE;
                for (int i = 0; i < 32; i++)
                        snprintf(hex + 2 * i, 3, "%02x", it->sha256[i]);
                snprintf(json, sizeof json, "{\"omitted\":\"digest\",\"time\":%lld,\"len\":%llu,\"sha256\":\"%s\"}",
                         (long long)it->time_ms, (unsigned long long)it->len, hex);
                break;
        case VIEW_SKIP:
                if (!fits(it->len))
                        return -ERANGE;
                snprintf(json, sizeof json, "{\"skip\":%llu}", (unsigned long long)it->len);
                break;
        case VIEW_END:
                w = vigil_end_how_name(it->how);
                if (!w)
                        return -ERANGE;
                snprintf(json, sizeof json, "{\"end\":\"%s\",\"exit_status\":%d}", w, it->exit_status);
                break;
        default:
                return -EINVAL;
        }
        return vmsg_add_str(b, VF_ITEM, json);
}

/* ---- decoding ---- */

static bool get_u64(json_t *o, const char *key, uint64_t *ret)
{
        json_t *v = json_object_get(o, key);

        if (!json_is_integer(v) || json_integer_value(v) < 0)
                return false;
        *ret = (uint64_t)json_integer_value(v);
        return true;
}

static bool get_i64(json_t *o, const char *key, int64_t *ret)
{
        json_t *v = json_object_get(o, key);

        if (!json_is_integer(v))
                return false;
        *ret = json_integer_value(v);
        return true;
}

static const char *get_str(json_t *o, const char *key)
{
        json_t *v = json_object_get(o, key);

        return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool hex32(const char *s, uint8_t out[32])
{
        if (!s || strlen(s) != 64)
                return false;
        for (int i = 0; i < 32; i++) {
                unsigned v;

                if (sscanf(s + 2 * i, "%2x", &v) != 1 || !strchr("0123456789abcdef", s[2 * i]) ||
                    !strchr("0123456789abcdef", s[2 * i + 1]))
                        return false;
                out[i] = (uint8_t)v;
        }
        return true;
}

static bool decode_json(json_t *o, view_item *it)
{
        size_t n = json_object_size(o);
        const char *s;
        uint64_t u;

        if (json_object_get(o, "session")) {
                it->kind = VIEW_HEADER;
                return n == 3 && vigil_session_id_parse(get_str(o, "session"), it->id) == 0 &&
                       get_u64(o, "start_us", &it->start_us) && get_u64(o, "commands", &it->n_commands);
        }
        if (json_object_get(o, "command")) {
                int d;

                it->kind = VIEW_COMMAND;
                if (n != 3 || !get_u64(o, "command", &u) || u > UINT32_MAX || !get_u64(o, "exec_off", &it->exec_off))
                        return false;
                it->no = (uint32_t)u;
                d = (s = get_str(o, "decision")) ? vigil_decision_from_name(s) : -EINVAL;
                it->decision = d;
                return d >= 0;
        }
        if ((s = get_str(o, "omitted"))) {
                it->kind = VIEW_OMITTED;
                if (!get_i64(o, "time", &it->time_ms))
                        return false;
                if (strcmp(s, "cut") == 0) {
                        it->omit = VIGIL_FRAME_CUT;
                        it->len = 0;
                        return n == 2;
                }
                it->omit = VIGIL_FRAME_DIGEST;
                return strcmp(s, "digest") == 0 && n == 4 && get_u64(o, "len", &it->len) && it->len > 0 &&
                       hex32(get_str(o, "sha256"), it->sha256);
        }
        if (json_object_get(o, "skip")) {
                it->kind = VIEW_SKIP;
                return n == 1 && get_u64(o, "skip", &it->len);
        }
        if ((s = get_str(o, "end"))) {
                int64_t st;

                it->kind = VIEW_END;
                if (n != 2 || !get_i64(o, "exit_status", &st) || st < -1 || st > INT32_MAX)
                        return false;
                it->exit_status = (int)st;
                for (vigil_end_how h = VIGIL_END_EXIT; h <= VIGIL_END_LOST; h++)
                        if (strcmp(s, vigil_end_how_name(h)) == 0) {
                                it->how = h;
                                return true;
                        }
                return false;
        }
        return false;
}

int view_item_decode(const vmsg *m, view_item *it)
{
        const vmsg_field *d = vmsg_get(m, VF_DATA), *f = vmsg_get(m, VF_ITEM);
        json_t *o;
        bool ok;

        *it = (view_item){ 0 };
        if (d) {
                if (f || d->len > VIEW_DATA_MAX || vmsg_get_i64(m, VF_TIME, &it->time_ms) < 0)
                        return VIGIL_E_PARSE;
                it->kind = VIEW_OUTPUT;
                it->data = d->val;
                it->len = d->len;
                return 0;
        }
        if (!f)
                return VIGIL_E_PARSE;
        o = json_loadb((const char *)f->val, f->len, JSON_REJECT_DUPLICATES, NULL);
        ok = json_is_object(o) && decode_json(o, it);
        json_decref(o);
        return ok ? 0 : VIGIL_E_PARSE;
}
