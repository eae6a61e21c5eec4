/*
 * main.c - command line of sfsink, the NDJSON to Salesforce loader.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "input.h"
#include "log.h"
#include "signals.h"
#include "sink.h"

struct options {
	const char *config_path;
	const char *output_path;	/* NULL for stdout */
	int verbose;
	bool quiet;
};

static const char usage_text[] =
"usage: sfsink -c FILE [options] [FILE...]\n"
"\n"
"Read NDJSON records from FILEs (or stdin when none is given or FILE is -)\n"
"and write them to Salesforce as the configuration maps each topic.\n"
"One NDJSON result line per input record goes to stdout.\n"
"\n"
"options:\n"
"  -c, --config FILE   YAML configuration (required)\n"
"  -o, --output FILE   write result lines to FILE instead of stdout\n"
"  -v, --verbose       more messages on stderr; repeat for more (-vvv)\n"
"  -q, --quiet         only errors on stderr, no summary\n"
"  -h, --help          print this help and exit\n"
"  -V, --version       print the version and exit\n"
"\n"
"Exit status: 0 all records ok, 1 some record not ok, 2 usage or\n"
"configuration error, 3 fatal runtime error.  See sfsink(1).\n";

static const struct option long_options[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "output", required_argument, NULL, 'o' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static void
usage_error(const char *message)
{
	fprintf(stderr, "sfsink: %s\n", message);
	fprintf(stderr, "Try 'sfsink --help' for more information.\n");
	exit(EXIT_USAGE);
}

static void
parse_options(int argc, char **argv, struct options *opt)
{
	int c;

	memset(opt, 0, sizeof(*opt));
	while ((c = getopt_long(argc, argv, "c:o:vqhV", long_options,
	    NULL)) != -1) {
		switch (c) {
		case 'c':
			opt->config_path = optarg;
			break;
		case 'o':
			opt->output_path = optarg;
			break;
		case 'v':
			opt->verbose++;
			break;
		case 'q':
			opt->quiet = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(EXIT_ALL_OK);
		case 'V':
			printf("sfsink %s\n", PACKAGE_VERSION);
			exit(EXIT_ALL_OK);
		default:
			usage_error("invalid option");
		}
	}
	if (opt->config_path == NULL)
		usage_error("missing -c FILE: the YAML configuration is required");
}

static enum log_level
log_level_for(const struct options *opt)
{
	int level = LOG_WARN + opt->verbose;

	if (opt->quiet)
		return LOG_ERROR;
	return level > LOG_TRACE ? LOG_TRACE : (enum log_level)level;
}

static FILE *
open_output(const struct options *opt, const struct logger *lg)
{
	FILE *out;

	if (opt->output_path == NULL || strcmp(opt->output_path, "-") == 0)
		return stdout;
	out = fopen(opt->output_path, "w");
	if (out == NULL) {
		log_error(lg, "cannot open output \"%s\": %s", opt->output_path,
		    strerror(errno));
		exit(EXIT_USAGE);
	}
	return out;
}

static double
elapsed_seconds(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) +
	    (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static int
close_output(FILE *out, const char *name, const struct logger *lg)
{
	if (fflush(out) == EOF || ferror(out) || (out != stdout &&
	    fclose(out) == EOF)) {
		log_error(lg, "cannot write results to %s: %s", name,
		    strerror(errno));
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct options opt;
	struct logger lg;
	struct config cfg;
	struct input *input;
	struct sink sink;
	struct timespec start;
	FILE *out;
	int status;

	clock_gettime(CLOCK_MONOTONIC, &start);
	parse_options(argc, argv, &opt);
	logger_init(&lg, log_level_for(&opt), stderr);
	signals_install();

	if (config_load(&cfg, opt.config_path, &lg) == -1)
		return EXIT_USAGE;
	input = input_open(argv + optind, (size_t)(argc - optind),
	    INPUT_MAX_LINE, &lg);
	if (input == NULL) {
		config_free(&cfg);
		return EXIT_USAGE;
	}
	out = open_output(&opt, &lg);

	if (sink_init(&sink, &cfg, &lg, input, out, opt.output_path ?
	    opt.output_path : "stdout") == -1) {
		status = EXIT_FATAL;
	} else {
		status = sink_run(&sink);
		if (log_enabled(&lg, LOG_WARN))
			results_summary(&sink.results, elapsed_seconds(&start));
	}
	if (close_output(out, opt.output_path ? opt.output_path : "stdout",
	    &lg) == -1)
		status = EXIT_FATAL;

	sink_free(&sink);
	input_free(input);
	config_free(&cfg);
	return status;
}
