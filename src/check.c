/*
 * check.c - `sfsink --check`: compare the configuration with the org.
 *
 * Describes are fetched through the same api layer as a run, so sign-in,
 * retries and the http settings behave the same.  The check drives the
 * event loop itself and blocks until the describes it needs have arrived.
 * Records are parsed with the run's envelope and record code, so a line
 * the check accepts routes the same way in a run.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "api.h"
#include "check.h"
#include "clock.h"
#include "envelope.h"
#include "http.h"
#include "input.h"
#include "record.h"
#include "sink.h"
#include "xalloc.h"

#define MAX_WAIT_MS	1000
#define MAX_SUGGEST	3	/* field names offered in one fix */
#define MAX_NAME	80	/* longest API name Salesforce allows */

enum describe_state {
	DESCRIBE_PENDING,
	DESCRIBE_OK,
	DESCRIBE_NOT_FOUND,	/* 404: no such sObject, or not visible */
	DESCRIBE_FAILED,	/* any other outcome; the check ends with 3 */
};

/* The describe of one sObject, fetched at most once per check. */
struct describe {
	char *name;			/* owned, as first requested */
	enum describe_state state;
	json_t *root;			/* owned reference; NULL unless OK */
	char error[320];		/* why the state is FAILED */
	struct check *check;
	struct describe *next;
};

/* One distinct problem and where in the input it was seen. */
struct problem {
	long map_index;			/* mapping it belongs to, or -1 */
	char *topic;			/* owned; used when map_index is -1 */
	char *text;			/* owned: "what is wrong; the fix" */
	char *where[CHECK_MAX_WHERE];	/* owned "FILE:LINE" strings */
	unsigned long count;		/* records that had it */
	struct problem *next;
};

struct check {
	const struct config *cfg;
	const struct logger *lg;
	struct http *http;
	struct api *api;
	struct describe *describes;
	int pending;			/* describe requests in flight */
	struct problem *problems;	/* in the order found */
	struct problem **tail;
	unsigned long *records;		/* per mapping, records read */
	bool failed;			/* exit 3: the org could not be read */
};

/* Describes. */

static void
on_describe(struct api_call *call, void *arg)
{
	struct describe *d = arg;
	struct http_request *req = call->req;
	const char *reason;
	char masked[200];

	d->state = DESCRIBE_FAILED;
	if (call->outcome == API_STOPPED) {
		reason = api_stop_reason(d->check->api);
		snprintf(d->error, sizeof(d->error), "%s", reason != NULL ?
		    reason : "the api layer stopped");
	} else if (call->outcome == API_TRANSPORT) {
		snprintf(d->error, sizeof(d->error), "%s",
		    http_request_error(req));
	} else if (req->status == 404) {
		d->state = DESCRIBE_NOT_FOUND;
	} else if (req->status == 200) {
		d->root = json_loadb(req->response.data, req->response.len, 0,
		    NULL);
		if (json_is_object(d->root) &&
		    json_is_array(json_object_get(d->root, "fields"))) {
			d->state = DESCRIBE_OK;
		} else {
			json_decref(d->root);
			d->root = NULL;
			snprintf(d->error, sizeof(d->error), "the response is "
			    "not a describe object with \"fields\"");
		}
	} else {
		log_mask(masked, sizeof(masked), req->response.data ?
		    req->response.data : "", req->response.len);
		snprintf(d->error, sizeof(d->error), "HTTP %ld: %s",
		    req->status, masked);
	}
	d->check->pending--;
	api_call_free(call);
}

/* Drive the event loop until every describe request has ended. */
static int
wait_describes(struct check *ck)
{
	int64_t now, due, ms;
	bool ready;

	while (ck->pending > 0) {
		now = clock_now_ns();
		due = api_next_due(ck->api);
		ms = MAX_WAIT_MS;
		if (due != INT64_MAX)
			ms = due <= now ? 0 : (due - now) / NS_PER_MS + 1;
		if (ms > MAX_WAIT_MS)
			ms = MAX_WAIT_MS;
		if (http_wait(ck->http, -1, (int)ms, &ready) == -1 ||
		    http_perform(ck->http) == -1) {
			log_error(ck->lg, "the event loop failed while "
			    "fetching describes");
			return -1;
		}
		api_run_due(ck->api, clock_now_ns());
	}
	return 0;
}

static struct describe *
describe_find(const struct check *ck, const char *name)
{
	struct describe *d;

	for (d = ck->describes; d != NULL; d = d->next) {
		if (strcasecmp(d->name, name) == 0)
			return d;
	}
	return NULL;
}

/* Request the describe of NAME unless it was requested before. */
static struct describe *
describe_request(struct check *ck, const char *name)
{
	struct describe *d = describe_find(ck, name);
	struct api_call *call;
	char *path;

	if (d != NULL)
		return d;
	d = xcalloc(1, sizeof(*d));
	d->name = xstrdup(name);
	d->check = ck;
	d->next = ck->describes;
	ck->describes = d;

	path = xasprintf("/services/data/%s/sobjects/%s/describe",
	    ck->cfg->api_version, name);
	call = api_call_new("GET", path, NULL, 0, NULL, true, on_describe, d);
	ck->pending++;
	log_info(ck->lg, "fetching the describe of %s", name);
	api_send(ck->api, call);
	return d;
}

/*
 * Return the describe of NAME, fetching it now if needed, or NULL if the
 * event loop failed.
 */
static struct describe *
describe_get(struct check *ck, const char *name)
{
	struct describe *d = describe_request(ck, name);

	if (wait_describes(ck) == -1) {
		ck->failed = true;
		return NULL;
	}
	if (d->state == DESCRIBE_FAILED)
		ck->failed = true;
	return d;
}

static const char *
describe_name(const struct describe *d)
{
	const char *name = json_string_value(json_object_get(d->root, "name"));

	return name != NULL ? name : d->name;
}

static bool
flag(json_t *obj, const char *key)
{
	return json_is_true(json_object_get(obj, key));
}

static const char *
field_name(json_t *field)
{
	const char *name = json_string_value(json_object_get(field, "name"));

	return name != NULL ? name : "";
}

/* Find the describe entry of field NAME (without case), or NULL. */
static json_t *
find_field(const struct describe *d, const char *name)
{
	json_t *fields = json_object_get(d->root, "fields"), *f;
	size_t i;

	json_array_foreach(fields, i, f) {
		if (strcasecmp(field_name(f), name) == 0)
			return f;
	}
	return NULL;
}

/* Find the reference field whose relationshipName is NAME (without case). */
static json_t *
find_relationship(const struct describe *d, const char *name)
{
	json_t *fields = json_object_get(d->root, "fields"), *f;
	const char *rel;
	size_t i;

	json_array_foreach(fields, i, f) {
		rel = json_string_value(json_object_get(f,
		    "relationshipName"));
		if (rel != NULL && strcasecmp(rel, name) == 0)
			return f;
	}
	return NULL;
}

static bool
is_lookup_key(json_t *field)
{
	return flag(field, "externalId") || flag(field, "idLookup");
}

/* Suggestions for fixes. */

/*
 * Append NAME to the list in BUF as "A", "A or B", "A, B or C"; I is the
 * 0-based position and LAST whether NAME ends the list.
 */
static void
append_name(char *buf, size_t len, size_t i, bool last, const char *name)
{
	size_t used = strlen(buf);

	snprintf(buf + used, len - used, "%s%s", i == 0 ? "" : last ? " or " :
	    ", ", name);
}

/*
 * Write up to MAX_SUGGEST field names of D that can identify a record to
 * BUF: external ID fields first, then other idLookup fields except Id.
 * BUF is "" when there is none.
 */
static void
suggest_lookup_fields(const struct describe *d, char *buf, size_t len)
{
	json_t *fields = json_object_get(d->root, "fields"), *f;
	const char *names[MAX_SUGGEST];
	size_t i, n = 0;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		json_array_foreach(fields, i, f) {
			if (n == MAX_SUGGEST)
				break;
			if (pass == 0 ? !flag(f, "externalId") :
			    (flag(f, "externalId") || !flag(f, "idLookup") ||
			    strcmp(field_name(f), "Id") == 0))
				continue;
			names[n++] = field_name(f);
		}
	}
	buf[0] = '\0';
	for (i = 0; i < n; i++)
		append_name(buf, len, i, i + 1 == n, names[i]);
}

/* Write up to MAX_SUGGEST relationship names of D to BUF, or "". */
static void
suggest_relationships(const struct describe *d, char *buf, size_t len)
{
	json_t *fields = json_object_get(d->root, "fields"), *f;
	const char *names[MAX_SUGGEST], *rel;
	size_t i, n = 0;

	json_array_foreach(fields, i, f) {
		rel = json_string_value(json_object_get(f,
		    "relationshipName"));
		if (rel != NULL && n < MAX_SUGGEST)
			names[n++] = rel;
	}
	buf[0] = '\0';
	for (i = 0; i < n; i++)
		append_name(buf, len, i, i + 1 == n, names[i]);
}

/* Find the field of D closest to NAME within two edits, or NULL. */
static const char *
closest_field(const struct describe *d, const char *name)
{
	json_t *fields = json_object_get(d->root, "fields"), *f;
	const char *best = NULL;
	size_t i, dist, best_dist = 3;

	json_array_foreach(fields, i, f) {
		dist = config_name_distance(name, field_name(f));
		if (dist < best_dist) {
			best = field_name(f);
			best_dist = dist;
		}
	}
	return best;
}

/* Problems. */

static struct problem *
find_problem(const struct check *ck, long map_index, const char *topic,
    const char *text)
{
	struct problem *p;

	for (p = ck->problems; p != NULL; p = p->next) {
		if (p->map_index == map_index && strcmp(p->text, text) == 0 &&
		    (map_index != -1 || strcmp(p->topic, topic) == 0))
			return p;
	}
	return NULL;
}

/*
 * Record a problem of mapping MAP_INDEX (or, when -1, of TOPIC), seen in
 * record REC (NULL for a problem of the mapping itself).
 */
static void
add_problem(struct check *ck, long map_index, const char *topic,
    const struct record *rec, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
add_problem(struct check *ck, long map_index, const char *topic,
    const struct record *rec, const char *fmt, ...)
{
	struct problem *p;
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);

	p = find_problem(ck, map_index, topic, text);
	if (p == NULL) {
		p = xcalloc(1, sizeof(*p));
		p->map_index = map_index;
		p->topic = xstrdup(topic);
		p->text = xstrdup(text);
		*ck->tail = p;
		ck->tail = &p->next;
	}
	if (rec == NULL)
		return;
	if (p->count < CHECK_MAX_WHERE)
		p->where[p->count] = xasprintf("%s:%ld", rec->source,
		    rec->line);
	p->count++;
}

static void
free_problems(struct problem *p)
{
	struct problem *next;
	size_t i;

	for (; p != NULL; p = next) {
		next = p->next;
		for (i = 0; i < CHECK_MAX_WHERE; i++)
			free(p->where[i]);
		free(p->topic);
		free(p->text);
		free(p);
	}
}

/* Mapping checks. */

static bool
operation_allowed(json_t *root, enum operation op)
{
	switch (op) {
	case OP_INSERT:
		return flag(root, "createable");
	case OP_UPDATE:
		return flag(root, "updateable");
	case OP_UPSERT:
		return flag(root, "createable") && flag(root, "updateable");
	case OP_DELETE:
	case OP_HARD_DELETE:
		/*
		 * NOTE: hardDelete also needs the "Bulk API Hard Delete" user
		 * permission, which the describe does not show.
		 */
		return flag(root, "deletable");
	}
	return false;
}

/* Return the permissions an operation needs, as describe names them. */
static const char *
operation_needs(enum operation op)
{
	switch (op) {
	case OP_INSERT:
		return "createable";
	case OP_UPDATE:
		return "updateable";
	case OP_UPSERT:
		return "both createable and updateable";
	case OP_DELETE:
	case OP_HARD_DELETE:
		return "deletable";
	}
	return "?";
}

static void
check_operation(struct check *ck, long i, const struct describe *d)
{
	static const enum operation ops[] = {
		OP_INSERT, OP_UPDATE, OP_UPSERT, OP_DELETE,
	};
	const struct mapping *m = &ck->cfg->mappings[i];
	char allowed[128] = "";
	size_t k, n = 0;

	if (operation_allowed(d->root, m->operation))
		return;
	for (k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
		if (operation_allowed(d->root, ops[k]))
			append_name(allowed, sizeof(allowed), n++, false,
			    operation_name(ops[k]));
	}
	add_problem(ck, i, m->topic, NULL, "%s is not %s, so %s is not "
	    "allowed; %s%s%sor grant the user access", describe_name(d),
	    operation_needs(m->operation), operation_name(m->operation),
	    n > 0 ? "use an operation it allows (" : "", allowed,
	    n > 0 ? ") " : "");
}

static void
check_external_id(struct check *ck, long i, const struct describe *d)
{
	const struct mapping *m = &ck->cfg->mappings[i];
	char fix[384], names[200];
	json_t *field;

	if (m->operation != OP_UPSERT || m->external_id_field == NULL)
		return;
	field = find_field(d, m->external_id_field);
	if (field != NULL && is_lookup_key(field))
		return;

	suggest_lookup_fields(d, names, sizeof(names));
	if (names[0] != '\0')
		snprintf(fix, sizeof(fix), "external_id_field must name an "
		    "external ID field such as %s", names);
	else
		snprintf(fix, sizeof(fix), "%s has no external ID field; "
		    "create one or use insert", describe_name(d));
	if (field == NULL)
		add_problem(ck, i, m->topic, NULL, "%s has no field \"%s\"; "
		    "%s", describe_name(d), m->external_id_field, fix);
	else
		add_problem(ck, i, m->topic, NULL, "field %s of %s is not an "
		    "external ID or idLookup field; %s", field_name(field),
		    describe_name(d), fix);
}

/* Fetch every mapped sObject's describe and check each mapping. */
static void
check_mappings(struct check *ck)
{
	const struct config *cfg = ck->cfg;
	struct describe *d;
	size_t i;

	for (i = 0; i < cfg->n_mappings; i++)
		describe_request(ck, cfg->mappings[i].sobject);
	if (wait_describes(ck) == -1) {
		ck->failed = true;
		return;
	}

	for (i = 0; i < cfg->n_mappings; i++) {
		d = describe_find(ck, cfg->mappings[i].sobject);
		switch (d->state) {
		case DESCRIBE_OK:
			check_operation(ck, (long)i, d);
			check_external_id(ck, (long)i, d);
			break;
		case DESCRIBE_NOT_FOUND:
			add_problem(ck, (long)i, cfg->mappings[i].topic, NULL,
			    "sObject \"%s\" not found; check the sobject name "
			    "and that the user can see the object",
			    cfg->mappings[i].sobject);
			break;
		default:
			ck->failed = true;
			add_problem(ck, (long)i, cfg->mappings[i].topic, NULL,
			    "cannot describe %s: %s", d->name, d->error);
			break;
		}
	}
}

/* Record checks. */

/* Can operation OP set FIELD?  Sets *NEEDS to the missing permission. */
static bool
field_writable(json_t *field, enum operation op, const char **needs)
{
	switch (op) {
	case OP_INSERT:
		*needs = "not createable";
		return flag(field, "createable");
	case OP_UPDATE:
		*needs = "not updateable";
		return flag(field, "updateable");
	case OP_UPSERT:
		*needs = "neither createable nor updateable";
		return flag(field, "createable") || flag(field, "updateable");
	default:
		*needs = "";
		return true;
	}
}

static void
check_writable(struct check *ck, long i, const struct describe *d,
    const struct record *rec, json_t *field)
{
	const struct mapping *m = &ck->cfg->mappings[i];
	const char *needs;

	if (field_writable(field, m->operation, &needs))
		return;
	add_problem(ck, i, m->topic, rec, "field %s of %s is %s, so %s cannot "
	    "set it; remove it from the records", field_name(field),
	    describe_name(d), needs, operation_name(m->operation));
}

static void
check_plain_field(struct check *ck, long i, const struct describe *d,
    const struct record *rec, const char *key)
{
	const struct mapping *m = &ck->cfg->mappings[i];
	json_t *field = find_field(d, key);
	const char *near;

	if (field != NULL) {
		check_writable(ck, i, d, rec, field);
		return;
	}
	near = closest_field(d, key);
	if (near != NULL)
		add_problem(ck, i, m->topic, rec, "%s has no field \"%s\"; "
		    "did you mean %s?", describe_name(d), key, near);
	else
		add_problem(ck, i, m->topic, rec, "%s has no field \"%s\"; "
		    "fix the name or remove the field from the records",
		    describe_name(d), key);
}

/*
 * Return the sObject a parent reference through FIELD points to: the
 * "type" of its "attributes" when given, else the only entry of referenceTo.
 * Returns NULL after adding a problem.
 */
static const char *
parent_type(struct check *ck, long i, const struct describe *d,
    const struct record *rec, const char *rel, json_t *field, json_t *ref)
{
	const char *topic = ck->cfg->mappings[i].topic;
	json_t *targets = json_object_get(field, "referenceTo"), *t;
	const char *type;
	char names[200] = "";
	size_t k;

	json_array_foreach(targets, k, t)
		append_name(names, sizeof(names), k,
		    k + 1 == json_array_size(targets), json_string_value(t) ?
		    json_string_value(t) : "?");

	type = json_string_value(json_object_get(json_object_get(ref,
	    "attributes"), "type"));
	if (type == NULL && json_array_size(targets) == 1)
		return json_string_value(json_array_get(targets, 0));
	if (type == NULL) {
		add_problem(ck, i, topic, rec, "relationship %s of %s can "
		    "point to %s; name the parent with \"attributes\": "
		    "{\"type\": ...} in the reference", rel, describe_name(d),
		    names);
		return NULL;
	}
	json_array_foreach(targets, k, t) {
		if (json_is_string(t) && strcasecmp(json_string_value(t),
		    type) == 0)
			return json_string_value(t);
	}
	add_problem(ck, i, topic, rec, "relationship %s of %s cannot point "
	    "to \"%s\"; the attributes type must be %s", rel,
	    describe_name(d), type, names);
	return NULL;
}

static bool
valid_api_name(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= MAX_NAME && isalpha((unsigned char)s[0]) &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_") == n;
}

/* Check the external ID field KEY that identifies the parent. */
static void
check_parent_key(struct check *ck, long i, const struct record *rec,
    const char *rel, const struct describe *parent, const char *key)
{
	const char *topic = ck->cfg->mappings[i].topic;
	json_t *field = find_field(parent, key);
	char names[200], fix[384];

	if (field != NULL && is_lookup_key(field))
		return;
	suggest_lookup_fields(parent, names, sizeof(names));
	if (names[0] != '\0')
		snprintf(fix, sizeof(fix), "use an external ID field of %s "
		    "such as %s", describe_name(parent), names);
	else
		snprintf(fix, sizeof(fix), "%s has no external ID field to "
		    "reference it by", describe_name(parent));
	if (field == NULL)
		add_problem(ck, i, topic, rec, "%s has no field \"%s\" "
		    "(parent reference %s); %s", describe_name(parent), key,
		    rel, fix);
	else
		add_problem(ck, i, topic, rec, "field %s of %s is not an "
		    "external ID or idLookup field, so parent reference %s "
		    "cannot use it; %s", field_name(field),
		    describe_name(parent), rel, fix);
}

/* Report a relationship that does not exist, with the names that do. */
static void
report_unknown_relationship(struct check *ck, long i,
    const struct describe *d, const struct record *rec, const char *key)
{
	const char *topic = ck->cfg->mappings[i].topic;
	json_t *field = find_field(d, key);
	const char *rel;
	char names[200];

	rel = json_string_value(json_object_get(field, "relationshipName"));
	if (rel != NULL) {
		add_problem(ck, i, topic, rec, "%s is a lookup field; "
		    "reference a parent by external ID through its "
		    "relationship name %s", field_name(field), rel);
		return;
	}
	suggest_relationships(d, names, sizeof(names));
	if (names[0] != '\0')
		add_problem(ck, i, topic, rec, "%s has no relationship "
		    "\"%s\"; a parent reference must use a relationship name "
		    "such as %s", describe_name(d), key, names);
	else
		add_problem(ck, i, topic, rec, "%s has no relationship \"%s\" "
		    "and no lookup fields; remove the nested object",
		    describe_name(d), key);
}

/* "Rel": {"Ext__c": value}: a parent named by one of its external IDs. */
static void
check_parent_ref(struct check *ck, long i, const struct describe *d,
    const struct record *rec, const char *key, json_t *ref)
{
	const char *topic = ck->cfg->mappings[i].topic;
	json_t *field = find_relationship(d, key), *value;
	const char *type, *member, *parent_key = NULL;
	struct describe *parent;
	size_t n = 0;

	if (field == NULL) {
		report_unknown_relationship(ck, i, d, rec, key);
		return;
	}
	check_writable(ck, i, d, rec, field);

	json_object_foreach(ref, member, value) {
		if (strcmp(member, "attributes") != 0) {
			parent_key = member;
			n++;
		}
	}
	if (n != 1) {
		add_problem(ck, i, topic, rec, "parent reference %s has %zu "
		    "fields; it must have exactly one, an external ID field "
		    "of the parent", key, n);
		return;
	}

	type = parent_type(ck, i, d, rec, key, field, ref);
	if (type == NULL)
		return;
	if (!valid_api_name(type)) {
		add_problem(ck, i, topic, rec, "relationship %s of %s points "
		    "to an invalid sObject name", key, describe_name(d));
		return;
	}
	parent = describe_get(ck, type);
	if (parent == NULL)
		return;
	if (parent->state == DESCRIBE_FAILED) {
		add_problem(ck, i, topic, rec, "cannot describe %s, the "
		    "parent of %s: %s", type, key, parent->error);
		return;
	}
	if (parent->state == DESCRIBE_NOT_FOUND) {
		add_problem(ck, i, topic, rec, "sObject %s of parent "
		    "reference %s not found; check that the user can see it",
		    type, key);
		return;
	}
	check_parent_key(ck, i, rec, key, parent, parent_key);
}

/* Check every field name in the data of REC, routed to mapping I. */
static void
check_record_fields(struct check *ck, long i, const struct record *rec)
{
	const struct mapping *m = &ck->cfg->mappings[i];
	struct describe *d = describe_find(ck, m->sobject);
	json_t *data, *value;
	const char *key;

	/* Delete sends only the Id, which record_validate() checked. */
	if (d->state != DESCRIBE_OK || m->operation == OP_DELETE ||
	    m->operation == OP_HARD_DELETE)
		return;

	data = json_loadb(rec->data, rec->data_len, 0, NULL);
	json_object_foreach(data, key, value) {
		if (strcmp(key, "attributes") == 0)
			continue;
		if (m->operation == OP_UPDATE && strcasecmp(key, "Id") == 0)
			continue;
		if (json_is_object(value))
			check_parent_ref(ck, i, d, rec, key, value);
		else
			check_plain_field(ck, i, d, rec, key);
		if (ck->failed)
			break;
	}
	json_decref(data);
}

/* Input callback: route one line as a run would, then check its fields. */
static void
on_line(void *arg, const char *source, long lineno, const char *line,
    size_t len, bool too_long)
{
	struct check *ck = arg;
	struct record *rec = record_new(source, lineno);
	const char *code;
	char msg[512];
	long i;

	if (too_long) {
		add_problem(ck, -1, "input", rec, "line is longer than the "
		    "%u-byte limit; a run rejects it", INPUT_MAX_LINE);
	} else if (envelope_parse(line, len, rec, &code, msg,
	    sizeof(msg)) == -1) {
		add_problem(ck, -1, "input", rec, "%s: %s; a run rejects the "
		    "line", code, msg);
	} else if ((rec->map = config_find_mapping(ck->cfg, rec->topic)) ==
	    NULL) {
		add_problem(ck, -1, rec->topic, rec, "no entry in "
		    "topic_mappings; add one to load these records");
	} else {
		i = rec->map - ck->cfg->mappings;
		ck->records[i]++;
		if (record_validate(rec, &code, msg, sizeof(msg)) == -1)
			add_problem(ck, i, rec->map->topic, rec, "%s: %s",
			    code, msg);
		if (!ck->failed)
			check_record_fields(ck, i, rec);
	}
	record_free(rec);
}

/* Read every input line; returns 2 when a file cannot be opened or read. */
static int
check_input(struct check *ck, char *const *paths, size_t n_paths)
{
	struct input *in;
	int rc = 0;

	in = input_open(paths, n_paths, INPUT_MAX_LINE, ck->lg);
	if (in == NULL)
		return EXIT_USAGE;
	while (rc == 0 && !ck->failed && input_fd(in) != -1)
		rc = input_read(in, on_line, ck);
	rc = input_failures(in) > 0 ? EXIT_USAGE : 0;
	input_free(in);
	return rc;
}

/* The report. */

static void
print_problem(FILE *out, const char *topic, const struct problem *p)
{
	unsigned long k;

	fprintf(out, "%s: %s", topic, p->text);
	for (k = 0; k < p->count && k < CHECK_MAX_WHERE; k++)
		fprintf(out, "%s%s", k == 0 ? " (at " : ", ", p->where[k]);
	if (p->count > CHECK_MAX_WHERE)
		fprintf(out, " and %lu more", p->count - CHECK_MAX_WHERE);
	if (p->count > 0)
		fputc(')', out);
	fputc('\n', out);
}

static void
print_ok(FILE *out, const struct mapping *m, const struct describe *d,
    unsigned long records, bool with_input)
{
	fprintf(out, "%s: ok (%s %s", m->topic, describe_name(d),
	    operation_name(m->operation));
	if (m->operation == OP_UPSERT)
		fprintf(out, " by %s", field_name(find_field(d,
		    m->external_id_field)));
	if (m->mode != MODE_REALTIME)
		fprintf(out, ", %s", write_mode_name(m->mode));
	if (with_input)
		fprintf(out, ", %lu record%s", records,
		    records == 1 ? "" : "s");
	fputs(")\n", out);
}

/* Print the report; returns true when it has no problem. */
static bool
print_report(const struct check *ck, FILE *out, bool with_input)
{
	const struct config *cfg = ck->cfg;
	const struct problem *p;
	bool all_ok = true, ok;
	size_t i;

	for (i = 0; i < cfg->n_mappings; i++) {
		ok = true;
		for (p = ck->problems; p != NULL; p = p->next) {
			if (p->map_index == (long)i) {
				print_problem(out, cfg->mappings[i].topic, p);
				ok = false;
			}
		}
		if (ok)
			print_ok(out, &cfg->mappings[i], describe_find(ck,
			    cfg->mappings[i].sobject), ck->records[i],
			    with_input);
		all_ok = all_ok && ok;
	}
	for (p = ck->problems; p != NULL; p = p->next) {
		if (p->map_index == -1) {
			print_problem(out, p->topic, p);
			all_ok = false;
		}
	}
	return all_ok;
}

static void
check_free(struct check *ck)
{
	struct describe *d, *next;

	for (d = ck->describes; d != NULL; d = next) {
		next = d->next;
		json_decref(d->root);
		free(d->name);
		free(d);
	}
	free_problems(ck->problems);
	free(ck->records);
	api_free(ck->api);
	http_free(ck->http);
}

/* Sign in, check, and report; see check.h. */
static int
check_all(struct check *ck, char *const *paths, size_t n_paths, FILE *out)
{
	int status;

	ck->http = http_new(&ck->cfg->http, ck->lg);
	if (ck->http == NULL)
		return EXIT_FATAL;
	ck->api = api_new(ck->cfg, ck->http, ck->lg);
	if (api_login(ck->api) == -1)
		return EXIT_FATAL;

	check_mappings(ck);
	if (n_paths > 0 && !ck->failed) {
		status = check_input(ck, paths, n_paths);
		if (status != 0)
			return status;
	}

	if (!print_report(ck, out, n_paths > 0))
		status = EXIT_SOME_NOT_OK;
	else
		status = EXIT_ALL_OK;
	if (ck->failed)
		status = EXIT_FATAL;
	return status;
}

int
check_run(const struct config *cfg, const struct logger *lg,
    char *const *paths, size_t n_paths, FILE *out)
{
	struct check ck;
	int status;

	memset(&ck, 0, sizeof(ck));
	ck.cfg = cfg;
	ck.lg = lg;
	ck.tail = &ck.problems;
	ck.records = xcalloc(cfg->n_mappings, sizeof(*ck.records));

	status = check_all(&ck, paths, n_paths, out);
	if (fflush(out) == EOF || ferror(out)) {
		log_error(lg, "cannot write the check report: %s",
		    strerror(errno));
		status = EXIT_FATAL;
	}
	check_free(&ck);
	return status;
}
