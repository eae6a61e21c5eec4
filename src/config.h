/*
 * config.h - the salesforce_sink configuration: load, validate, free.
 *
 * The file is YAML.  Its top level is either the salesforce_sink block
 * itself, or a Redpanda Connect document that holds the block under
 * output.salesforce_sink or outputs.salesforce_sink (a sibling `label` is
 * ignored), so a block pastes in unchanged.  Every key of Redpanda
 * Connect's salesforce_sink output is parsed, type-checked, range-checked
 * and given its default here.  ${VAR} and ${VAR:default} in scalar values
 * are replaced from the environment before the value is converted.
 *
 * Durations use Go's syntax ("300ms", "1m30s", "0s") and are stored in
 * nanoseconds.  A negative duration is accepted only where the reference
 * gives it a meaning (tcp.keep_alive.idle).
 */
#ifndef SFSINK_CONFIG_H
#define SFSINK_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"

enum operation {
	OP_INSERT,
	OP_UPDATE,
	OP_UPSERT,
	OP_DELETE,
	OP_HARD_DELETE,		/* bulk mode only */
};

enum write_mode {
	MODE_REALTIME,
	MODE_BULK,
	MODE_AUTO,		/* per chunk: bulk from bulk_threshold records on */
};

struct mapping {
	char *topic;
	char *sobject;
	enum operation operation;
	enum write_mode mode;
	char *external_id_field;	/* NULL when not set */
	bool all_or_none;
	int64_t bulk_threshold;		/* MODE_AUTO: records that make a chunk bulk */
	int line;			/* line of the entry in the file */
};

struct client_cert {
	char *cert;		/* PEM text, or NULL */
	char *key;		/* PEM text, or NULL */
	char *cert_file;	/* path, or NULL */
	char *key_file;		/* path, or NULL */
	char *password;		/* NULL when the key is not encrypted */
};

struct h2_config {
	bool strict_max_concurrent_requests;
	int64_t max_decoder_header_table_size;
	int64_t max_encoder_header_table_size;
	int64_t max_read_frame_size;
	int64_t max_receive_buffer_per_connection;
	int64_t max_receive_buffer_per_stream;
	int64_t send_ping_timeout_ns;
	int64_t ping_timeout_ns;
	int64_t write_byte_timeout_ns;
};

struct transport_config {
	int64_t max_idle_conns;
	int64_t max_idle_conns_per_host;
	int64_t max_conns_per_host;
	int64_t idle_conn_timeout_ns;
	int64_t tls_handshake_timeout_ns;
	int64_t expect_continue_timeout_ns;
	int64_t response_header_timeout_ns;
	bool disable_keep_alives;
	bool disable_compression;
	int64_t max_response_header_bytes;
	int64_t max_response_body_bytes;
	int64_t write_buffer_size;
	int64_t read_buffer_size;
	struct h2_config h2;
};

struct http_config {
	int64_t timeout_ns;
	struct {
		bool enabled;
		bool skip_cert_verify;
		bool enable_renegotiation;
		char *root_cas;		/* PEM text, or NULL */
		char *root_cas_file;	/* path, or NULL */
		struct client_cert *client_certs;
		size_t n_client_certs;
	} tls;
	char *proxy_url;		/* NULL when empty */
	bool disable_http2;
	double tps_limit;
	int64_t tps_burst;
	struct {
		int64_t initial_interval_ns;
		int64_t max_interval_ns;
		int64_t max_retries;
	} backoff;
	struct {
		int64_t connect_timeout_ns;
		int64_t keep_alive_idle_ns;	/* negative disables probes */
		int64_t keep_alive_interval_ns;
		int64_t keep_alive_count;
		int64_t tcp_user_timeout_ns;
	} tcp;
	struct transport_config http;
	bool access_log;		/* false when access_log_level is "" */
	enum log_level access_log_level;
	int64_t access_log_body_limit;
};

/* The OAuth flow of the auth block, which Redpanda Connect lacks. */
enum auth_method {
	AUTH_CLIENT_CREDENTIALS,	/* client_id and client_secret */
	AUTH_JWT,			/* JWT bearer flow, RS256 */
	AUTH_ACCESS_TOKEN,		/* a token obtained elsewhere */
};

struct auth_config {
	enum auth_method method;
	char *username;		/* jwt: the sub claim */
	char *private_key;	/* jwt: PEM text, or NULL */
	char *private_key_file;	/* jwt: path, or NULL */
	char *audience;		/* jwt: the aud claim; NULL: chosen by org_url */
	char *access_token;	/* access_token: the token */
	char *instance_url;	/* access_token: API base URL; NULL: org_url */
};

struct config {
	char *path;			/* as given on the command line */
	char *org_url;			/* without a trailing slash */
	char *client_id;		/* NULL only with auth.method access_token */
	char *client_secret;		/* NULL unless client_credentials */
	char *api_version;		/* "v65.0" */
	int64_t bulk_batch_size;
	int64_t max_concurrent_bulk_jobs;
	int64_t bulk_poll_interval_ns;
	int64_t batch_period_ns;
	int64_t max_in_flight;
	struct mapping *mappings;
	size_t n_mappings;
	struct http_config http;
	struct auth_config auth;
	bool secret_in_file;		/* client_secret written literally */
};

/*
 * Load and validate PATH into CFG.  On success returns 0 and CFG owns
 * every string in it (release with config_free).  On failure prints one
 * "sfsink: FILE:LINE: KEY.PATH: problem" message per error found through
 * LG, frees whatever was built, and returns -1; the caller exits with
 * status 2.
 */
int config_load(struct config *cfg, const char *path, const struct logger *lg);

/*
 * Return the Levenshtein distance between two API names, ignoring ASCII
 * case as Salesforce does, for "did you mean" hints; SIZE_MAX when either
 * name is longer than a key or field name can be.
 */
size_t config_name_distance(const char *a, const char *b);

/* Find the mapping of TOPIC, or NULL. */
const struct mapping *config_find_mapping(const struct config *cfg,
    const char *topic);

const char *operation_name(enum operation op);
const char *auth_method_name(enum auth_method method);
const char *write_mode_name(enum write_mode mode);

void config_free(struct config *cfg);

#endif
