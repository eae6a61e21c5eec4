/*
 * signals.h - SIGINT and SIGTERM as requests to stop the run.
 *
 * The handler only counts the signal, so the event loop decides what to
 * do: the first one stops reading input and lets requests in flight end,
 * the second ends the run at once.  A signal also interrupts the loop's
 * poll, so it is noticed within one loop turn.  The count lives in a
 * static volatile sig_atomic_t: a handler can reach nothing else.
 */
#ifndef SFSINK_SIGNALS_H
#define SFSINK_SIGNALS_H

/* Install the handlers (without SA_RESTART) and ignore SIGPIPE. */
void signals_install(void);

/* Number of SIGINT and SIGTERM received so far. */
int signals_received(void);

/* The last signal received, or 0. */
int signals_last(void);

#endif
