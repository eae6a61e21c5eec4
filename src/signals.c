/*
 * signals.c - SIGINT and SIGTERM as requests to stop the run.
 */
#include <signal.h>
#include <string.h>

#include "signals.h"

static volatile sig_atomic_t received;
static volatile sig_atomic_t last_signal;

static void
on_signal(int signo)
{
	last_signal = signo;
	if (received < 1000)
		received++;
}

void
signals_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	/* A closed downstream pipe must be a write error, not a kill. */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

int
signals_received(void)
{
	return received;
}

int
signals_last(void)
{
	return last_signal;
}
