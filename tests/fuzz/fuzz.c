/*
 * fuzz.c - setup shared by the libFuzzer harnesses.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

/* One topic per operation and mode; upserts match on External_Id__c. */
static const char fuzz_yaml[] =
    "org_url: https://127.0.0.1:9\n"
    "client_id: fuzz-client\n"
    "client_secret: ${SFSINK_FUZZ_SECRET:fuzz-secret}\n"
    "topic_mappings:\n"
    "  - {topic: insert, sobject: Account, operation: insert}\n"
    "  - {topic: update, sobject: Account, operation: update}\n"
    "  - {topic: upsert, sobject: Account, operation: upsert,"
    " external_id_field: External_Id__c}\n"
    "  - {topic: delete, sobject: Account, operation: delete}\n"
    "  - {topic: bulk-insert, sobject: Account, operation: insert,"
    " mode: bulk}\n"
    "  - {topic: bulk-update, sobject: Account, operation: update,"
    " mode: bulk}\n"
    "  - {topic: bulk-upsert, sobject: Account, operation: upsert,"
    " mode: bulk, external_id_field: External_Id__c}\n"
    "  - {topic: bulk-delete, sobject: Account, operation: delete,"
    " mode: bulk}\n"
    "  - {topic: bulk-hard-delete, sobject: Account,"
    " operation: hardDelete, mode: bulk}\n";

const struct config *
fuzz_config(void)
{
	static struct config cfg;
	static int loaded;
	char path[] = "/tmp/sfsink-fuzz-XXXXXX";
	int fd;

	if (loaded)
		return &cfg;
	fd = mkstemp(path);
	if (fd == -1 || write(fd, fuzz_yaml, sizeof(fuzz_yaml) - 1) !=
	    (ssize_t)(sizeof(fuzz_yaml) - 1) || close(fd) == -1) {
		perror("fuzz: writing the configuration");
		abort();
	}
	if (config_load(&cfg, path, fuzz_logger()) == -1) {
		fprintf(stderr, "fuzz: the built-in configuration is invalid\n");
		abort();
	}
	unlink(path);
	loaded = 1;
	return &cfg;
}

const struct mapping *
fuzz_mapping(const char *topic)
{
	const struct mapping *map = config_find_mapping(fuzz_config(), topic);

	if (map == NULL) {
		fprintf(stderr, "fuzz: no mapping for topic %s\n", topic);
		abort();
	}
	return map;
}

FILE *
fuzz_devnull(void)
{
	static FILE *f;

	if (f == NULL && (f = fopen("/dev/null", "w")) == NULL) {
		perror("fuzz: /dev/null");
		abort();
	}
	return f;
}

const struct logger *
fuzz_logger(void)
{
	static struct logger lg;

	/* SFSINK_FUZZ_DEBUG prints the messages, to follow one input. */
	if (lg.stream == NULL)
		logger_init(&lg, LOG_TRACE, getenv("SFSINK_FUZZ_DEBUG") ?
		    stderr : fuzz_devnull());
	return &lg;
}

char *
fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}
