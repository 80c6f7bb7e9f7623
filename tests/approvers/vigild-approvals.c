/* vigild-approvals: send one approvals request (or a watch) to vigild from
 * a test, exactly as given, and print what came back.
 *
 *   vigild-approvals SOCKET list [--token-file F] [--session S]
 *   vigild-approvals SOCKET decide ID approve|deny [--reason R] [--token-file F]
 *   vigild-approvals SOCKET watch SESSION
 *
 * Prints "item: JSON" per item, then "status: NAME" and, for a refusal,
 * "error: LINE"; exit 0 when vigild answered, 1 on a transport error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

static char *slurp(const char *path)
{
        static char buf[20000];
        FILE *f = fopen(path, "re");
        size_t n;

        if (!f)
                return NULL;
        n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
                n--;
        buf[n] = 0;
        return buf;
}

int main(int argc, char **argv)
{
        vigild_conn *c = NULL;
        vmsg_builder b = { 0 };
        int r, i;

        if (argc < 3)
                goto usage;
        if (strcmp(argv[2], "list") == 0) {
                r = vmsg_builder_init(&b, VT_APPROVALS_LIST, 9);
                i = 3;
        } else if (strcmp(argv[2], "decide") == 0 && argc >= 5) {
                r = vmsg_builder_init(&b, VT_APPROVALS_DECIDE, 9);
                (void)vmsg_add_str(&b, VF_APPROVAL, argv[3]);
                (void)vmsg_add_str(&b, VF_DECISION, argv[4]);
                i = 5;
        } else if (strcmp(argv[2], "watch") == 0 && argc == 4) {
                r = vmsg_builder_init(&b, VT_SESSION_WATCH, 9);
                (void)vmsg_add_str(&b, VF_SESSION, argv[3]);
                i = 4;
        } else
                goto usage;
        for (; i + 1 < argc; i += 2) {
                if (strcmp(argv[i], "--reason") == 0)
                        (void)vmsg_add_str(&b, VF_REASON, argv[i + 1]);
                else if (strcmp(argv[i], "--session") == 0)
                        (void)vmsg_add_str(&b, VF_SESSION, argv[i + 1]);
                else if (strcmp(argv[i], "--token-file") == 0) {
                        const char *t = slurp(argv[i + 1]);

                        if (!t) {
                                perror(argv[i + 1]);
                                return 1;
                        }
                        (void)vmsg_add_str(&b, VF_TOKEN, t);
                } else
                        goto usage;
        }
        if (i != argc)
                goto usage;
        if (r == 0)
                r = vigild_connect(argv[1], 2000, &c);
        if (r == 0)
                r = vigild_send(c, &b, NULL, 0, 10000);
        vmsg_builder_done(&b);
        while (r == 0) {
                vigild_reply *rep = NULL;
                const vmsg_field *f;

                r = vigild_recv(c, 20000, &rep);
                if (r < 0)
                        break;
                f = vmsg_get(&rep->msg, VF_ITEM);
                if (f)
                        printf("item: %.*s\n", (int)f->len, (const char *)f->val);
                if (rep->msg.type & VT_REPLY) {
                        printf("status: %s\n", vstatus_name(vigild_reply_status(rep)));
                        if (vigild_reply_status(rep) != VS_OK)
                                printf("error: %s\n", vigild_reply_error(rep));
                        vigild_reply_free(rep);
                        break;
                }
                vigild_reply_free(rep);
        }
        vigild_conn_free(c);
        if (r < 0) {
                fprintf(stderr, "vigild-approvals: %s\n", vigild_client_strerror(r));
                return 1;
        }
        return 0;
usage:
        fprintf(stderr,
                "usage: vigild-approvals SOCKET list|decide ID approve|deny|watch SESSION [options]\n");
        return 2;
}
