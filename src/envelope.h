/*
 * envelope.h - the two input line formats.
 *
 * A line is either a plain record, {"topic": T, "data": {...}}, or kcat's
 * -J envelope, {"topic", "partition", "offset", "tstype", "ts", "broker",
 * "headers"?, "key", "payload"}.  In the kcat form the payload is a string
 * holding a JSON object: a full {"topic", "data"} record when it has both
 * members, otherwise the data object itself, routed by the Kafka topic.
 */
#ifndef SFSINK_ENVELOPE_H
#define SFSINK_ENVELOPE_H

#include <stddef.h>

#include "record.h"

/*
 * Parse LINE into REC's topic, data, data_len and kafka fields.  Returns 0,
 * or -1 with *CODE set to a static sfsink error code (INVALID_JSON,
 * MISSING_TOPIC, INVALID_DATA, INVALID_PAYLOAD) and a message in MSG.
 */
int envelope_parse(const char *line, size_t len, struct record *rec,
    const char **code, char *msg, size_t msglen);

#endif
