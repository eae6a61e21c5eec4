/*
 * json_floor - the CPU floor of sfsink's JSON work.
 *
 * Reads NDJSON from the files named on the command line (or standard
 * input), parses every line with jansson, and writes it out again in
 * compact form, one line per record, to standard output.  sfsink does at
 * least this much per record: parse the input line and serialise the
 * record into a request body.  Its CPU time divided by this program's,
 * on the same input, is the overhead that sfsink adds to the JSON work.
 *
 * Build: cc -O2 json_floor.c $(pkg-config --cflags --libs jansson)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static int
copy_lines(FILE *in, const char *name, unsigned long *records)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	json_error_t err;

	while ((len = getline(&line, &cap, in)) != -1) {
		json_t *doc;
		char *out;

		if (len <= 1)
			continue;
		doc = json_loadb(line, (size_t)len, 0, &err);
		if (doc == NULL) {
			fprintf(stderr, "json_floor: %s:%d: invalid JSON: %s\n",
			    name, err.line, err.text);
			free(line);
			return -1;
		}
		out = json_dumps(doc, JSON_COMPACT);
		if (out == NULL || fputs(out, stdout) == EOF ||
		    putchar('\n') == EOF) {
			fprintf(stderr, "json_floor: writing the output failed\n");
			free(out);
			json_decref(doc);
			free(line);
			return -1;
		}
		free(out);
		json_decref(doc);
		(*records)++;
	}
	free(line);
	if (ferror(in)) {
		fprintf(stderr, "json_floor: reading %s failed\n", name);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	unsigned long records = 0;
	int i;

	if (argc < 2)
		return copy_lines(stdin, "-", &records) == 0 ? 0 : 1;
	for (i = 1; i < argc; i++) {
		FILE *in = strcmp(argv[i], "-") == 0 ? stdin : fopen(argv[i], "r");

		if (in == NULL) {
			perror(argv[i]);
			return 1;
		}
		if (copy_lines(in, argv[i], &records) != 0)
			return 1;
		if (in != stdin)
			fclose(in);
	}
	fprintf(stderr, "json_floor: %lu records\n", records);
	return fflush(stdout) == 0 ? 0 : 1;
}
