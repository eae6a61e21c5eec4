/*
 * jsoncheck.h - a fast check that text is JSON that jansson accepts.
 *
 * Building a jansson tree of every input line only to free it again was
 * most of sfsink's CPU.  jsoncheck_object() walks the text once, builds
 * nothing and allocates nothing.  It returns "sure" only for text that
 * json_loadb() accepts as an object (or array) with JSON_REJECT_DUPLICATES
 * and JSON_DECODE_INT_AS_REAL: valid UTF-8, no duplicate key at any depth,
 * no number too large for a double.  For everything else it returns "not
 * sure", and the caller passes the text to jansson, which also words the
 * error.  That includes rare valid text that it does not decide: escaped
 * keys, \u0000 and surrogate escapes, huge exponents, deep nesting and
 * objects with very many keys.  tests/fuzz/fuzz_jsoncheck.c checks both
 * promises.
 */
#ifndef SFSINK_JSONCHECK_H
#define SFSINK_JSONCHECK_H

#include <stddef.h>

/* 1 when TEXT is surely an object jansson accepts; 0 when not sure. */
int jsoncheck_object(const char *text, size_t len);

/* The same for an array, such as an sObject Collections response. */
int jsoncheck_array(const char *text, size_t len);

#endif
