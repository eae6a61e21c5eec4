/*
 * rusage - run a command and report its wall time, CPU time and peak RSS.
 *
 * Usage: rusage REPORT COMMAND [ARG...]
 *
 * Runs COMMAND with the standard streams it was given and waits for it
 * with wait4().  Then it writes one line to the file REPORT with five
 * numbers: wall seconds, user CPU seconds, system CPU seconds, peak
 * resident set size in KiB, and the exit status (128 + the signal number
 * when a signal ended the command).  The peak RSS (ru_maxrss) covers the
 * command and every descendant it waited for.
 * SIGTERM and SIGINT are passed on to the command.  Exits with the
 * command's status, or 127 when it cannot be started.
 *
 * bench/run measures through this program because Linux keeps a process's
 * peak RSS across fork() and execve(): a command started straight from
 * the Python harness would report at least the harness's own peak.
 *
 * Build: cc -O2 rusage.c
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile pid_t child;

static void
forward(int sig)
{
	if (child > 0)
		kill(child, sig);
}

static double
seconds(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

int
main(int argc, char **argv)
{
	struct timespec start, end;
	struct rusage usage;
	struct sigaction sa;
	int status, code;
	pid_t pid;
	FILE *report;

	if (argc < 3) {
		fprintf(stderr, "usage: rusage REPORT COMMAND [ARG...]\n");
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = forward;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	clock_gettime(CLOCK_MONOTONIC, &start);
	pid = fork();
	if (pid < 0) {
		perror("rusage: fork");
		return 127;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		fprintf(stderr, "rusage: cannot run %s: %s\n", argv[2], strerror(errno));
		_exit(127);
	}
	child = pid;
	while (wait4(pid, &status, 0, &usage) < 0) {
		if (errno != EINTR) {
			perror("rusage: wait4");
			return 127;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &end);

	code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	report = fopen(argv[1], "w");
	if (report == NULL) {
		perror(argv[1]);
		return 127;
	}
	fprintf(report, "%.6f %.6f %.6f %ld %d\n",
	    (double)(end.tv_sec - start.tv_sec) +
	    (double)(end.tv_nsec - start.tv_nsec) / 1e9,
	    seconds(usage.ru_utime), seconds(usage.ru_stime), usage.ru_maxrss, code);
	if (fclose(report) != 0) {
		perror(argv[1]);
		return 127;
	}
	return code;
}
