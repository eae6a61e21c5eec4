/*
 * config.c - load the salesforce_sink block from YAML and check it.
 *
 * The file is read with libyaml's document API, so every node keeps its
 * line.  The document is then walked against a schema of one table of keys
 * per YAML block.  Each key has its type, the field it fills, its range and
 * its default, written as it would be in YAML and converted by the same
 * code as the file.  Errors do not stop the walk: each one is reported as
 * "FILE:LINE: PATH: problem", and config_load() then returns -1.
 *
 * Decisions the Redpanda Connect documentation leaves open:
 *
 * - Top level.  A document with an `output` or `outputs` key is a Redpanda
 *   Connect config: the block is taken from output.salesforce_sink (a
 *   sibling `label` is ignored, any other sibling is an error), and the
 *   other top-level sections of Redpanda Connect (input, pipeline, logger,
 *   ... see redpanda_keys) are ignored without being read, so a variable
 *   they use need not be set.  Any other document is the block itself,
 *   and an unknown key at its top level is an error like anywhere else.
 * - Null.  A key written with no value (`tls:` with its children
 *   commented out, or `null`, `~`) keeps its default.
 * - Zero durations.  http.timeout 0 means no timeout, as in Go's
 *   http.Client.  batch_period 0 means an incomplete batch is flushed
 *   without waiting for more records.  bulk_poll_interval and the backoff
 *   intervals must be greater than 0.
 * - tcp.keep_alive.  A 0 in idle, interval or count is replaced by its
 *   default (15s, 15s, 9), so readers of the struct see the effective
 *   setting.  A negative idle stays negative and means no probes.
 * - Limits the documentation does not give: bulk_batch_size 1 to 10000000
 *   (the batch is held in memory as CSV), max_in_flight and
 *   max_concurrent_bulk_jobs 1 to 1000, keep_alive.count 0 to 127 (the
 *   Linux TCP_KEEPCNT maximum), buffer sizes and max_response_header_bytes
 *   at least 1.
 * - Quoting.  An integer, number or boolean written in quotes ("1000") is
 *   an error.  ${VAR} in a plain scalar is expanded before the value is
 *   converted, so `bulk_batch_size: ${BATCH:1000}` works.
 * - access_log_level is matched without regard to case.
 * - Signing in.  The optional auth block (not in Redpanda Connect) picks
 *   the OAuth flow.  client_id is required unless auth.method is
 *   access_token, and client_secret only for client_credentials, the
 *   default.
 * - Files.  Paths (root_cas_file, cert_file, key_file, private_key_file)
 *   are not opened here: like the network, they are needed only once a
 *   request is about to be sent, and are read then.
 */
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "config.h"
#include "duration.h"
#include "interp.h"
#include "log.h"
#include "xalloc.h"

#define MAX_KEYS	32	/* keys in the largest block */
#define PATH_LEN	256
#define QUOTE_LEN	80	/* longest value quoted in a message */
#define MAX_NAME	80	/* longest name compared: the longest API name */

struct loader {
	const char *file;
	const struct logger *lg;
	yaml_document_t *doc;
	int nerr;
	bool secret_literal;	/* client_secret had no ${...} */
};

/* Location of a value: its key path ("http.tls.enabled") and its line. */
struct site {
	const char *path;
	int line;
};

enum ktype {
	T_STRING,	/* char *, NULL when empty */
	T_INT,		/* int64_t */
	T_FLOAT,	/* double */
	T_BOOL,		/* bool */
	T_DURATION,	/* int64_t nanoseconds */
	T_SPECIAL,	/* converted by key.conv */
	T_BLOCK,	/* a nested mapping */
	T_LIST,		/* a list of mappings */
};

#define F_REQUIRED	0x01	/* must be given, and not empty */
#define F_POSITIVE	0x02	/* duration greater than 0 */
#define F_SIGNED	0x04	/* duration may be negative */
#define F_NOTE_LITERAL	0x08	/* remember whether ${...} was used */

struct block;

struct key {
	const char *name;
	enum ktype type;
	size_t off;		/* the field, from the block's base */
	size_t count_off;	/* T_LIST: its size_t element count */
	const char *def;	/* default as written in YAML, or NULL */
	int64_t min, max;	/* T_INT range, and T_FLOAT minimum */
	const char *expect;	/* T_INT range in words, if not min/max */
	unsigned flags;
	const struct block *sub;	/* T_BLOCK, T_LIST */
	/* T_STRING: validate the stored copy, which it may trim. */
	int (*check)(struct loader *, const struct site *, char *);
	/* T_SPECIAL: convert the value into the block at base. */
	void (*conv)(struct loader *, const struct site *, const char *,
	    void *);
	/* Whether the key is required, given the block at base. */
	bool (*required)(const void *);
};

struct block {
	const struct key *keys;
	size_t nkeys;
	size_t size;		/* of one element, for a list */
	bool has_line;		/* elements record their line ... */
	size_t line_off;	/* ... in the int at this offset */
	/* Cross-key checks, run when the block had no error. */
	void (*check)(struct loader *, const struct site *, void *,
	    const int *);
	/* Checks across the elements of a list. */
	void (*list_check)(struct loader *, void *, size_t);
};

static void	check_tls(struct loader *, const struct site *, void *,
		    const int *);
static void	check_cert(struct loader *, const struct site *, void *,
		    const int *);
static void	check_backoff(struct loader *, const struct site *, void *,
		    const int *);
static void	check_tcp(struct loader *, const struct site *, void *,
		    const int *);
static void	check_mapping(struct loader *, const struct site *, void *,
		    const int *);
static void	check_topics(struct loader *, void *, size_t);
static void	check_auth(struct loader *, const struct site *, void *,
		    const int *);
static void	check_root(struct loader *, const struct site *, void *,
		    const int *);
static bool	needs_client_id(const void *);
static bool	needs_client_secret(const void *);
static int	check_org_url(struct loader *, const struct site *, char *);
static int	check_api_version(struct loader *, const struct site *,
		    char *);
static int	check_proxy_url(struct loader *, const struct site *, char *);
static int	check_audience(struct loader *, const struct site *, char *);
static int	check_api_name(struct loader *, const struct site *, char *);
static void	conv_operation(struct loader *, const struct site *,
		    const char *, void *);
static void	conv_mode(struct loader *, const struct site *, const char *,
		    void *);
static void	conv_log_level(struct loader *, const struct site *,
		    const char *, void *);
static void	conv_auth_method(struct loader *, const struct site *,
		    const char *, void *);

#define NKEYS(a)	(sizeof(a) / sizeof((a)[0]))

#define STR(n, o, d, fl, chk) \
	{ .name = n, .type = T_STRING, .off = o, .def = d, .flags = fl, \
	  .check = chk }
#define INT(n, o, d, lo, hi, ex) \
	{ .name = n, .type = T_INT, .off = o, .def = d, .min = lo, \
	  .max = hi, .expect = ex }
#define DUR(n, o, d, fl) \
	{ .name = n, .type = T_DURATION, .off = o, .def = d, .flags = fl }
#define BOOL(n, o, d) \
	{ .name = n, .type = T_BOOL, .off = o, .def = d }
#define SPECIAL(n, d, fn) \
	{ .name = n, .type = T_SPECIAL, .def = d, .conv = fn }
#define BLOCK(n, o, b) \
	{ .name = n, .type = T_BLOCK, .off = o, .sub = b }
#define LIST(n, o, c, b, fl) \
	{ .name = n, .type = T_LIST, .off = o, .count_off = c, .sub = b, \
	  .flags = fl }

#define MIB4	(4 * 1024 * 1024)

#define H2(m)	offsetof(struct h2_config, m)
static const struct key h2_keys[] = {
	BOOL("strict_max_concurrent_requests",
	    H2(strict_max_concurrent_requests), "false"),
	INT("max_decoder_header_table_size",
	    H2(max_decoder_header_table_size), "4096", 0, MIB4 - 1,
	    "an integer below 4194304 (4 MiB)"),
	INT("max_encoder_header_table_size",
	    H2(max_encoder_header_table_size), "4096", 0, MIB4 - 1,
	    "an integer below 4194304 (4 MiB)"),
	INT("max_read_frame_size", H2(max_read_frame_size), "16384",
	    16384, 16777215, "an integer from 16384 to 16777215 "
	    "(16 KiB to 16 MiB, the HTTP/2 limits)"),
	INT("max_receive_buffer_per_connection",
	    H2(max_receive_buffer_per_connection), "1048576", 65536,
	    MIB4 - 1, "an integer from 65536 (64 KiB) to 4194303 "
	    "(below 4 MiB)"),
	INT("max_receive_buffer_per_stream",
	    H2(max_receive_buffer_per_stream), "1048576", 0, MIB4 - 1,
	    "an integer below 4194304 (4 MiB)"),
	DUR("send_ping_timeout", H2(send_ping_timeout_ns), "0s", 0),
	DUR("ping_timeout", H2(ping_timeout_ns), "15s", 0),
	DUR("write_byte_timeout", H2(write_byte_timeout_ns), "0s", 0),
};
static const struct block h2_block = {
	.keys = h2_keys, .nkeys = NKEYS(h2_keys)
};

#define TC(m)	offsetof(struct transport_config, m)
static const struct key transport_keys[] = {
	INT("max_idle_conns", TC(max_idle_conns), "100", 0, INT64_MAX, NULL),
	INT("max_idle_conns_per_host", TC(max_idle_conns_per_host), "0",
	    0, INT64_MAX, NULL),
	INT("max_conns_per_host", TC(max_conns_per_host), "64", 0, INT64_MAX,
	    NULL),
	DUR("idle_conn_timeout", TC(idle_conn_timeout_ns), "1m30s", 0),
	DUR("tls_handshake_timeout", TC(tls_handshake_timeout_ns), "10s", 0),
	DUR("expect_continue_timeout", TC(expect_continue_timeout_ns), "1s",
	    0),
	DUR("response_header_timeout", TC(response_header_timeout_ns), "0s",
	    0),
	BOOL("disable_keep_alives", TC(disable_keep_alives), "false"),
	BOOL("disable_compression", TC(disable_compression), "false"),
	INT("max_response_header_bytes", TC(max_response_header_bytes),
	    "1048576", 1, INT64_MAX, NULL),
	INT("max_response_body_bytes", TC(max_response_body_bytes),
	    "10485760", 0, INT64_MAX, NULL),
	INT("write_buffer_size", TC(write_buffer_size), "4096", 1, INT64_MAX,
	    NULL),
	INT("read_buffer_size", TC(read_buffer_size), "4096", 1, INT64_MAX,
	    NULL),
	BLOCK("h2", TC(h2), &h2_block),
};
static const struct block transport_block = {
	.keys = transport_keys, .nkeys = NKEYS(transport_keys)
};

/* Blocks inside http share its base: their offsets are from http_config. */
#define HC(m)	offsetof(struct http_config, m)
static const struct key keep_alive_keys[] = {
	DUR("idle", HC(tcp.keep_alive_idle_ns), "15s", F_SIGNED),
	DUR("interval", HC(tcp.keep_alive_interval_ns), "15s", 0),
	INT("count", HC(tcp.keep_alive_count), "9", 0, 127,
	    "an integer from 0 to 127 (the Linux limit)"),
};
static const struct block keep_alive_block = {
	.keys = keep_alive_keys, .nkeys = NKEYS(keep_alive_keys)
};

static const struct key tcp_keys[] = {
	DUR("connect_timeout", HC(tcp.connect_timeout_ns), "0s", 0),
	BLOCK("keep_alive", 0, &keep_alive_block),
	DUR("tcp_user_timeout", HC(tcp.tcp_user_timeout_ns), "0s", 0),
};
static const struct block tcp_block = {
	.keys = tcp_keys, .nkeys = NKEYS(tcp_keys), .check = check_tcp
};

static const struct key backoff_keys[] = {
	DUR("initial_interval", HC(backoff.initial_interval_ns), "1s",
	    F_POSITIVE),
	DUR("max_interval", HC(backoff.max_interval_ns), "30s", F_POSITIVE),
	INT("max_retries", HC(backoff.max_retries), "3", 0, INT64_MAX, NULL),
};
static const struct block backoff_block = {
	.keys = backoff_keys, .nkeys = NKEYS(backoff_keys),
	.check = check_backoff
};

#define CC(m)	offsetof(struct client_cert, m)
static const struct key cert_keys[] = {
	STR("cert", CC(cert), NULL, 0, NULL),
	STR("key", CC(key), NULL, 0, NULL),
	STR("cert_file", CC(cert_file), NULL, 0, NULL),
	STR("key_file", CC(key_file), NULL, 0, NULL),
	STR("password", CC(password), NULL, 0, NULL),
};
static const struct block cert_block = {
	.keys = cert_keys, .nkeys = NKEYS(cert_keys),
	.size = sizeof(struct client_cert), .check = check_cert
};

static const struct key tls_keys[] = {
	BOOL("enabled", HC(tls.enabled), "false"),
	BOOL("skip_cert_verify", HC(tls.skip_cert_verify), "false"),
	BOOL("enable_renegotiation", HC(tls.enable_renegotiation), "false"),
	STR("root_cas", HC(tls.root_cas), NULL, 0, NULL),
	STR("root_cas_file", HC(tls.root_cas_file), NULL, 0, NULL),
	LIST("client_certs", HC(tls.client_certs), HC(tls.n_client_certs),
	    &cert_block, 0),
};
static const struct block tls_block = {
	.keys = tls_keys, .nkeys = NKEYS(tls_keys), .check = check_tls
};

static const struct key http_keys[] = {
	DUR("timeout", HC(timeout_ns), "5s", 0),
	BLOCK("tls", 0, &tls_block),
	STR("proxy_url", HC(proxy_url), NULL, 0, check_proxy_url),
	BOOL("disable_http2", HC(disable_http2), "false"),
	{ .name = "tps_limit", .type = T_FLOAT, .off = HC(tps_limit),
	  .def = "0", .min = 0 },
	INT("tps_burst", HC(tps_burst), "1", 1, INT64_MAX, NULL),
	BLOCK("backoff", 0, &backoff_block),
	BLOCK("tcp", 0, &tcp_block),
	BLOCK("http", HC(http), &transport_block),
	SPECIAL("access_log_level", "", conv_log_level),
	INT("access_log_body_limit", HC(access_log_body_limit), "0", 0,
	    INT64_MAX, NULL),
};
static const struct block http_block = {
	.keys = http_keys, .nkeys = NKEYS(http_keys)
};

#define MP(m)	offsetof(struct mapping, m)
static const struct key mapping_keys[] = {
	STR("topic", MP(topic), NULL, F_REQUIRED, NULL),
	STR("sobject", MP(sobject), NULL, F_REQUIRED, check_api_name),
	SPECIAL("operation", "upsert", conv_operation),
	SPECIAL("mode", "realtime", conv_mode),
	STR("external_id_field", MP(external_id_field), NULL, 0,
	    check_api_name),
	BOOL("all_or_none", MP(all_or_none), "false"),
	INT("bulk_threshold", MP(bulk_threshold), "1000", 1, 10000000, NULL),
};
static const struct block mapping_block = {
	.keys = mapping_keys, .nkeys = NKEYS(mapping_keys),
	.size = sizeof(struct mapping), .has_line = true, .line_off = MP(line),
	.check = check_mapping, .list_check = check_topics
};

#define AU(m)	offsetof(struct auth_config, m)
static const struct key auth_keys[] = {
	SPECIAL("method", "client_credentials", conv_auth_method),
	STR("username", AU(username), NULL, 0, NULL),
	STR("private_key", AU(private_key), NULL, 0, NULL),
	STR("private_key_file", AU(private_key_file), NULL, 0, NULL),
	STR("audience", AU(audience), NULL, 0, check_audience),
	STR("access_token", AU(access_token), NULL, 0, NULL),
	STR("instance_url", AU(instance_url), NULL, 0, check_org_url),
};
static const struct block auth_block = {
	.keys = auth_keys, .nkeys = NKEYS(auth_keys), .check = check_auth
};

#define CF(m)	offsetof(struct config, m)
static const struct key root_keys[] = {
	STR("org_url", CF(org_url), NULL, F_REQUIRED, check_org_url),
	{ .name = "client_id", .type = T_STRING, .off = CF(client_id),
	  .required = needs_client_id },
	{ .name = "client_secret", .type = T_STRING,
	  .off = CF(client_secret), .flags = F_NOTE_LITERAL,
	  .required = needs_client_secret },
	STR("api_version", CF(api_version), "v65.0", 0, check_api_version),
	INT("bulk_batch_size", CF(bulk_batch_size), "1000", 1, 10000000,
	    NULL),
	INT("max_concurrent_bulk_jobs", CF(max_concurrent_bulk_jobs), "10",
	    1, 1000, NULL),
	DUR("bulk_poll_interval", CF(bulk_poll_interval_ns), "5s",
	    F_POSITIVE),
	DUR("batch_period", CF(batch_period_ns), "5s", 0),
	INT("max_in_flight", CF(max_in_flight), "1", 1, 1000, NULL),
	LIST("topic_mappings", CF(mappings), CF(n_mappings), &mapping_block,
	    F_REQUIRED),
	BLOCK("http", CF(http), &http_block),
	BLOCK("auth", CF(auth), &auth_block),
};
static const struct block root_block = {
	.keys = root_keys, .nkeys = NKEYS(root_keys), .check = check_root
};

/*
 * Top-level sections of a Redpanda Connect config, ignored when the block
 * comes from output.salesforce_sink.
 */
static const char *const redpanda_keys[] = {
	"output", "outputs", "input", "buffer", "pipeline", "http", "logger",
	"metrics", "tracer", "input_resources", "processor_resources",
	"output_resources", "cache_resources", "rate_limit_resources",
	"shutdown_delay", "shutdown_timeout", "tests", "redpanda",
};

/* Messages. */

static void report(struct loader *, enum log_level, const struct site *,
    const char *, va_list) __attribute__((format(printf, 4, 0)));
static void cfg_error(struct loader *, const struct site *, const char *,
    ...) __attribute__((format(printf, 3, 4)));
static void cfg_warn(struct loader *, const struct site *, const char *,
    ...) __attribute__((format(printf, 3, 4)));

static void
report(struct loader *ld, enum log_level level, const struct site *at,
    const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (at->path[0] != '\0')
		log_msg(ld->lg, level, "%s:%d: %s: %s", ld->file, at->line,
		    at->path, msg);
	else
		log_msg(ld->lg, level, "%s:%d: %s", ld->file, at->line, msg);
}

static void
cfg_error(struct loader *ld, const struct site *at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(ld, LOG_ERROR, at, fmt, ap);
	va_end(ap);
	ld->nerr++;
}

static void
cfg_warn(struct loader *ld, const struct site *at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(ld, LOG_WARN, at, fmt, ap);
	va_end(ap);
}

/* Copy S into BUF for quoting, with control characters masked, cut if long. */
static const char *
quote(char *buf, size_t len, const char *s)
{
	return log_mask(buf, len, s, strlen(s));
}

/* Write PARENT.NAME to DST, masked, and cut with "..." if too long. */
static void
child_path(char *dst, size_t len, const char *parent, const char *name)
{
	char masked[QUOTE_LEN];
	int n;

	quote(masked, sizeof(masked), name);
	n = snprintf(dst, len, "%s%s%s", parent, parent[0] != '\0' ? "." : "",
	    masked);
	if (n < 0 || (size_t)n >= len)
		memcpy(dst + len - 4, "...", 4);
}

/* Nodes. */

static int
line_of(const yaml_node_t *n)
{
	return (int)n->start_mark.line + 1;
}

static yaml_node_t *
node_at(struct loader *ld, int index)
{
	return yaml_document_get_node(ld->doc, index);
}

static const char *
scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static bool
is_plain(const yaml_node_t *n)
{
	return n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* Return whether N is a plain empty value, `~` or `null`: no value in YAML. */
static bool
is_null(const yaml_node_t *n)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
	size_t i;

	if (n->type != YAML_SCALAR_NODE || !is_plain(n))
		return false;
	for (i = 0; i < NKEYS(nulls); i++)
		if (strcmp(scalar(n), nulls[i]) == 0)
			return true;
	return false;
}

static void
wrong_type(struct loader *ld, const struct site *at, const yaml_node_t *n,
    const char *want)
{
	char q[QUOTE_LEN];

	if (n->type == YAML_SCALAR_NODE)
		cfg_error(ld, at, "invalid value \"%s\"; expected %s",
		    quote(q, sizeof(q), scalar(n)), want);
	else
		cfg_error(ld, at, "expected %s, got a %s", want,
		    n->type == YAML_MAPPING_NODE ? "mapping" : "list");
}

static const char *
type_word(enum ktype t)
{
	switch (t) {
	case T_INT:
		return "an integer";
	case T_FLOAT:
		return "a number";
	case T_BOOL:
		return "true or false";
	case T_DURATION:
		return "a duration such as \"5s\"";
	case T_BLOCK:
		return "a mapping";
	case T_LIST:
		return "a list";
	default:
		return "a string";
	}
}

/* Key suggestions. */

size_t
config_name_distance(const char *a, const char *b)
{
	size_t row[MAX_NAME + 1], la = strlen(a), lb = strlen(b), i, j;

	if (la > MAX_NAME || lb > MAX_NAME)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0], up;

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t best = diag + (tolower((unsigned char)a[i - 1]) !=
			    tolower((unsigned char)b[j - 1]));

			up = row[j];
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* The name within 3 edits of NAME (and not all of it), or NULL. */
static const char *
closest(const char *name, const char *const *names, size_t n)
{
	const char *best = NULL;
	size_t d, bestd = 4, i;

	for (i = 0; i < n; i++) {
		d = config_name_distance(name, names[i]);
		if (d < bestd && d < strlen(name)) {
			best = names[i];
			bestd = d;
		}
	}
	return best;
}

static void
unknown_key(struct loader *ld, const struct site *at, const char *name,
    const char *const *names, size_t n)
{
	const char *hint = closest(name, names, n);

	if (hint != NULL)
		cfg_error(ld, at, "unknown key; did you mean \"%s\"?", hint);
	else
		cfg_error(ld, at, "unknown key");
}

static void
unknown_block_key(struct loader *ld, const struct site *at,
    const struct block *b, const char *name)
{
	const char *names[MAX_KEYS];
	size_t i;

	if (b == &root_block && strcmp(name, "salesforce_sink") == 0) {
		cfg_error(ld, at, "unknown key; put the block under \"output:\", "
		    "or write its keys at the top level");
		return;
	}
	for (i = 0; i < b->nkeys; i++)
		names[i] = b->keys[i].name;
	unknown_key(ld, at, name, names, b->nkeys);
}

/* Scalar conversion. */

static void *
field(void *base, size_t off)
{
	return (char *)base + off;
}

static void
range_words(const struct key *k, char *buf, size_t len)
{
	if (k->expect != NULL)
		snprintf(buf, len, "%s", k->expect);
	else if (k->max == INT64_MAX)
		snprintf(buf, len, "an integer of at least %" PRId64, k->min);
	else
		snprintf(buf, len, "an integer from %" PRId64 " to %" PRId64,
		    k->min, k->max);
}

/*
 * Parse a YAML decimal integer.  Returns -1 when S is not one, and -2 when
 * it does not fit in int64_t.
 */
static int
parse_int(const char *s, int64_t *v)
{
	const char *p = s + (*s == '-' || *s == '+');
	long long x;

	if (*p == '\0' || strspn(p, "0123456789") != strlen(p))
		return -1;
	errno = 0;
	x = strtoll(s, NULL, 10);
	if (errno == ERANGE)
		return -2;
	*v = x;
	return 0;
}

static void
set_int(struct loader *ld, const struct key *k, const struct site *at,
    const char *val, void *base)
{
	char q[QUOTE_LEN], words[128];
	int64_t v = 0;
	int rc;

	if ((rc = parse_int(val, &v)) == -1) {
		cfg_error(ld, at, "invalid value \"%s\"; expected an integer",
		    quote(q, sizeof(q), val));
		return;
	}
	if (rc == -2 || v < k->min || v > k->max) {
		range_words(k, words, sizeof(words));
		cfg_error(ld, at, "invalid value \"%s\"; expected %s",
		    quote(q, sizeof(q), val), words);
		return;
	}
	*(int64_t *)field(base, k->off) = v;
}

/* Return whether S is a YAML 1.2 float: [-+]? (.D+ | D+ [.D*]) [e [-+] D+]. */
static bool
is_float(const char *s)
{
	size_t n;

	s += (*s == '-' || *s == '+');
	n = strspn(s, "0123456789");
	s += n;
	if (*s == '.') {
		size_t f = strspn(s + 1, "0123456789");

		if (n == 0 && f == 0)
			return false;
		s += 1 + f;
	} else if (n == 0)
		return false;
	if (*s == 'e' || *s == 'E') {
		s++;
		s += (*s == '-' || *s == '+');
		if ((n = strspn(s, "0123456789")) == 0)
			return false;
		s += n;
	}
	return *s == '\0';
}

static void
set_float(struct loader *ld, const struct key *k, const struct site *at,
    const char *val, void *base)
{
	char q[QUOTE_LEN];
	double v;

	if (!is_float(val)) {
		cfg_error(ld, at, "invalid value \"%s\"; expected a number",
		    quote(q, sizeof(q), val));
		return;
	}
	v = strtod(val, NULL);
	if (!isfinite(v) || v < (double)k->min) {
		cfg_error(ld, at, "invalid value \"%s\"; expected a number of "
		    "at least %" PRId64, quote(q, sizeof(q), val), k->min);
		return;
	}
	*(double *)field(base, k->off) = v;
}

static void
set_bool(struct loader *ld, const struct key *k, const struct site *at,
    const char *val, void *base)
{
	static const char *const yaml11[] = {
		"yes", "no", "on", "off", "y", "n",
	};
	char q[QUOTE_LEN];
	size_t i;

	if (strcmp(val, "true") == 0 || strcmp(val, "True") == 0 ||
	    strcmp(val, "TRUE") == 0) {
		*(bool *)field(base, k->off) = true;
		return;
	}
	if (strcmp(val, "false") == 0 || strcmp(val, "False") == 0 ||
	    strcmp(val, "FALSE") == 0) {
		*(bool *)field(base, k->off) = false;
		return;
	}
	for (i = 0; i < NKEYS(yaml11); i++) {
		if (strcasecmp(val, yaml11[i]) == 0) {
			cfg_error(ld, at, "invalid value \"%s\"; expected true "
			    "or false (YAML 1.1 yes/no/on/off are not "
			    "booleans here)", quote(q, sizeof(q), val));
			return;
		}
	}
	cfg_error(ld, at, "invalid value \"%s\"; expected true or false",
	    quote(q, sizeof(q), val));
}

static void
duration_error(struct loader *ld, const struct site *at, const char *val,
    enum duration_err err)
{
	char q[QUOTE_LEN], max[32];

	quote(q, sizeof(q), val);
	switch (err) {
	case DURATION_NO_UNIT:
		cfg_error(ld, at, "invalid value \"%s\"; a duration needs a "
		    "unit, such as \"%ss\"", q, q);
		break;
	case DURATION_BAD_UNIT:
		cfg_error(ld, at, "invalid value \"%s\"; unknown unit, expected "
		    "ns, us, ms, s, m or h", q);
		break;
	case DURATION_RANGE:
		cfg_error(ld, at, "invalid value \"%s\"; a duration must be "
		    "at most %s", q, duration_format(INT64_MAX, max,
		    sizeof(max)));
		break;
	default:
		cfg_error(ld, at, "invalid value \"%s\"; expected a duration "
		    "such as \"300ms\", \"1.5s\" or \"1m30s\"", q);
		break;
	}
}

static void
set_duration(struct loader *ld, const struct key *k, const struct site *at,
    const char *val, void *base)
{
	enum duration_err err;
	char q[QUOTE_LEN];
	int64_t ns;

	if ((err = duration_parse(val, &ns)) != DURATION_OK) {
		duration_error(ld, at, val, err);
		return;
	}
	if (ns <= 0 && (k->flags & F_POSITIVE)) {
		cfg_error(ld, at, "invalid value \"%s\"; expected a duration "
		    "greater than 0s", quote(q, sizeof(q), val));
		return;
	}
	if (ns < 0 && !(k->flags & F_SIGNED)) {
		cfg_error(ld, at, "invalid value \"%s\"; expected a duration of "
		    "at least 0s", quote(q, sizeof(q), val));
		return;
	}
	*(int64_t *)field(base, k->off) = ns;
}

static void
set_string(struct loader *ld, const struct key *k, const struct site *at,
    const char *val, void *base)
{
	char **dst = field(base, k->off);

	free(*dst);
	*dst = NULL;
	if (*val == '\0' && k->required != NULL) {
		*dst = xstrdup("");	/* see check_conditional() */
		return;
	}
	if (*val == '\0') {
		if (k->flags & F_REQUIRED)
			cfg_error(ld, at, "value is empty; this key is required");
		return;
	}
	*dst = xstrdup(val);
	if (k->check != NULL)
		k->check(ld, at, *dst);
}

/*
 * Store VAL, already expanded, in the field of K.  PLAIN is false when the
 * value was quoted in the file, which a number or a boolean must not be.
 */
static void
set_value(struct loader *ld, const struct key *k, const struct site *at,
    const char *val, bool plain, void *base)
{
	char q[QUOTE_LEN];

	if (!plain && (k->type == T_INT || k->type == T_FLOAT ||
	    k->type == T_BOOL)) {
		cfg_error(ld, at, "invalid value \"%s\"; expected %s, not a "
		    "quoted string", quote(q, sizeof(q), val),
		    type_word(k->type));
		return;
	}
	switch (k->type) {
	case T_STRING:
		set_string(ld, k, at, val, base);
		break;
	case T_INT:
		set_int(ld, k, at, val, base);
		break;
	case T_FLOAT:
		set_float(ld, k, at, val, base);
		break;
	case T_BOOL:
		set_bool(ld, k, at, val, base);
		break;
	case T_DURATION:
		set_duration(ld, k, at, val, base);
		break;
	case T_SPECIAL:
		k->conv(ld, at, val, base);
		break;
	default:
		abort();
	}
}

/* Keys with their own conversion. */

static void
conv_operation(struct loader *ld, const struct site *at, const char *val,
    void *base)
{
	static const char *const names[] = {
		"insert", "update", "upsert", "delete", "hardDelete",
	};
	struct mapping *m = base;
	char q[QUOTE_LEN];
	size_t i;

	for (i = 0; i < NKEYS(names); i++) {
		if (strcmp(val, names[i]) == 0) {
			m->operation = (enum operation)i;
			return;
		}
	}
	cfg_error(ld, at, "invalid value \"%s\"; expected insert, update, "
	    "upsert, delete or hardDelete", quote(q, sizeof(q), val));
}

static void
conv_mode(struct loader *ld, const struct site *at, const char *val,
    void *base)
{
	struct mapping *m = base;
	char q[QUOTE_LEN];

	if (strcmp(val, "realtime") == 0)
		m->mode = MODE_REALTIME;
	else if (strcmp(val, "bulk") == 0)
		m->mode = MODE_BULK;
	else if (strcmp(val, "auto") == 0)
		m->mode = MODE_AUTO;
	else
		cfg_error(ld, at, "invalid value \"%s\"; expected realtime, "
		    "bulk or auto", quote(q, sizeof(q), val));
}

static void
conv_auth_method(struct loader *ld, const struct site *at, const char *val,
    void *base)
{
	static const char *const names[] = {
		"client_credentials", "jwt", "access_token",
	};
	struct auth_config *a = base;
	char q[QUOTE_LEN];
	size_t i;

	for (i = 0; i < NKEYS(names); i++) {
		if (strcmp(val, names[i]) == 0) {
			a->method = (enum auth_method)i;
			return;
		}
	}
	cfg_error(ld, at, "invalid value \"%s\"; expected client_credentials, "
	    "jwt or access_token", quote(q, sizeof(q), val));
}

static void
conv_log_level(struct loader *ld, const struct site *at, const char *val,
    void *base)
{
	static const struct {
		const char *name;
		enum log_level level;
	} levels[] = {
		{ "TRACE", LOG_TRACE }, { "DEBUG", LOG_DEBUG },
		{ "INFO", LOG_INFO }, { "WARN", LOG_WARN },
		{ "ERROR", LOG_ERROR },
	};
	struct http_config *h = base;
	char q[QUOTE_LEN];
	size_t i;

	h->access_log = false;
	h->access_log_level = LOG_QUIET;
	if (*val == '\0')
		return;
	for (i = 0; i < NKEYS(levels); i++) {
		if (strcasecmp(val, levels[i].name) == 0) {
			h->access_log = true;
			h->access_log_level = levels[i].level;
			return;
		}
	}
	cfg_error(ld, at, "invalid value \"%s\"; expected \"\", TRACE, DEBUG, "
	    "INFO, WARN or ERROR", quote(q, sizeof(q), val));
}

/* String checks, which return 0, or -1 after reporting the error. */

struct url {
	char host[256];
	bool bracketed;		/* an IPv6 literal */
	const char *rest;	/* path, query or fragment */
};

/* Return whether [P, END) is a port number from 1 to 65535. */
static bool
is_port(const char *p, const char *end)
{
	size_t n = (size_t)(end - p);

	return n >= 1 && n <= 5 && strspn(p, "0123456789") >= n &&
	    atoi(p) >= 1 && atoi(p) <= 65535;
}

/*
 * Split "HOST[:PORT]REST" (the part after "scheme://") into U.  Returns
 * -1 for user info, a bad host or a bad port, with *WHY set.
 */
static int
split_authority(const char *p, struct url *u, const char **why)
{
	size_t n = strcspn(p, "/?#"), hn;
	const char *host = p, *port;

	u->rest = p + n;
	u->bracketed = *p == '[';
	if (memchr(p, '@', n) != NULL) {
		*why = "a user name or password is not allowed in the URL";
		return -1;
	}
	if (u->bracketed) {
		host = p + 1;
		hn = strspn(host, "0123456789abcdefABCDEF:.");
		port = host + hn + 1;
		if (host[hn] != ']' || port > u->rest)
			hn = 0;
	} else {
		hn = strspn(host, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_");
		port = host + hn;
	}
	if (hn == 0 || hn >= sizeof(u->host) ||
	    (port != u->rest && *port != ':')) {
		*why = "expected a host name";
		return -1;
	}
	memcpy(u->host, host, hn);
	u->host[hn] = '\0';
	if (port != u->rest && !is_port(port + 1, u->rest)) {
		*why = "expected a port from 1 to 65535 after the host";
		return -1;
	}
	return 0;
}

static bool
is_loopback(const struct url *u)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (u->bracketed)
		return inet_pton(AF_INET6, u->host, &a6) == 1 &&
		    IN6_IS_ADDR_LOOPBACK(&a6);
	if (inet_pton(AF_INET, u->host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return strcasecmp(u->host, "localhost") == 0;
}

static int
check_org_url(struct loader *ld, const struct site *at, char *s)
{
	const char *why = NULL;
	char q[QUOTE_LEN];
	struct url u;
	bool https = strncasecmp(s, "https://", 8) == 0;
	size_t len;

	if (!https && strncasecmp(s, "http://", 7) != 0)
		why = "expected https://HOST, such as "
		    "\"https://acme.my.salesforce.com\"";
	else if (split_authority(s + (https ? 8 : 7), &u, &why) == 0 &&
	    strcmp(u.rest, "") != 0 && strcmp(u.rest, "/") != 0)
		why = "expected no path, query or fragment after the host";
	if (why != NULL && strchr(s, '@') != NULL) {
		cfg_error(ld, at, "invalid URL; %s", why);
		return -1;
	}
	if (why != NULL) {
		cfg_error(ld, at, "invalid value \"%s\"; %s",
		    quote(q, sizeof(q), s), why);
		return -1;
	}
	if (!https && !is_loopback(&u)) {
		cfg_error(ld, at, "invalid value \"%s\"; plain http is allowed "
		    "only for a loopback host (localhost, 127.0.0.0/8, [::1]), "
		    "use https://", quote(q, sizeof(q), s));
		return -1;
	}
	if ((len = strlen(s)) > 0 && s[len - 1] == '/')
		s[len - 1] = '\0';
	return 0;
}

static int
check_proxy_url(struct loader *ld, const struct site *at, char *s)
{
	static const char *const schemes[] = {
		"http://", "https://", "socks4://", "socks4a://", "socks5://",
		"socks5h://",
	};
	const char *p = strchr(s, '@'), *why;
	struct url u;
	size_t i;

	/* Skip credentials before the host, and never quote the URL. */
	for (i = 0; i < NKEYS(schemes); i++) {
		if (strncasecmp(s, schemes[i], strlen(schemes[i])) == 0) {
			p = p != NULL ? p + 1 : s + strlen(schemes[i]);
			if (split_authority(p, &u, &why) == 0 &&
			    (strcmp(u.rest, "") == 0 ||
			    strcmp(u.rest, "/") == 0))
				return 0;
			break;
		}
	}
	cfg_error(ld, at, "invalid proxy URL; expected SCHEME://HOST[:PORT] "
	    "with scheme http, https, socks4, socks4a, socks5 or socks5h");
	return -1;
}

/* The aud claim of a JWT: a login host or an Experience Cloud site URL. */
static int
check_audience(struct loader *ld, const struct site *at, char *s)
{
	char q[QUOTE_LEN];

	if (strncmp(s, "https://", 8) == 0 && s[8] != '\0')
		return 0;
	cfg_error(ld, at, "invalid value \"%s\"; expected an https:// URL such "
	    "as \"https://login.salesforce.com\" or "
	    "\"https://test.salesforce.com\"", quote(q, sizeof(q), s));
	return -1;
}

static int
check_api_version(struct loader *ld, const struct site *at, char *s)
{
	size_t n = strspn(s + 1, "0123456789");
	char q[QUOTE_LEN];

	quote(q, sizeof(q), s);
	if (s[0] != 'v' || n == 0 || n > 4 || s[n + 1] != '.' ||
	    !isdigit((unsigned char)s[n + 2]) || s[n + 3] != '\0') {
		cfg_error(ld, at, "invalid value \"%s\"; expected v<major>.<minor> "
		    "such as \"v65.0\"", q);
		return -1;
	}
	if (atoi(s + 1) < 46) {
		cfg_error(ld, at, "invalid value \"%s\"; expected v46.0 or later, "
		    "the first version with sObject Collections upsert", q);
		return -1;
	}
	return 0;
}

/*
 * An sObject or field API name: a letter, then letters, digits and
 * underscores, not ending with one, at most 80 bytes.  These go into URL
 * paths, so nothing else may pass.
 */
static int
check_api_name(struct loader *ld, const struct site *at, char *s)
{
	size_t n = strlen(s);
	char q[QUOTE_LEN];

	if (isalpha((unsigned char)s[0]) && s[n - 1] != '_' && n <= 80 &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_") == n)
		return 0;
	cfg_error(ld, at, "invalid value \"%s\"; expected an API name such as "
	    "\"Account\" or \"My_Object__c\" (a letter, then letters, digits "
	    "or underscores, at most 80)", quote(q, sizeof(q), s));
	return -1;
}

/* Checks across the keys of a block. */

/* Return the line KEY of block B was given on, or FALLBACK when it was not. */
static int
key_line(const struct block *b, const int *seen, const char *key,
    int fallback)
{
	size_t i;

	for (i = 0; i < b->nkeys; i++)
		if (strcmp(b->keys[i].name, key) == 0 && seen[i] > 0)
			return seen[i];
	return fallback;
}

static void
check_tls(struct loader *ld, const struct site *at, void *base,
    const int *seen)
{
	struct http_config *h = base;

	if (h->tls.root_cas != NULL && h->tls.root_cas_file != NULL)
		cfg_error(ld, at, "root_cas and root_cas_file are both set; "
		    "keep one");
	if (!h->tls.enabled && (h->tls.skip_cert_verify ||
	    h->tls.enable_renegotiation || h->tls.root_cas != NULL ||
	    h->tls.root_cas_file != NULL || h->tls.n_client_certs > 0))
		cfg_warn(ld, at, "settings are ignored while enabled is false; "
		    "set enabled: true to use them");
}

static void
check_cert(struct loader *ld, const struct site *at, void *base,
    const int *seen)
{
	struct client_cert *c = base;
	bool text = c->cert != NULL || c->key != NULL;
	bool file = c->cert_file != NULL || c->key_file != NULL;

	if (text && file)
		cfg_error(ld, at, "cert and key, and cert_file and key_file, "
		    "are both given; keep one pair");
	else if (!text && !file)
		cfg_error(ld, at, "expected cert and key, or cert_file and "
		    "key_file");
	else if (text && (c->cert == NULL || c->key == NULL))
		cfg_error(ld, at, "%s is given without %s",
		    c->cert ? "cert" : "key", c->cert ? "key" : "cert");
	else if (file && (c->cert_file == NULL || c->key_file == NULL))
		cfg_error(ld, at, "%s is given without %s",
		    c->cert_file ? "cert_file" : "key_file",
		    c->cert_file ? "key_file" : "cert_file");
}

static bool
needs_client_id(const void *base)
{
	return ((const struct config *)base)->auth.method != AUTH_ACCESS_TOKEN;
}

static bool
needs_client_secret(const void *base)
{
	return ((const struct config *)base)->auth.method ==
	    AUTH_CLIENT_CREDENTIALS;
}

/* Warn about each key of the auth block that METHOD does not read. */
static void
warn_unused_auth_keys(struct loader *ld, const struct site *at,
    enum auth_method method, const int *seen)
{
	static const char *const used[] = {
		[AUTH_CLIENT_CREDENTIALS] = " method ",
		[AUTH_JWT] = (" method username private_key private_key_file "
		    "audience "),
		[AUTH_ACCESS_TOKEN] = " method access_token instance_url ",
	};
	char path[PATH_LEN], word[MAX_NAME + 3];
	struct site s = { path, 0 };
	size_t i;

	for (i = 0; i < auth_block.nkeys; i++) {
		snprintf(word, sizeof(word), " %s ", auth_keys[i].name);
		if (seen[i] == 0 || strstr(used[method], word) != NULL)
			continue;
		child_path(path, sizeof(path), at->path, auth_keys[i].name);
		s.line = seen[i];
		cfg_warn(ld, &s, "ignored with method %s",
		    auth_method_name(method));
	}
}

/* The JWT bearer flow needs a user name and one private key. */
static void
check_jwt(struct loader *ld, const struct site *at, struct auth_config *a,
    const int *seen)
{
	const char *key = a->private_key != NULL ? "private_key" :
	    "private_key_file";
	char path[PATH_LEN];
	struct site s = { path, at->line };

	child_path(path, sizeof(path), at->path, "username");
	if (a->username == NULL)
		cfg_error(ld, &s, "required key is missing; method jwt needs the "
		    "Salesforce user name");
	child_path(path, sizeof(path), at->path, key);
	s.line = key_line(&auth_block, seen, key, at->line);
	if (a->private_key != NULL && a->private_key_file != NULL) {
		cfg_error(ld, &s, "private_key and private_key_file are both "
		    "set; keep one");
	} else if (a->private_key == NULL && a->private_key_file == NULL) {
		cfg_error(ld, &s, "required key is missing; method jwt needs "
		    "private_key or private_key_file");
	}
}

static void
check_auth(struct loader *ld, const struct site *at, void *base,
    const int *seen)
{
	struct auth_config *a = base;
	char path[PATH_LEN];
	struct site s = { path, at->line };

	warn_unused_auth_keys(ld, at, a->method, seen);
	if (a->method == AUTH_JWT)
		check_jwt(ld, at, a, seen);
	child_path(path, sizeof(path), at->path, "access_token");
	if (a->method == AUTH_ACCESS_TOKEN && a->access_token == NULL)
		cfg_error(ld, &s, "required key is missing; method access_token "
		    "needs it");
}

/* Credentials that the chosen auth.method does not send are only noted. */
static void
check_root(struct loader *ld, const struct site *at, void *base,
    const int *seen)
{
	const struct config *cfg = base;
	struct site s = { "client_secret", 0 };

	s.line = key_line(&root_block, seen, "client_secret", 0);
	if (s.line > 0 && cfg->auth.method != AUTH_CLIENT_CREDENTIALS)
		cfg_warn(ld, &s, "ignored with auth.method %s",
		    auth_method_name(cfg->auth.method));
	s.path = "client_id";
	s.line = key_line(&root_block, seen, "client_id", 0);
	if (s.line > 0 && cfg->auth.method == AUTH_ACCESS_TOKEN)
		cfg_warn(ld, &s, "ignored with auth.method access_token");
}

static void
check_backoff(struct loader *ld, const struct site *at, void *base,
    const int *seen)
{
	struct http_config *h = base;
	char a[32], b[32];

	if (h->backoff.initial_interval_ns > h->backoff.max_interval_ns)
		cfg_error(ld, at, "initial_interval (%s) is greater than "
		    "max_interval (%s)",
		    duration_format(h->backoff.initial_interval_ns, a, sizeof(a)),
		    duration_format(h->backoff.max_interval_ns, b, sizeof(b)));
}

/*
 * Replace zero keep_alive values by their defaults (15s, 15s, 9).  Then
 * check that idle exceeds tcp_user_timeout, as the Redpanda Connect
 * documentation requires, citing RFC 5482.
 */
static void
check_tcp(struct loader *ld, const struct site *at, void *base,
    const int *seen)
{
	struct http_config *h = base;
	char a[32], b[32];

	if (h->tcp.keep_alive_idle_ns == 0)
		h->tcp.keep_alive_idle_ns = INT64_C(15000000000);
	if (h->tcp.keep_alive_interval_ns == 0)
		h->tcp.keep_alive_interval_ns = INT64_C(15000000000);
	if (h->tcp.keep_alive_count == 0)
		h->tcp.keep_alive_count = 9;
	if (h->tcp.tcp_user_timeout_ns > 0 && h->tcp.keep_alive_idle_ns > 0 &&
	    h->tcp.keep_alive_idle_ns <= h->tcp.tcp_user_timeout_ns)
		cfg_error(ld, at, "keep_alive.idle (%s) must be greater than "
		    "tcp_user_timeout (%s), see RFC 5482",
		    duration_format(h->tcp.keep_alive_idle_ns, a, sizeof(a)),
		    duration_format(h->tcp.tcp_user_timeout_ns, b, sizeof(b)));
}

static void
check_mapping(struct loader *ld, const struct site *at, void *base,
    const int *seen)
{
	const struct block *b = &mapping_block;
	struct mapping *m = base;
	char path[PATH_LEN], q[QUOTE_LEN];
	struct site s = { path, 0 };
	bool op_given = key_line(b, seen, "operation", 0) > 0;

	child_path(path, sizeof(path), at->path, "operation");
	s.line = key_line(b, seen, "operation", at->line);
	if (m->operation == OP_HARD_DELETE && m->mode != MODE_BULK)
		cfg_error(ld, &s, "hardDelete is bulk-only; set mode: bulk");
	child_path(path, sizeof(path), at->path, "external_id_field");
	s.line = key_line(b, seen, "external_id_field", at->line);
	if (m->operation == OP_UPSERT && m->external_id_field == NULL)
		cfg_error(ld, &s, "required key is missing; upsert%s on topic "
		    "\"%s\" needs it", op_given ? "" : " (the default operation)",
		    quote(q, sizeof(q), m->topic ? m->topic : ""));
	else if (m->operation != OP_UPSERT && m->external_id_field != NULL)
		cfg_warn(ld, &s, "ignored; only upsert uses it");
	child_path(path, sizeof(path), at->path, "all_or_none");
	s.line = key_line(b, seen, "all_or_none", at->line);
	if (m->all_or_none && m->mode == MODE_BULK)
		cfg_warn(ld, &s, "has no effect in bulk mode");
	child_path(path, sizeof(path), at->path, "bulk_threshold");
	s.line = key_line(b, seen, "bulk_threshold", 0);
	if (s.line > 0 && m->mode != MODE_AUTO)
		cfg_warn(ld, &s, "ignored; only mode: auto uses it");
}

static void
check_topics(struct loader *ld, void *elems, size_t n)
{
	struct mapping *m = elems;
	char path[PATH_LEN], q[QUOTE_LEN];
	struct site s = { path, 0 };
	size_t i, j;

	for (i = 1; i < n; i++) {
		for (j = 0; j < i && m[i].topic != NULL; j++) {
			if (m[j].topic == NULL ||
			    strcmp(m[i].topic, m[j].topic) != 0)
				continue;
			snprintf(path, sizeof(path), "topic_mappings[%zu].topic",
			    i);
			s.line = m[i].line;
			cfg_error(ld, &s, "duplicate topic \"%s\"; first mapped "
			    "on line %d", quote(q, sizeof(q), m[i].topic),
			    m[j].line);
			break;
		}
	}
}

/* Walking the document against the schema. */

static void load_block(struct loader *, const struct block *, yaml_node_t *,
    const struct site *, void *);

/* Give every key of B its default.  Lists start empty. */
static void
apply_defaults(struct loader *ld, const struct block *b, void *base)
{
	const struct key *k;
	struct site at;
	int nerr = ld->nerr;

	for (k = b->keys; k < b->keys + b->nkeys; k++) {
		at.path = k->name;
		at.line = 0;
		if (k->type == T_BLOCK)
			apply_defaults(ld, k->sub, field(base, k->off));
		else if (k->def != NULL)
			set_value(ld, k, &at, k->def, true, base);
	}
	if (ld->nerr != nerr)
		abort();	/* a default that does not pass its own check */
}

static void
load_scalar(struct loader *ld, const struct key *k, yaml_node_t *vn,
    const struct site *at, void *base)
{
	char err[256], *val;
	int refs;

	if (vn->type != YAML_SCALAR_NODE) {
		wrong_type(ld, at, vn, type_word(k->type));
		return;
	}
	if (is_null(vn)) {
		if (k->flags & F_REQUIRED)
			cfg_error(ld, at, "value is empty; this key is required");
		else if (k->required != NULL)
			set_string(ld, k, at, "", base);
		return;
	}
	if (strlen(scalar(vn)) != vn->data.scalar.length) {
		cfg_error(ld, at, "value contains a NUL byte");
		return;
	}
	if ((refs = interp_expand(scalar(vn), &val, err, sizeof(err))) == -1) {
		cfg_error(ld, at, "%s", err);
		return;
	}
	if (k->flags & F_NOTE_LITERAL)
		ld->secret_literal = refs == 0;
	set_value(ld, k, at, val, is_plain(vn), base);
	free(val);
}

static void
load_list(struct loader *ld, const struct key *k, yaml_node_t *vn,
    const struct site *at, void *base)
{
	const struct block *b = k->sub;
	yaml_node_item_t *items = vn->data.sequence.items.start;
	size_t n, i;
	char *elems, path[PATH_LEN];
	struct site es = { path, 0 };

	if (is_null(vn) || (vn->type == YAML_SEQUENCE_NODE &&
	    vn->data.sequence.items.top == items)) {
		if (k->flags & F_REQUIRED)
			cfg_error(ld, at, "list is empty; add at least one entry");
		return;
	}
	if (vn->type != YAML_SEQUENCE_NODE) {
		wrong_type(ld, at, vn, "a list");
		return;
	}
	n = (size_t)(vn->data.sequence.items.top - items);
	elems = xcalloc(n, b->size);
	memcpy(field(base, k->off), &elems, sizeof(elems));
	*(size_t *)field(base, k->count_off) = n;
	for (i = 0; i < n; i++) {
		yaml_node_t *en = node_at(ld, items[i]);
		void *e = elems + i * b->size;

		snprintf(path, sizeof(path), "%s[%zu]", at->path, i);
		es.line = line_of(en);
		if (b->has_line)
			*(int *)field(e, b->line_off) = es.line;
		apply_defaults(ld, b, e);
		load_block(ld, b, en, &es, e);
	}
	if (b->list_check != NULL)
		b->list_check(ld, elems, n);
}

static const struct key *
find_key(const struct block *b, const char *name)
{
	size_t i;

	for (i = 0; i < b->nkeys; i++)
		if (strcmp(b->keys[i].name, name) == 0)
			return &b->keys[i];
	return NULL;
}

static void
load_pair(struct loader *ld, const struct block *b, yaml_node_pair_t *pair,
    const struct site *parent, void *base, int *seen)
{
	yaml_node_t *kn = node_at(ld, pair->key), *vn = node_at(ld, pair->value);
	const struct key *k;
	char path[PATH_LEN];
	struct site at = { path, line_of(kn) };

	if (kn->type != YAML_SCALAR_NODE) {
		at.path = parent->path;
		cfg_error(ld, &at, "expected a plain key, got a %s",
		    kn->type == YAML_MAPPING_NODE ? "mapping" : "list");
		return;
	}
	child_path(path, sizeof(path), parent->path, scalar(kn));
	if ((k = find_key(b, scalar(kn))) == NULL) {
		unknown_block_key(ld, &at, b, scalar(kn));
		return;
	}
	if (seen[k - b->keys] > 0) {
		cfg_error(ld, &at, "duplicate key; first given on line %d",
		    seen[k - b->keys]);
		return;
	}
	seen[k - b->keys] = at.line;
	if (k->type == T_BLOCK)
		load_block(ld, k->sub, vn, &at, field(base, k->off));
	else if (k->type == T_LIST)
		load_list(ld, k, vn, &at, base);
	else
		load_scalar(ld, k, vn, &at, base);
}

/*
 * A string key required only in some setups (its `required` predicate)
 * keeps an empty value as "" until the whole block is read.  Then an
 * empty value is reported when the key is required, and becomes NULL
 * otherwise.
 */
static void
check_conditional(struct loader *ld, const struct key *k, struct site *s,
    int seen, void *base)
{
	char **value = field(base, k->off);
	bool required = k->required(base);

	if (*value != NULL && **value == '\0') {
		free(*value);
		*value = NULL;
		s->line = seen;
		if (required)
			cfg_error(ld, s, "value is empty; this key is required");
	} else if (seen == 0 && required) {
		cfg_error(ld, s, "required key is missing");
	}
}

/* Report required keys that were not given. */
static void
check_required(struct loader *ld, const struct block *b,
    const struct site *at, const int *seen, void *base)
{
	char path[PATH_LEN];
	struct site s = { path, at->line };
	const struct key *k;
	size_t i;

	for (i = 0; i < b->nkeys; i++) {
		k = &b->keys[i];
		child_path(path, sizeof(path), at->path, k->name);
		s.line = at->line;
		if ((k->flags & F_REQUIRED) && seen[i] == 0)
			cfg_error(ld, &s, "required key is missing");
		else if (k->required != NULL)
			check_conditional(ld, k, &s, seen[i], base);
	}
}

/* Load mapping NODE (null counts as empty) into BASE, described by B. */
static void
load_block(struct loader *ld, const struct block *b, yaml_node_t *node,
    const struct site *at, void *base)
{
	int seen[MAX_KEYS] = { 0 };
	int nerr = ld->nerr;
	yaml_node_pair_t *pair;

	if (b->nkeys > MAX_KEYS)
		abort();	/* raise MAX_KEYS */
	if (!is_null(node) && node->type != YAML_MAPPING_NODE) {
		wrong_type(ld, at, node, "a mapping");
		return;
	}
	if (node->type == YAML_MAPPING_NODE) {
		for (pair = node->data.mapping.pairs.start;
		    pair < node->data.mapping.pairs.top; pair++)
			load_pair(ld, b, pair, at, base, seen);
	}
	check_required(ld, b, at, seen, base);
	if (b->check != NULL && ld->nerr == nerr)
		b->check(ld, at, base, seen);
}

/* The top level: the block itself, or a Redpanda Connect document. */

static yaml_node_t *
pair_value(struct loader *ld, yaml_node_t *map, const char *name)
{
	yaml_node_pair_t *p;

	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	    p++) {
		yaml_node_t *kn = node_at(ld, p->key);

		if (kn->type == YAML_SCALAR_NODE && strcmp(scalar(kn), name) == 0)
			return node_at(ld, p->value);
	}
	return NULL;
}

static void
unknown_output_key(struct loader *ld, const struct site *at, const char *name)
{
	static const char *const names[] = { "salesforce_sink", "label" };
	const char *hint = closest(name, names, NKEYS(names));

	if (hint != NULL)
		cfg_error(ld, at, "unknown key; did you mean \"%s\"?", hint);
	else
		cfg_error(ld, at, "unknown key; sfsink reads only "
		    "salesforce_sink (and ignores label) here");
}

/*
 * Find salesforce_sink in the value of output or outputs (KN is its key).
 * Returns the block node, or NULL after reporting.
 */
static yaml_node_t *
find_in_output(struct loader *ld, yaml_node_t *kn, yaml_node_t *vn,
    struct site *sink)
{
	const char *out = scalar(kn);
	yaml_node_t *found = NULL;
	yaml_node_pair_t *p;
	char path[PATH_LEN];
	struct site at = { out, line_of(kn) };

	if (vn->type != YAML_MAPPING_NODE) {
		cfg_error(ld, &at, "expected a mapping holding salesforce_sink");
		return NULL;
	}
	for (p = vn->data.mapping.pairs.start; p < vn->data.mapping.pairs.top;
	    p++) {
		yaml_node_t *ck = node_at(ld, p->key);
		struct site cs = { path, line_of(ck) };

		if (ck->type != YAML_SCALAR_NODE)
			continue;
		child_path(path, sizeof(path), out, scalar(ck));
		if (strcmp(scalar(ck), "salesforce_sink") == 0) {
			found = node_at(ld, p->value);
			sink->line = cs.line;
		} else if (strcmp(scalar(ck), "label") != 0)
			unknown_output_key(ld, &cs, scalar(ck));
	}
	if (found == NULL)
		cfg_error(ld, &at, "missing salesforce_sink block; sfsink "
		    "writes only to Salesforce");
	return found;
}

/* In a Redpanda Connect document, check the top-level keys. */
static void
check_redpanda_keys(struct loader *ld, yaml_node_t *top)
{
	yaml_node_pair_t *p;
	size_t i;

	for (p = top->data.mapping.pairs.start; p < top->data.mapping.pairs.top;
	    p++) {
		yaml_node_t *kn = node_at(ld, p->key);
		char path[PATH_LEN];
		struct site at = { path, line_of(kn) };

		if (kn->type != YAML_SCALAR_NODE)
			continue;
		for (i = 0; i < NKEYS(redpanda_keys); i++)
			if (strcmp(scalar(kn), redpanda_keys[i]) == 0)
				break;
		if (i < NKEYS(redpanda_keys))
			continue;
		child_path(path, sizeof(path), "", scalar(kn));
		unknown_key(ld, &at, scalar(kn), redpanda_keys,
		    NKEYS(redpanda_keys));
	}
}

/* Return the node of the salesforce_sink block, or NULL after reporting. */
static yaml_node_t *
find_sink(struct loader *ld, yaml_node_t *top, struct site *sink)
{
	yaml_node_t *out = pair_value(ld, top, "output");
	yaml_node_t *outs = pair_value(ld, top, "outputs");
	yaml_node_pair_t *p;

	sink->line = line_of(top);
	if (out == NULL && outs == NULL)
		return top;
	check_redpanda_keys(ld, top);
	if (out != NULL && outs != NULL) {
		sink->line = line_of(outs);
		cfg_error(ld, sink, "output and outputs are both given; keep "
		    "one");
		return NULL;
	}
	for (p = top->data.mapping.pairs.start;
	    p < top->data.mapping.pairs.top; p++)
		if (node_at(ld, p->value) == (out != NULL ? out : outs))
			break;
	return find_in_output(ld, node_at(ld, p->key), node_at(ld, p->value),
	    sink);
}

static void
load_document(struct loader *ld, struct config *cfg)
{
	yaml_node_t *top = yaml_document_get_root_node(ld->doc), *block;
	struct site at = { "", 1 };

	if (top == NULL || is_null(top)) {
		cfg_error(ld, &at, "config is empty; expected the "
		    "salesforce_sink settings");
		return;
	}
	if (top->type != YAML_MAPPING_NODE) {
		at.line = line_of(top);
		wrong_type(ld, &at, top, "a mapping of salesforce_sink settings");
		return;
	}
	if ((block = find_sink(ld, top, &at)) != NULL)
		load_block(ld, &root_block, block, &at, cfg);
}

static void
yaml_fail(struct loader *ld, const yaml_parser_t *p)
{
	const char *problem = p->problem ? p->problem : "cannot parse";

	if (p->error == YAML_READER_ERROR)
		log_error(ld->lg, "%s: invalid YAML: %s at byte %zu", ld->file,
		    problem, p->problem_offset);
	else
		log_error(ld->lg, "%s:%zu:%zu: invalid YAML: %s", ld->file,
		    p->problem_mark.line + 1, p->problem_mark.column + 1,
		    problem);
	ld->nerr++;
}

/* Parse FP into DOC.  A second document in the stream is an error. */
static int
parse_file(struct loader *ld, FILE *fp, yaml_document_t *doc)
{
	yaml_parser_t parser;
	yaml_document_t extra;
	struct site at = { "", 0 };
	int rc = -1;

	if (!yaml_parser_initialize(&parser)) {
		log_error(ld->lg, "cannot initialize the YAML parser");
		ld->nerr++;
		return -1;
	}
	yaml_parser_set_input_file(&parser, fp);
	if (!yaml_parser_load(&parser, doc))
		yaml_fail(ld, &parser);
	else if (!yaml_parser_load(&parser, &extra)) {
		yaml_fail(ld, &parser);
		yaml_document_delete(doc);
	} else {
		if (yaml_document_get_root_node(&extra) != NULL) {
			at.line = (int)extra.start_mark.line + 1;
			cfg_error(ld, &at, "more than one YAML document; keep "
			    "only the salesforce_sink settings");
			yaml_document_delete(doc);
		} else
			rc = 0;
		yaml_document_delete(&extra);
	}
	yaml_parser_delete(&parser);
	return rc;
}

/* Open PATH for reading.  A directory is rejected here, not by libyaml. */
static FILE *
open_config(const char *path, const struct logger *lg)
{
	struct stat st;
	FILE *fp;

	if ((fp = fopen(path, "rb")) == NULL) {
		log_error(lg, "cannot open config \"%s\": %s", path,
		    strerror(errno));
		return NULL;
	}
	if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
		log_error(lg, "cannot open config \"%s\": %s", path,
		    strerror(EISDIR));
		fclose(fp);
		return NULL;
	}
	return fp;
}

int
config_load(struct config *cfg, const char *path, const struct logger *lg)
{
	struct loader ld = { path, lg, NULL, 0, false };
	yaml_document_t doc;
	FILE *fp;

	memset(cfg, 0, sizeof(*cfg));
	cfg->path = xstrdup(path);
	apply_defaults(&ld, &root_block, cfg);
	if ((fp = open_config(path, lg)) == NULL) {
		config_free(cfg);
		return -1;
	}
	if (parse_file(&ld, fp, &doc) == 0) {
		ld.doc = &doc;
		load_document(&ld, cfg);
		yaml_document_delete(&doc);
	}
	fclose(fp);
	if (ld.nerr > 0) {
		config_free(cfg);
		return -1;
	}
	cfg->secret_in_file = ld.secret_literal;
	return 0;
}

/* Lookups and release. */

const struct mapping *
config_find_mapping(const struct config *cfg, const char *topic)
{
	size_t i;

	for (i = 0; i < cfg->n_mappings; i++)
		if (strcmp(cfg->mappings[i].topic, topic) == 0)
			return &cfg->mappings[i];
	return NULL;
}

const char *
operation_name(enum operation op)
{
	switch (op) {
	case OP_INSERT:
		return "insert";
	case OP_UPDATE:
		return "update";
	case OP_UPSERT:
		return "upsert";
	case OP_DELETE:
		return "delete";
	case OP_HARD_DELETE:
		return "hardDelete";
	}
	return "unknown";
}

const char *
write_mode_name(enum write_mode mode)
{
	switch (mode) {
	case MODE_BULK:
		return "bulk";
	case MODE_AUTO:
		return "auto";
	case MODE_REALTIME:
		break;
	}
	return "realtime";
}

const char *
auth_method_name(enum auth_method method)
{
	switch (method) {
	case AUTH_CLIENT_CREDENTIALS:
		return "client_credentials";
	case AUTH_JWT:
		return "jwt";
	case AUTH_ACCESS_TOKEN:
		return "access_token";
	}
	return "unknown";
}

/* Free the strings and lists of B at BASE, following the schema. */
static void
free_block(const struct block *b, void *base)
{
	const struct key *k;
	char *elems;
	size_t n, i;

	for (k = b->keys; k < b->keys + b->nkeys; k++) {
		if (k->type == T_STRING) {
			free(*(char **)field(base, k->off));
		} else if (k->type == T_BLOCK) {
			free_block(k->sub, field(base, k->off));
		} else if (k->type == T_LIST) {
			memcpy(&elems, field(base, k->off), sizeof(elems));
			n = *(size_t *)field(base, k->count_off);
			for (i = 0; i < n; i++)
				free_block(k->sub, elems + i * k->sub->size);
			free(elems);
		}
	}
}

void
config_free(struct config *cfg)
{
	free_block(&root_block, cfg);
	free(cfg->path);
	memset(cfg, 0, sizeof(*cfg));
}
