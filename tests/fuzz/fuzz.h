/*
 * fuzz.h - setup shared by the libFuzzer harnesses in this directory.
 *
 * Every harness is built by `make fuzz` with
 * clang -fsanitize=fuzzer,address,undefined and linked against the sfsink
 * sources (not main.c).  Harnesses for code that is static in its file
 * include that .c file, so that no production function is exported only
 * for fuzzing.
 */
#ifndef SFSINK_FUZZ_H
#define SFSINK_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "log.h"

/*
 * The configuration of every harness but fuzz_config: one mapping per
 * operation and mode, as fuzz.c lists them.  Loaded once, never freed.
 */
const struct config *fuzz_config(void);

/* The mapping of TOPIC in fuzz_config(); aborts when there is none. */
const struct mapping *fuzz_mapping(const char *topic);

/*
 * A logger at trace level that formats every message and prints it only
 * when SFSINK_FUZZ_DEBUG is set.
 */
const struct logger *fuzz_logger(void);

/* /dev/null opened for writing, for result lines. */
FILE *fuzz_devnull(void);

/*
 * Copy SIZE bytes of DATA into a new NUL-terminated buffer (the caller
 * frees it), because sfsink's parsers get NUL-terminated text.
 */
char *fuzz_strndup(const uint8_t *data, size_t size);

#endif
