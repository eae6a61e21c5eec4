/*
 * fuzz_config.c - config_load() on a fuzzed YAML file.
 *
 * Input: the file's bytes.  They are written to a temporary file, because
 * config_load() reads a path.  ${VAR} references see the environment of
 * the fuzzer, and SFSINK_FUZZ_SET is set to "1000" for them to find.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"

static char path[] = "/tmp/sfsink-fuzz-config-XXXXXX";
static int fd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv);
static void remove_input(void);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
remove_input(void)
{
	unlink(path);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	setenv("SFSINK_FUZZ_SET", "1000", 1);
	fd = mkstemp(path);
	if (fd == -1) {
		perror("fuzz_config: mkstemp");
		abort();
	}
	atexit(remove_input);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;

	if (ftruncate(fd, 0) == -1 || pwrite(fd, data, size, 0) !=
	    (ssize_t)size) {
		perror("fuzz_config: writing the input");
		abort();
	}
	memset(&cfg, 0x5a, sizeof(cfg));
	if (config_load(&cfg, path, fuzz_logger()) == 0) {
		if (cfg.org_url == NULL || cfg.api_version == NULL)
			abort();
		config_find_mapping(&cfg, "accounts");
		config_free(&cfg);
	}
	return 0;
}
