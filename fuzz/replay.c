/* Stand-in main() for fuzz targets when libFuzzer is not used: feeds each
 * file named on the command line (or each file in a named directory) to
 * LLVMFuzzerTestOneInput once, so the seeds run under meson test (and under
 * ASan in the sanitizer build). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fileio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
        char *buf = NULL;
        size_t len = 0;
        int r = read_file_bounded(path, 16u << 20, &buf, &len);

        if (r < 0) {
                fprintf(stderr, "replay: cannot read '%s'\n", path);
                return 1;
        }
        (void)LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
        free(buf);
        return 0;
}

int main(int argc, char **argv)
{
        int n = 0, bad = 0;

        for (int i = 1; i < argc; i++) {
                struct stat st;

                if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
                        DIR *d = opendir(argv[i]);
                        struct dirent *de;

                        if (!d)
                                return 1;
                        while ((de = readdir(d))) {
                                char p[4096];

                                if (de->d_name[0] == '.')
                                        continue;
                                snprintf(p, sizeof p, "%s/%s", argv[i], de->d_name);
                                bad |= run_file(p);
                                n++;
                        }
                        closedir(d);
                } else {
                        bad |= run_file(argv[i]);
                        n++;
                }
        }
        printf("replayed %d inputs\n", n);
        return bad || n == 0;
}
