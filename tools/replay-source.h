/* Where `vigil replay` and `vigil watch` get a session's items
 * (vigild/view.h): the store itself when root, else vigild's
 * session.replay / session.watch, which sends the items its backend made
 * from the store with the same code. What the commands do with the items is
 * then the same either way. Internal to the CLI. */
#pragma once

#include <signal.h>
#include <stdbool.h>

#include "cli.h"
#include "view.h"

typedef struct replay_source replay_source;

enum {
        SOURCE_REWIND = 1 << 0, /* the player may go back to the start */
        SOURCE_FOLLOW = 1 << 1, /* watch: follow the live session until it ends */
};

/**
 * replay_source_open() - open session @arg (an id or a unique prefix).
 * Through vigild with SOURCE_REWIND, every item is fetched first and kept
 * (a jump back needs them, and a connection must not wait on a paused
 * player), up to 512 MiB of output.
 * @param[in] cmd  for messages ("replay", "watch").
 * @return 0, or EXIT_FAIL after printing one line.
 */
int replay_source_open(const vigil_globals *g, const char *cmd, const char *arg, unsigned flags,
                       replay_source **ret);

/**
 * replay_source_next() - the next item.
 * @return 1 with an item (valid until the next call); 0 at the end; -EAGAIN
 *         (the store, following: nothing new yet; call again later); -EINTR
 *         (the stop flag was set); another error (replay_source_error()).
 */
int replay_source_next(replay_source *s, view_item *ret);

/** Back to the first item (SOURCE_REWIND). @return 0 or an error. */
int replay_source_rewind(replay_source *s);

/** Stop waiting for vigild when *@flag becomes set. */
void replay_source_set_stop(replay_source *s, const volatile sig_atomic_t *flag);

/** Print the line for error @r from replay_source_next() (or the player's own). */
void replay_source_error(replay_source *s, int r);

replay_source *replay_source_free(replay_source *s);
