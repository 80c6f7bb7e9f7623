/* mint-user DIR USER: a key and a token for USER at the current time, made
 * with OpenSSL (tests/identity/forge.c), for the recording tests' sessions
 * with an identity:
 *   DIR/jwks.json   the public key (0600)
 *   DIR/token.jwt   an ID token: sub "sub-USER", preferred_username USER,
 *                   email USER@example.test, groups ["rec-a", "rec-b"] (0600) */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "forge.h"
#include "testlib.h"

int main(int argc, char **argv)
{
        forge_key *k;
        long long now = (long long)time(NULL);
        char path[4096], over[1024];
        char *jwks, *claims, *t;

        if (argc != 3) {
                fprintf(stderr, "usage: mint-user DIR USER\n");
                return 2;
        }
        k = forge_key_new("Ed25519", "rec-1", NULL);
        jwks = forge_jwks(&k, 1);
        snprintf(path, sizeof path, "%s/jwks.json", argv[1]);
        forge_write_file(path, jwks, 0600);
        snprintf(over, sizeof over,
                 "{\"sub\":\"sub-%s\",\"preferred_username\":\"%s\",\"email\":\"%s@example.test\","
                 "\"groups\":[\"rec-a\",\"rec-b\"],\"iat\":%lld,\"exp\":%lld,\"jti\":\"rec-%lld\"}",
                 argv[2], argv[2], argv[2], now - 30, now + 900, now);
        claims = test_claims(over);
        t = forge_token("{\"alg\":\"EdDSA\",\"kid\":\"rec-1\",\"typ\":\"JWT\"}", claims, "EdDSA", k, NULL,
                        0);
        snprintf(path, sizeof path, "%s/token.jwt", argv[1]);
        forge_write_file(path, t, 0600);
        free(t);
        free(claims);
        free(jwks);
        forge_key_free(k);
        return 0;
}
