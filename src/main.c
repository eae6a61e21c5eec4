/*
 * main.c - command line of sfsink, the NDJSON to Salesforce loader.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "duration.h"
#include "input.h"
#include "journal.h"
#include "log.h"
#include "resume.h"
#include "signals.h"
#include "sink.h"

struct options {
	const char *config_path;
	const char *output_path;	/* NULL for stdout */
	int verbose;
	bool quiet;
	bool check;		/* --check: compare with the org */
	const char *rejects_path;	/* --rejects FILE */
	const char *dry_run_dir;	/* --dry-run DIR */
	int progress;		/* 1 --progress, 0 --no-progress, -1 auto */
	const char *journal_path;	/* --journal FILE */
	const char *resume_path;	/* --resume JOURNAL */
	int64_t shutdown_wait_ns;	/* --shutdown-wait DURATION */
	int64_t bulk_wait_ns;		/* --bulk-wait DURATION */
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
"      --check         check the mappings (and the field names used in\n"
"                      FILEs) against the org's describe; send nothing\n"
"      --dry-run DIR   build every request and write it to DIR instead of\n"
"                      sending it; needs no credentials\n"
"      --rejects FILE  copy the input line of every record that is not ok\n"
"                      to FILE, ready to be loaded again\n"
"      --progress      draw a status line on stderr even when it is not a\n"
"                      terminal\n"
"      --no-progress   never draw the status line\n"
"      --journal FILE  append each bulk job's records to FILE before the\n"
"                      job is closed, so that --resume can collect results\n"
"                      the run did not wait for\n"
"      --resume JOURNAL\n"
"                      collect the results of the open bulk jobs of\n"
"                      JOURNAL and print their result lines; reads no input\n"
"      --shutdown-wait DURATION\n"
"                      after SIGINT or SIGTERM, wait this long for closed\n"
"                      bulk jobs (default " SHUTDOWN_WAIT_DEFAULT ")\n"
"      --bulk-wait DURATION\n"
"                      stop polling a bulk job this long after its close\n"
"                      (default " BULK_WAIT_DEFAULT ")\n"
"  -h, --help          print this help and exit\n"
"  -V, --version       print the version and exit\n"
"\n"
"Exit status: 0 all records ok, 1 some record not ok, 2 usage or\n"
"configuration error, 3 fatal runtime error.  See sfsink(1).\n";

/* Long options without a short form. */
enum {
	OPT_CHECK = 256,
	OPT_DRY_RUN,
	OPT_REJECTS,
	OPT_PROGRESS,
	OPT_NO_PROGRESS,
	OPT_JOURNAL,
	OPT_RESUME,
	OPT_SHUTDOWN_WAIT,
	OPT_BULK_WAIT,
};

static const struct option long_options[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "output", required_argument, NULL, 'o' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "check", no_argument, NULL, OPT_CHECK },
	{ "dry-run", required_argument, NULL, OPT_DRY_RUN },
	{ "rejects", required_argument, NULL, OPT_REJECTS },
	{ "progress", no_argument, NULL, OPT_PROGRESS },
	{ "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
	{ "journal", required_argument, NULL, OPT_JOURNAL },
	{ "resume", required_argument, NULL, OPT_RESUME },
	{ "shutdown-wait", required_argument, NULL, OPT_SHUTDOWN_WAIT },
	{ "bulk-wait", required_argument, NULL, OPT_BULK_WAIT },
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

/* Parse the duration TEXT of OPTION into *NS, or exit with a usage error. */
static void
parse_wait(const char *option, const char *text, int64_t *ns)
{
	char msg[256];

	if (duration_parse(text, ns) != DURATION_OK || *ns < 0) {
		snprintf(msg, sizeof(msg), "invalid %s \"%.100s\": expected a "
		    "duration of 0s or more such as 90s, 10m or 24h", option,
		    text);
		usage_error(msg);
	}
}

/* Reject options that --resume cannot honour. */
static void
check_resume(const struct options *opt, int n_files)
{
	if (opt->resume_path == NULL)
		return;
	if (n_files > 0)
		usage_error("--resume reads no input: drop the FILE arguments");
	if (opt->journal_path != NULL)
		usage_error("--resume marks jobs done in the journal it reads: "
		    "drop --journal");
	if (opt->check || opt->dry_run_dir != NULL)
		usage_error("--resume cannot be combined with --check or "
		    "--dry-run");
	if (opt->rejects_path != NULL)
		usage_error("--resume cannot write --rejects: the journal does "
		    "not keep the input lines");
}

static void
parse_options(int argc, char **argv, struct options *opt)
{
	int c;

	memset(opt, 0, sizeof(*opt));
	opt->progress = -1;
	parse_wait("--shutdown-wait", SHUTDOWN_WAIT_DEFAULT,
	    &opt->shutdown_wait_ns);
	parse_wait("--bulk-wait", BULK_WAIT_DEFAULT, &opt->bulk_wait_ns);
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
		case OPT_CHECK:
			opt->check = true;
			break;
		case OPT_DRY_RUN:
			opt->dry_run_dir = optarg;
			break;
		case OPT_REJECTS:
			opt->rejects_path = optarg;
			break;
		case OPT_PROGRESS:
			opt->progress = 1;
			break;
		case OPT_NO_PROGRESS:
			opt->progress = 0;
			break;
		case OPT_JOURNAL:
			opt->journal_path = optarg;
			break;
		case OPT_RESUME:
			opt->resume_path = optarg;
			break;
		case OPT_SHUTDOWN_WAIT:
			parse_wait("--shutdown-wait", optarg,
			    &opt->shutdown_wait_ns);
			break;
		case OPT_BULK_WAIT:
			parse_wait("--bulk-wait", optarg, &opt->bulk_wait_ns);
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
	check_resume(opt, argc - optind);
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

/* FILE for writing, or exit with status 2: a typo must fail before sending. */
static FILE *
open_for_writing(const char *path, const char *what, const struct logger *lg)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL) {
		log_error(lg, "cannot open %s \"%s\": %s", what, path,
		    strerror(errno));
		exit(EXIT_USAGE);
	}
	return fp;
}

static void
prepare_dry_run(const char *dir, const struct logger *lg)
{
	struct stat st;

	if (mkdir(dir, 0777) == -1 && (errno != EEXIST ||
	    stat(dir, &st) == -1 || !S_ISDIR(st.st_mode))) {
		log_error(lg, "cannot create dry-run directory \"%s\": %s", dir,
		    strerror(errno == EEXIST ? ENOTDIR : errno));
		exit(EXIT_USAGE);
	}
}

/* Warn when a literal client_secret sits in a file others can read. */
static void
check_secret_file(const struct config *cfg, const struct logger *lg)
{
	struct stat st;

	if (!cfg->secret_in_file || stat(cfg->path, &st) == -1 ||
	    (st.st_mode & (S_IRWXG | S_IRWXO)) == 0)
		return;
	log_warn(lg, "%s holds a literal client_secret and can be read by "
	    "group or others; run chmod 600 on it, or use ${VAR} to take the "
	    "secret from the environment", cfg->path);
}

static struct sink_options
sink_options_for(const struct options *opt)
{
	struct sink_options so;
	const char *no_color = getenv("NO_COLOR");
	const char *term = getenv("TERM");

	memset(&so, 0, sizeof(so));
	if (opt->rejects_path != NULL) {
		so.rejects_name = opt->rejects_path;
	}
	so.dry_run_dir = opt->dry_run_dir;
	so.shutdown_wait_ns = opt->shutdown_wait_ns;
	so.bulk_wait_ns = opt->bulk_wait_ns;
	so.progress = opt->progress == 1 ||
	    (opt->progress == -1 && isatty(STDERR_FILENO) && !opt->quiet);
	so.color = isatty(STDERR_FILENO) && (no_color == NULL ||
	    *no_color == '\0') && (term == NULL || strcmp(term, "dumb") != 0);
	return so;
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

/* sfsink --resume JOURNAL: the result lines owed by open bulk jobs. */
static int
resume(const struct options *opt, struct config *cfg, struct logger *lg)
{
	const char *out_name = opt->output_path ? opt->output_path : "stdout";
	struct sink_options sopts = sink_options_for(opt);
	FILE *out = open_output(opt, lg);
	int status;

	lg->status_line = sopts.progress;
	status = resume_run(cfg, lg, opt->resume_path, out, out_name, &sopts,
	    log_enabled(lg, LOG_WARN));
	if (close_output(out, out_name, lg) == -1)
		status = EXIT_FATAL;
	config_free(cfg);
	return status;
}

int
main(int argc, char **argv)
{
	struct options opt;
	struct logger lg;
	struct config cfg;
	struct input *input;
	struct sink sink;
	struct sink_options sopts;
	FILE *out;
	int status;

	parse_options(argc, argv, &opt);
	logger_init(&lg, log_level_for(&opt), stderr);
	signals_install();

	if (config_load(&cfg, opt.config_path, &lg) == -1)
		return EXIT_USAGE;
	check_secret_file(&cfg, &lg);
	if (opt.check) {
		status = check_run(&cfg, &lg, argv + optind,
		    (size_t)(argc - optind), stdout);
		config_free(&cfg);
		return status;
	}
	if (opt.resume_path != NULL)
		return resume(&opt, &cfg, &lg);
	input = input_open(argv + optind, (size_t)(argc - optind),
	    INPUT_MAX_LINE, &lg);
	if (input == NULL) {
		config_free(&cfg);
		return EXIT_USAGE;
	}
	out = open_output(&opt, &lg);
	sopts = sink_options_for(&opt);
	if (opt.rejects_path != NULL)
		sopts.rejects = open_for_writing(opt.rejects_path,
		    "rejects file", &lg);
	if (opt.dry_run_dir != NULL)
		prepare_dry_run(opt.dry_run_dir, &lg);
	if (opt.journal_path != NULL &&
	    (sopts.journal = journal_open(opt.journal_path, &lg)) == NULL)
		exit(EXIT_USAGE);
	lg.status_line = sopts.progress;

	if (sink_init(&sink, &cfg, &lg, input, out, opt.output_path ?
	    opt.output_path : "stdout", &sopts) == -1) {
		status = EXIT_FATAL;
	} else {
		status = sink_run(&sink);
		if (log_enabled(&lg, LOG_WARN))
			sink_summary(&sink);
	}
	if (close_output(out, opt.output_path ? opt.output_path : "stdout",
	    &lg) == -1)
		status = EXIT_FATAL;
	if (sopts.rejects != NULL && close_output(sopts.rejects,
	    opt.rejects_path, &lg) == -1)
		status = EXIT_FATAL;

	sink_free(&sink);
	journal_close(sopts.journal);
	input_free(input);
	config_free(&cfg);
	return status;
}
