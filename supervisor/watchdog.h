/* The watchdog that ends the session if the supervisor dies (watchdog.c). */
#pragma once

#include "sup.h"

/** Fork the watchdog. Needs s->cg and s->io.tty_fd set. @return 0 or -errno. */
int watchdog_start(session *s);
/** Tell it the session ended normally, and wait for it. */
void watchdog_stop(session *s);
