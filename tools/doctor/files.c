/* Ownership and modes of what vigil trusts: its configuration directory,
 * the store, and the key that signs recordings. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <string.h>
#include <sys/stat.h>

#include "doctor.h"

static void check_store(doctor_ctx *c)
{
        _cleanup_free_ char *dir = doctor_path(c, c->store), *fix = NULL;
        DIR *d;
        struct dirent *de;
        int r;

        r = doctor_check_owner_mode(c, "files", c->store, true, 0700,
                                    "the recordings and their index would be readable or writable by others");
        if (r == -ENOENT) {
                fix = doctor_fmt("install -d -m 0700 -o root -g root %s", c->store);
                doctor_finding(c, "files", fix, "the store '%s' does not exist: sessions cannot be recorded, so they "
                               "do not start",
                               c->store);
                return;
        }
        doctor_check_parents(c, "files", c->store);
        if (r == 0 || !dir || !(d = opendir(dir)))
                return;
        /* LMDB's data and lock files, and the identity state below. */
        while ((de = readdir(d))) {
                _cleanup_free_ char *p = NULL;
                struct stat st;

                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                p = doctor_fmt("%s/%s", c->store, de->d_name);
                if (p)
                        (void)doctor_check_owner_mode(c, "files", p, S_ISDIR(st.st_mode),
                                                      S_ISDIR(st.st_mode) ? 0700 : 0600,
                                                      "recordings and identity state are for root only");
        }
        closedir(d);
}

/* The host's signing key: private, root's, and really an Ed25519 key. */
static void check_host_key(doctor_ctx *c)
{
        _cleanup_free_ char *text = NULL;
        BIO *bio;
        EVP_PKEY *k;
        int r = doctor_check_owner_mode(c, "files", DOCTOR_HOST_KEY, false, 0600,
                                        "whoever can read it can sign forged recordings as this host");

        if (r == -ENOENT) {
                doctor_finding(c, "files",
                               "(umask 077; openssl genpkey -algorithm ed25519 -out " DOCTOR_HOST_KEY ")",
                               DOCTOR_HOST_KEY " does not exist: recordings cannot be sealed");
                return;
        }
        if (r == 0 || doctor_read(c, DOCTOR_HOST_KEY, &text) < 0)
                return;
        bio = BIO_new_mem_buf(text, -1);
        k = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
        if (!k || EVP_PKEY_get_base_id(k) != EVP_PKEY_ED25519)
                doctor_finding(c, "files",
                               "move it away and (umask 077; openssl genpkey -algorithm ed25519 -out " DOCTOR_HOST_KEY
                               ")",
                               DOCTOR_HOST_KEY " is not a PEM Ed25519 private key: recordings cannot be sealed");
        EVP_PKEY_free(k);
        BIO_free(bio);
        explicit_bzero(text, strlen(text));
}

static bool has_client_secret(const doctor_ctx *c)
{
        _cleanup_free_ char *text = NULL;
        char *save = NULL;

        if (doctor_read(c, c->config, &text) < 0)
                return false;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                line += strspn(line, " \t");
                if (strncmp(line, "client_secret", 13) == 0 && strchr(" \t=", line[13]))
                        return true;
        }
        return false;
}

void doctor_check_files(doctor_ctx *c)
{
        struct stat st;
        int r;

        r = doctor_check_owner_mode(c, "files", "/etc/vigil", true, 0755,
                                    "whoever can write it can replace the configuration, policy and signing key");
        if (r == -ENOENT)
                doctor_finding(c, "files", "install -d -m 0755 -o root -g root /etc/vigil",
                               "/etc/vigil does not exist: there is no configuration, policy or signing key");
        else
                doctor_check_parents(c, "files", "/etc/vigil");
        check_store(c);
        check_host_key(c);

        r = doctor_check_owner_mode(c, "files", c->config, false, 0644,
                                    "whoever can write vigil.conf chooses the identity provider vigil trusts");
        if (r > 0 && doctor_lstat(c, c->config, &st) == 0 && (st.st_mode & 044) && has_client_secret(c)) {
                _cleanup_free_ char *fix = doctor_fmt("chmod 0600 %s", c->config);

                doctor_finding(c, "files", fix, "'%s' holds client_secret and is readable by others", c->config);
        }
        (void)doctor_check_owner_mode(c, "files", c->policy, false, 0644,
                                      "whoever can write the policy decides what sessions may run");
}
