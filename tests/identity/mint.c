/* mint DIR: keys and tokens for the `vigil token verify` integration test,
 * made with OpenSSL (forge.c) at the current time:
 *   DIR/jwks.json            public keys rsa-1, ec-1, ed-1 (0600)
 *   DIR/{rs256,es256,eddsa}.jwt   valid tokens for "alice"
 *   DIR/expired.jwt          expired an hour ago; DIR/expired.exp holds its exp
 *   DIR/forged.jwt           kid rsa-1, signed by a key not in the JWKS */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "forge.h"
#include "testlib.h"

static void write_token(const char *dir, const char *name, const char *alg, const forge_key *k,
                        long long iat, long long exp)
{
        char path[4096], hdr[128], over[128];
        char *claims, *t;

        snprintf(hdr, sizeof hdr, "{\"alg\":\"%s\",\"kid\":\"%s\",\"typ\":\"JWT\"}", alg, k->kid);
        snprintf(over, sizeof over, "{\"iat\":%lld,\"exp\":%lld,\"jti\":\"%s\"}", iat, exp, name);
        claims = test_claims(over);
        t = forge_token(hdr, claims, alg, k, NULL, 0);
        snprintf(path, sizeof path, "%s/%s.jwt", dir, name);
        forge_write_file(path, t, 0600);
        free(t);
        free(claims);
}

int main(int argc, char **argv)
{
        forge_key *keys[3], *evil;
        long long now = (long long)time(NULL);
        char path[4096], text[64];
        char *jwks;

        if (argc != 2) {
                fprintf(stderr, "usage: mint DIR\n");
                return 2;
        }
        keys[0] = forge_key_new("RSA2048", "rsa-1", NULL);
        keys[1] = forge_key_new("P-256", "ec-1", NULL);
        keys[2] = forge_key_new("Ed25519", "ed-1", NULL);
        evil = forge_key_new("RSA2048", "rsa-1", NULL);
        jwks = forge_jwks(keys, 3);
        snprintf(path, sizeof path, "%s/jwks.json", argv[1]);
        forge_write_file(path, jwks, 0600);
        free(jwks);

        write_token(argv[1], "rs256", "RS256", keys[0], now - 60, now + 600);
        write_token(argv[1], "es256", "ES256", keys[1], now - 60, now + 600);
        write_token(argv[1], "eddsa", "EdDSA", keys[2], now - 60, now + 600);
        write_token(argv[1], "expired", "RS256", keys[0], now - 4000, now - 3600);
        write_token(argv[1], "forged", "RS256", evil, now - 60, now + 600);
        snprintf(path, sizeof path, "%s/expired.exp", argv[1]);
        snprintf(text, sizeof text, "%lld\n", now - 3600);
        forge_write_file(path, text, 0600);

        for (size_t i = 0; i < 3; i++)
                forge_key_free(keys[i]);
        forge_key_free(evil);
        return 0;
}
