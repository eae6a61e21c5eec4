/*
 * check.h - `sfsink --check`: compare the configuration with the org.
 *
 * The check signs in, fetches the describe of every mapped sObject once
 * and verifies each mapping: the sObject exists, its describe allows the
 * operation, and an upsert's external_id_field is an external ID or
 * idLookup field.  Given input files, it also reads every record and
 * checks the field names it uses against the describe: unknown fields,
 * fields the operation cannot set, and parent references by external ID.
 * Only GET requests are sent, so nothing is written to Salesforce.
 *
 * The report goes to OUT: one "TOPIC: ok (...)" line for each topic
 * without problems, otherwise one "TOPIC: problem; fix" line per problem,
 * followed by up to three input locations (FILE:LINE) where the problem
 * comes from records.  Problems with lines that are not routable records
 * use "input" or the unmapped topic in place of a mapped topic.
 */
#ifndef SFSINK_CHECK_H
#define SFSINK_CHECK_H

#include <stddef.h>
#include <stdio.h>

#include "config.h"
#include "log.h"

/* Input locations reported per problem; the rest are only counted. */
#define CHECK_MAX_WHERE	3

/*
 * Run the check for CFG, reading the records of PATHS (none: check the
 * mappings only; "-" is stdin).  Returns the exit status: 0 when every
 * topic is ok, 1 when a problem was found, 2 when an input file cannot be
 * opened, 3 when signing in or a describe request failed.
 */
int check_run(const struct config *cfg, const struct logger *lg,
    char *const *paths, size_t n_paths, FILE *out);

#endif
