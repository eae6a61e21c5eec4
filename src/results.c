/*
 * results.c - one NDJSON result line per input record.
 *
 * Lines are assembled in a reused buffer with a fixed key order and written
 * with one fwrite each, so a line is never split by a failed write.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results.h"
#include "xalloc.h"

static const char *const status_names[RESULT_NSTATUS] = {
	[RESULT_OK] = "ok",
	[RESULT_FAILED] = "failed",
	[RESULT_REJECTED] = "rejected",
	[RESULT_NOT_PROCESSED] = "not_processed",
	[RESULT_UNKNOWN] = "unknown",
};

const char *
result_status_name(enum result_status status)
{
	return status_names[status];
}

void
results_init(struct results *res, FILE *out, const char *out_name,
    const struct logger *lg)
{
	memset(res, 0, sizeof(*res));
	res->out = out;
	res->out_name = out_name;
	res->lg = lg;
	buf_init(&res->line, 0);
}

void
results_count_topics(struct results *res, const struct mapping *mappings,
    size_t n)
{
	res->mappings = mappings;
	res->n_mappings = n;
	res->topic_count = xcalloc(n + 1, sizeof(*res->topic_count));
}

void
results_set_rejects(struct results *res, FILE *rejects, const char *name)
{
	res->rejects = rejects;
	res->rejects_name = name;
}

/* Append ,"KEY":"VALUE" with VALUE escaped; KEY needs no escaping. */
static void
put_string(struct buf *b, const char *key, const char *value)
{
	buf_puts(b, ",\"");
	buf_puts(b, key);
	buf_puts(b, "\":\"");
	buf_json_escape(b, value, strlen(value));
	buf_putc(b, '"');
}

/* The members every line starts with, up to and including "status". */
static void
begin_line(struct buf *b, struct record *rec, enum result_status status)
{
	buf_clear(b);
	buf_puts(b, "{\"source\":\"");
	buf_json_escape(b, rec->source, strlen(rec->source));
	buf_puts(b, "\",\"line\":");
	buf_put_long(b, rec->line);
	if (rec->has_kafka) {
		buf_puts(b, ",\"kafka\":{\"partition\":");
		buf_put_long(b, rec->partition);
		buf_puts(b, ",\"offset\":");
		buf_put_long(b, rec->offset);
		buf_putc(b, '}');
	}
	if (rec->topic != NULL)
		put_string(b, "topic", rec->topic);
	if (rec->map != NULL) {
		put_string(b, "sobject", rec->map->sobject);
		put_string(b, "operation", operation_name(rec->map->operation));
		put_string(b, "mode", write_mode_name(rec->mode));
	}
	put_string(b, "status", status_names[status]);
}

/* Copy REC's input line to the rejects file, if there is one. */
static void
write_reject(struct results *res, const struct record *rec)
{
	if (res->rejects == NULL || res->rejects_error != 0)
		return;
	if (rec->raw == NULL) {
		log_warn(res->lg, "%s:%ld: line not copied to %s: it was longer "
		    "than the line limit", rec->source, rec->line,
		    res->rejects_name);
		return;
	}
	if (fwrite(rec->raw, 1, rec->raw_len, res->rejects) != rec->raw_len ||
	    putc('\n', res->rejects) == EOF)
		res->rejects_error = errno ? errno : EIO;
}

static void
end_line(struct results *res, struct record *rec, enum result_status status)
{
	struct buf *b = &res->line;

	rec->has_result = true;
	buf_puts(b, "}\n");
	res->count[status]++;
	if (res->topic_count != NULL)
		res->topic_count[rec->map ? (size_t)(rec->map - res->mappings) :
		    res->n_mappings][status]++;
	if (status != RESULT_OK)
		write_reject(res, rec);
	if (res->write_error != 0)
		return;
	if (fwrite(b->data, 1, b->len, res->out) != b->len)
		res->write_error = errno ? errno : EIO;
}

void
results_ok(struct results *res, struct record *rec, const char *id,
    int created, const char *job_id)
{
	struct buf *b = &res->line;

	begin_line(b, rec, RESULT_OK);
	if (id != NULL)
		put_string(b, "id", id);
	if (created >= 0)
		buf_puts(b, created ? ",\"created\":true" : ",\"created\":false");
	if (job_id != NULL)
		put_string(b, "job_id", job_id);
	end_line(res, rec, RESULT_OK);
}

/* Append one error object, taking "code" from code, errorCode or statusCode. */
static void
put_error(struct buf *b, json_t *err)
{
	const char *code = json_string_value(json_object_get(err, "code"));
	const char *message = json_string_value(json_object_get(err, "message"));
	json_t *fields = json_object_get(err, "fields");
	size_t i;
	json_t *f;
	int first = 1;

	if (code == NULL)
		code = json_string_value(json_object_get(err, "statusCode"));
	if (code == NULL)
		code = json_string_value(json_object_get(err, "errorCode"));

	buf_puts(b, "{\"code\":\"");
	buf_json_escape(b, code ? code : "UNKNOWN", strlen(code ? code : "UNKNOWN"));
	buf_puts(b, "\",\"message\":\"");
	buf_json_escape(b, message ? message : "", message ? strlen(message) : 0);
	buf_puts(b, "\",\"fields\":[");
	json_array_foreach(fields, i, f) {
		if (!json_is_string(f))
			continue;
		if (!first)
			buf_putc(b, ',');
		first = 0;
		buf_putc(b, '"');
		buf_json_escape(b, json_string_value(f), json_string_length(f));
		buf_putc(b, '"');
	}
	buf_puts(b, "]}");
}

void
results_errors(struct results *res, struct record *rec,
    enum result_status status, json_t *errors, const char *id,
    const char *job_id)
{
	struct buf *b = &res->line;
	size_t i;
	json_t *err;

	begin_line(b, rec, status);
	if (id != NULL)
		put_string(b, "id", id);
	if (job_id != NULL)
		put_string(b, "job_id", job_id);
	buf_puts(b, ",\"errors\":[");
	json_array_foreach(errors, i, err) {
		if (i > 0)
			buf_putc(b, ',');
		put_error(b, err);
	}
	buf_putc(b, ']');
	end_line(res, rec, status);
}

json_t *
results_make_error(const char *code, const char *message)
{
	json_t *err = json_pack("{s:s, s:s, s:[]}", "code", code, "message",
	    message, "fields");
	struct buf c, m;

	if (err != NULL)
		return err;
	/*
	 * jansson rejects invalid UTF-8.  Text from Salesforce can be invalid,
	 * and so can text cut at a size limit inside a character.
	 */
	buf_init(&c, 0);
	buf_init(&m, 0);
	buf_put_utf8(&c, code, strlen(code));
	buf_put_utf8(&m, message, strlen(message));
	err = json_pack("{s:s, s:s, s:[]}", "code", c.data ? c.data : "",
	    "message", m.data ? m.data : "", "fields");
	buf_free(&c);
	buf_free(&m);
	return err;
}

void
results_error(struct results *res, struct record *rec,
    enum result_status status, const char *code, const char *fmt, ...)
{
	char message[1024];
	json_t *errors;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);

	errors = json_array();
	json_array_append_new(errors, results_make_error(code, message));
	results_errors(res, rec, status, errors, NULL, NULL);
	json_decref(errors);
}

int
results_flush(struct results *res)
{
	if (res->write_error == 0 && fflush(res->out) == EOF)
		res->write_error = errno ? errno : EIO;
	return res->write_error ? -1 : 0;
}

unsigned long
results_total(const struct results *res)
{
	unsigned long total = 0;
	int i;

	for (i = 0; i < RESULT_NSTATUS; i++)
		total += res->count[i];
	return total;
}

/* Append ", N status" for every status with a count to B. */
static void
put_counts(struct buf *b, const unsigned long *count, bool all)
{
	int i;

	for (i = 0; i < RESULT_NSTATUS; i++) {
		if (all || count[i] > 0)
			buf_printf(b, "%s%lu %s", b->len > 0 ? ", " : "",
			    count[i], status_names[i]);
	}
}

void
results_summary(const struct results *res, double seconds)
{
	struct buf b;
	unsigned long total;
	size_t i;
	int st;

	buf_init(&b, 0);
	put_counts(&b, res->count, true);
	log_msg(res->lg, LOG_ERROR, "%lu records in %.1fs: %s",
	    results_total(res), seconds, b.data);

	for (i = 0; res->topic_count != NULL && i <= res->n_mappings; i++) {
		for (total = 0, st = 0; st < RESULT_NSTATUS; st++)
			total += res->topic_count[i][st];
		if (total == 0)
			continue;
		buf_clear(&b);
		put_counts(&b, res->topic_count[i], false);
		log_msg(res->lg, LOG_ERROR, "  %s: %lu records: %s",
		    i < res->n_mappings ? res->mappings[i].topic :
		    "(no mapping)", total, b.data);
	}
	buf_free(&b);
}

void
results_free(struct results *res)
{
	buf_free(&res->line);
	free(res->topic_count);
}
