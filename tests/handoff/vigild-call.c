/* vigild-call: send one vigild request from a test and print the answer.
 *
 *   vigild-call SOCKET status
 *   vigild-call SOCKET kill SESSION [REASON]
 *
 * Prints "status: NAME" and, for a refusal, "error: LINE"; exit 0 when
 * vigild answered (whatever it answered), 1 on a transport error. The
 * test runs it as root (kill) and as test users inside and outside
 * sessions (status: auditors by an identity-provider group). */
#include <stdio.h>
#include <string.h>

#include "client.h"

int main(int argc, char **argv)
{
        vigild_conn *c = NULL;
        vigild_reply *rep = NULL;
        vmsg_builder b = { 0 };
        int r;

        if (argc >= 3 && strcmp(argv[2], "status") == 0)
                r = vmsg_builder_init(&b, VT_STATUS, 7);
        else if ((argc == 4 || argc == 5) && strcmp(argv[2], "kill") == 0) {
                r = vmsg_builder_init(&b, VT_SESSION_KILL, 7);
                (void)vmsg_add_str(&b, VF_SESSION, argv[3]);
                if (argc == 5)
                        (void)vmsg_add_str(&b, VF_REASON, argv[4]);
        } else {
                fprintf(stderr, "usage: vigild-call SOCKET status | kill SESSION [REASON]\n");
                return 2;
        }
        if (r == 0)
                r = vigild_connect(argv[1], 2000, &c);
        if (r == 0)
                r = vigild_call(c, &b, NULL, 0, 10000, &rep);
        vmsg_builder_done(&b);
        vigild_conn_free(c);
        if (r < 0) {
                fprintf(stderr, "vigild-call: %s\n", vigild_client_strerror(r));
                return 1;
        }
        printf("status: %s\n", vstatus_name(vigild_reply_status(rep)));
        if (vigild_reply_status(rep) != VS_OK)
                printf("error: %s\n", vigild_reply_error(rep));
        vigild_reply_free(rep);
        return 0;
}
