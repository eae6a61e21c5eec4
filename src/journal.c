/*
 * journal.c - the journal of open bulk jobs (--journal FILE).
 *
 * Writes go straight to the descriptor with write(2) and fsync(2), never
 * through stdio, so that an entry reported as written is on disk.
 * Reading validates each line with jansson and takes "data" and "kafka"
 * from the line's text with jsonscan, because jansson would turn a long
 * number into a double.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "journal.h"
#include "jsonscan.h"
#include "xalloc.h"

/* Write all LEN bytes of P to FD; returns -1 with errno set. */
static int
write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
sync_fd(int fd)
{
	while (fsync(fd) == -1) {
		if (errno != EINTR)
			return -1;
	}
	return 0;
}

/* Sync the directory of PATH, so that a new journal file survives a crash. */
static void
sync_parent(const char *path, const struct logger *lg)
{
	char *copy = xstrdup(path);
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);

	if (fd == -1 || sync_fd(fd) == -1)
		log_debug(lg, "cannot sync the directory of journal \"%s\": %s",
		    path, strerror(errno));
	if (fd != -1)
		close(fd);
	free(copy);
}

/* End a last line cut short by a crash, so the next entry starts on a line of its own. */
static int
end_partial_line(int fd)
{
	struct stat st;
	char c;

	if (fstat(fd, &st) == -1)
		return -1;
	if (st.st_size == 0 || !S_ISREG(st.st_mode))
		return 0;
	if (pread(fd, &c, 1, st.st_size - 1) != 1)
		return -1;
	return c == '\n' ? 0 : write_all(fd, "\n", 1);
}

struct journal *
journal_open(const char *path, const struct logger *lg)
{
	struct journal *j;
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd == -1 || end_partial_line(fd) == -1) {
		log_error(lg, "cannot open journal \"%s\": %s", path,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return NULL;
	}
	sync_parent(path, lg);
	j = xcalloc(1, sizeof(*j));
	j->path = xstrdup(path);
	j->fd = fd;
	j->lg = lg;
	buf_init(&j->entry, 0);
	return j;
}

static void
put_member(struct buf *b, const char *key, const char *value)
{
	buf_printf(b, ",\"%s\":", key);
	if (value == NULL) {
		buf_puts(b, "null");
		return;
	}
	buf_putc(b, '"');
	buf_json_escape(b, value, strlen(value));
	buf_putc(b, '"');
}

void
journal_begin_job(struct journal *j, const char *job_id,
    const char *api_version, const struct mapping *map, size_t n_records)
{
	struct buf *b = &j->entry;

	buf_clear(b);
	buf_puts(b, "{\"entry\":\"job\"");
	put_member(b, "job_id", job_id);
	put_member(b, "api_version", api_version);
	put_member(b, "topic", map->topic);
	put_member(b, "sobject", map->sobject);
	put_member(b, "operation", operation_name(map->operation));
	put_member(b, "external_id_field", map->operation == OP_UPSERT ?
	    map->external_id_field : NULL);
	buf_printf(b, ",\"records\":%zu}\n", n_records);
}

/*
 * Append the JSON text S to B on one line.  A line break can only be
 * whitespace between tokens in valid JSON (a kcat payload may hold
 * pretty-printed JSON), so it becomes a space and no value changes.
 */
static void
put_one_line(struct buf *b, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		buf_putc(b, s[i] == '\n' || s[i] == '\r' ? ' ' : s[i]);
}

void
journal_add_record(struct journal *j, const char *job_id,
    const struct record *rec)
{
	struct buf *b = &j->entry;

	buf_puts(b, "{\"entry\":\"record\"");
	put_member(b, "job_id", job_id);
	put_member(b, "source", rec->source);
	buf_printf(b, ",\"line\":%ld", rec->line);
	put_member(b, "topic", rec->topic);
	if (rec->has_kafka)
		buf_printf(b, ",\"kafka\":{\"partition\":%ld,\"offset\":%lld}",
		    (long)rec->partition, (long long)rec->offset);
	if (rec->key != NULL)
		put_member(b, "key", rec->key);
	buf_puts(b, ",\"data\":");
	put_one_line(b, rec->data, rec->data_len);
	buf_puts(b, "}\n");
}

static int
append(struct journal *j, const char *text, size_t len)
{
	if (write_all(j->fd, text, len) == -1 || sync_fd(j->fd) == -1) {
		log_error(j->lg, "cannot write journal \"%s\": %s", j->path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

int
journal_commit(struct journal *j)
{
	int rc = append(j, j->entry.data, j->entry.len);

	buf_clear(&j->entry);
	return rc;
}

int
journal_mark_done(struct journal *j, const char *job_id, const char *state)
{
	struct buf line;
	int rc;

	buf_init(&line, 0);
	buf_puts(&line, "{\"entry\":\"done\"");
	put_member(&line, "job_id", job_id);
	put_member(&line, "state", state);
	buf_puts(&line, "}\n");
	rc = append(j, line.data, line.len);
	buf_free(&line);
	return rc;
}

void
journal_close(struct journal *j)
{
	if (j == NULL)
		return;
	close(j->fd);
	buf_free(&j->entry);
	free(j->path);
	free(j);
}

/* Reading. */

/* The state of journal_read(): the line being read and the job it continues. */
struct reading {
	const char *path;
	long line;
	const struct logger *lg;
	struct journal_contents *jc;
	struct journal_job *open;	/* the job whose records come next */
};

static void
skip_line(const struct reading *r, const char *why)
{
	log_warn(r->lg, "journal %s:%ld: %s; skipping the line", r->path,
	    r->line, why);
}

/*
 * Read one line of FP into B without its LF.  Returns 1 when a line was
 * read, 0 at the end of the file; *TOO_LONG is set when the line passed
 * JOURNAL_MAX_LINE, and then its bytes were dropped.
 */
static int
read_line(FILE *fp, struct buf *b, bool *too_long)
{
	int c;
	char ch;

	buf_clear(b);
	*too_long = false;
	while ((c = getc(fp)) != EOF && c != '\n') {
		ch = (char)c;
		if (!*too_long && buf_append(b, &ch, 1) == -1)
			*too_long = true;
	}
	return c == EOF && b->len == 0 && !*too_long ? 0 : 1;
}

/* A Salesforce record Id: 15 or 18 letters and digits. */
static bool
valid_id(const char *s)
{
	size_t i, n = s ? strlen(s) : 0;

	if (n != 15 && n != 18)
		return false;
	for (i = 0; i < n; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' &&
		    s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
			return false;
	}
	return true;
}

/* An API version as it goes into a URL: "v" and digits with one dot. */
static bool
valid_version(const char *s)
{
	size_t dots = 0;

	if (s == NULL || s[0] != 'v' || s[1] == '\0')
		return false;
	for (s++; *s != '\0'; s++) {
		if (*s == '.')
			dots++;
		else if (*s < '0' || *s > '9')
			return false;
	}
	return dots == 1;
}

static bool
parse_operation(const char *name, enum operation *op)
{
	enum operation o;

	for (o = OP_INSERT; o <= OP_HARD_DELETE; o++) {
		if (name != NULL && strcmp(name, operation_name(o)) == 0) {
			*op = o;
			return true;
		}
	}
	return false;
}

static char *
dup_string(json_t *root, const char *key)
{
	const char *s = json_string_value(json_object_get(root, key));

	return s ? xstrdup(s) : NULL;
}

static struct journal_job *
find_job(const struct journal_contents *jc, const char *job_id)
{
	size_t i;

	for (i = 0; job_id != NULL && i < jc->n_jobs; i++) {
		if (strcmp(jc->jobs[i].job_id, job_id) == 0)
			return &jc->jobs[i];
	}
	return NULL;
}

static void
read_job_line(struct reading *r, json_t *root)
{
	const char *id = json_string_value(json_object_get(root, "job_id"));
	const char *version = json_string_value(json_object_get(root,
	    "api_version"));
	json_t *count = json_object_get(root, "records");
	struct journal_job *job;
	enum operation op;

	r->open = NULL;
	if (!valid_id(id) || !valid_version(version) ||
	    !json_is_string(json_object_get(root, "topic")) ||
	    !json_is_string(json_object_get(root, "sobject")) ||
	    !parse_operation(json_string_value(json_object_get(root,
	    "operation")), &op) || !json_is_number(count) ||
	    json_number_value(count) < 0) {
		skip_line(r, "job entry without a valid job_id, api_version, "
		    "topic, sobject, operation or records");
		return;
	}
	if (find_job(r->jc, id) != NULL) {
		skip_line(r, "second entry for the same job_id");
		return;
	}
	r->jc->jobs = xreallocarray(r->jc->jobs, r->jc->n_jobs + 1,
	    sizeof(*r->jc->jobs));
	job = &r->jc->jobs[r->jc->n_jobs++];
	memset(job, 0, sizeof(*job));
	job->job_id = xstrdup(id);
	job->api_version = xstrdup(version);
	job->map.topic = dup_string(root, "topic");
	job->map.sobject = dup_string(root, "sobject");
	job->map.operation = op;
	job->map.mode = MODE_BULK;
	job->map.external_id_field = dup_string(root, "external_id_field");
	job->expected = (size_t)json_number_value(count);
	job->recs = xcalloc(job->expected ? job->expected : 1,
	    sizeof(*job->recs));
	job->line = r->line;
	r->open = job;
}

/* Take "kafka" from the line's text: its offset may not fit a double. */
static int
read_kafka(const char *text, size_t len, struct journal_record *rec)
{
	struct json_member m;
	json_t *kafka;
	json_int_t partition, offset;
	int rc;

	if (!jsonscan_find(text, len, "kafka", false, &m))
		return 0;
	kafka = json_loadb(m.value, m.value_len, 0, NULL);
	rc = json_unpack(kafka, "{s:I, s:I}", "partition", &partition,
	    "offset", &offset);
	json_decref(kafka);
	if (rc == -1 || partition < INT32_MIN || partition > INT32_MAX)
		return -1;
	rec->has_kafka = true;
	rec->partition = (int32_t)partition;
	rec->offset = (int64_t)offset;
	return 0;
}

static void
read_record_line(struct reading *r, json_t *root, const char *text,
    size_t len)
{
	const char *id = json_string_value(json_object_get(root, "job_id"));
	struct journal_job *job = r->open;
	struct journal_record *rec;
	struct json_member data;
	json_t *line = json_object_get(root, "line");

	if (job == NULL || id == NULL || strcmp(id, job->job_id) != 0 ||
	    job->n_recs == job->expected) {
		skip_line(r, "record entry outside the entry of its job");
		return;
	}
	if (!json_is_string(json_object_get(root, "source")) ||
	    !json_is_number(line) ||
	    !json_is_object(json_object_get(root, "data")) ||
	    !jsonscan_find(text, len, "data", false, &data)) {
		skip_line(r, "record entry without a valid source, line or "
		    "data");
		return;
	}
	rec = &job->recs[job->n_recs];
	memset(rec, 0, sizeof(*rec));
	if (read_kafka(text, len, rec) == -1) {
		skip_line(r, "record entry with an invalid kafka member");
		return;
	}
	rec->source = dup_string(root, "source");
	rec->line = (long)json_number_value(line);
	rec->topic = dup_string(root, "topic");
	rec->key = dup_string(root, "key");
	rec->data = xstrndup(data.value, data.value_len);
	rec->data_len = data.value_len;
	job->n_recs++;
}

static void
read_done_line(struct reading *r, json_t *root)
{
	struct journal_job *job = find_job(r->jc,
	    json_string_value(json_object_get(root, "job_id")));

	r->open = NULL;
	if (job == NULL) {
		skip_line(r, "done entry for a job without an entry");
		return;
	}
	job->done = true;
}

static void
read_entry(struct reading *r, const char *text, size_t len)
{
	json_t *root;
	const char *kind;

	root = json_loadb(text, len, JSON_REJECT_DUPLICATES |
	    JSON_DECODE_INT_AS_REAL, NULL);
	kind = json_string_value(json_object_get(root, "entry"));
	if (kind == NULL)
		skip_line(r, "not a journal entry (a line cut short by a crash "
		    "looks like this)");
	else if (strcmp(kind, "job") == 0)
		read_job_line(r, root);
	else if (strcmp(kind, "record") == 0)
		read_record_line(r, root, text, len);
	else if (strcmp(kind, "done") == 0)
		read_done_line(r, root);
	else
		skip_line(r, "unknown entry kind");
	json_decref(root);
}

int
journal_read(const char *path, struct journal_contents *jc,
    const struct logger *lg)
{
	struct reading r = { path, 0, lg, jc, NULL };
	struct buf line;
	bool too_long;
	FILE *fp;
	int err;

	memset(jc, 0, sizeof(*jc));
	fp = fopen(path, "r");
	if (fp == NULL) {
		log_error(lg, "cannot open journal \"%s\": %s", path,
		    strerror(errno));
		return -1;
	}
	buf_init(&line, JOURNAL_MAX_LINE);
	while (read_line(fp, &line, &too_long) == 1) {
		r.line++;
		if (too_long)
			skip_line(&r, "line longer than the journal's line limit");
		else if (line.len > 0)
			read_entry(&r, line.data, line.len);
	}
	err = ferror(fp) ? errno : 0;
	buf_free(&line);
	fclose(fp);
	if (err != 0) {
		log_error(lg, "cannot read journal \"%s\": %s", path,
		    strerror(err));
		journal_contents_free(jc);
		return -1;
	}
	return 0;
}

void
journal_contents_free(struct journal_contents *jc)
{
	size_t i, k;

	for (i = 0; i < jc->n_jobs; i++) {
		struct journal_job *job = &jc->jobs[i];

		for (k = 0; k < job->n_recs; k++) {
			free(job->recs[k].source);
			free(job->recs[k].topic);
			free(job->recs[k].key);
			free(job->recs[k].data);
		}
		free(job->recs);
		free(job->job_id);
		free(job->api_version);
		free(job->map.topic);
		free(job->map.sobject);
		free(job->map.external_id_field);
	}
	free(jc->jobs);
	memset(jc, 0, sizeof(*jc));
}
