/*
 * mock_broker.c - a local Kafka cluster for the tests.
 *
 * usage: mock_broker [TOPIC[:PARTITIONS]...]
 *
 * Starts librdkafka's mock cluster (one broker, listening on loopback),
 * creates each TOPIC with PARTITIONS partitions (default 1), and prints the
 * bootstrap address ("127.0.0.1:PORT") as one line on stdout once clients
 * can connect.  It serves kcat and any other Kafka client until SIGTERM or
 * SIGINT, or until end of file on stdin when stdin is a pipe, so a parent
 * can tie the broker's life to its own.  Exit status 0, or 1 when the
 * cluster cannot be started.
 *
 * The mock cluster keeps messages in memory only and speaks the Kafka
 * protocol for produce, fetch, metadata, offsets and consumer groups.  It
 * is meant for tests, not for data that must survive.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define POLL_MS	200

static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void
catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

/* Create the topic described by SPEC, "NAME" or "NAME:PARTITIONS". */
static int
create_topic(rd_kafka_mock_cluster_t *mc, const char *spec)
{
	char name[256], *colon, *end;
	long partitions = 1;
	rd_kafka_resp_err_t err;

	if (snprintf(name, sizeof(name), "%s", spec) >= (int)sizeof(name)) {
		fprintf(stderr, "mock_broker: topic name longer than 255 "
		    "bytes: %s\n", spec);
		return -1;
	}
	colon = strchr(name, ':');
	if (colon != NULL) {
		*colon = '\0';
		errno = 0;
		partitions = strtol(colon + 1, &end, 10);
		if (errno != 0 || *end != '\0' || partitions < 1 ||
		    partitions > 1000) {
			fprintf(stderr, "mock_broker: invalid partition count "
			    "in \"%s\"; expected TOPIC:N with N from 1 to "
			    "1000\n", spec);
			return -1;
		}
	}
	err = rd_kafka_mock_topic_create(mc, name, (int)partitions, 1);
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		fprintf(stderr, "mock_broker: cannot create topic \"%s\": "
		    "%s\n", name, rd_kafka_err2str(err));
		return -1;
	}
	return 0;
}

/* Wait for a signal, or for EOF on stdin when stdin is a pipe. */
static void
serve(void)
{
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	struct stat st;
	bool watch_stdin;
	char buf[256];

	watch_stdin = fstat(STDIN_FILENO, &st) == 0 && S_ISFIFO(st.st_mode);
	while (!stop_requested) {
		if (!watch_stdin) {
			poll(NULL, 0, POLL_MS);
			continue;
		}
		if (poll(&pfd, 1, POLL_MS) > 0 &&
		    read(STDIN_FILENO, buf, sizeof(buf)) == 0)
			break;
	}
}

int
main(int argc, char **argv)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_mock_cluster_t *mc;
	rd_kafka_t *rk;
	char errstr[512];
	int i;

	catch_signals();

	/* The handle only hosts the cluster: it has no bootstrap servers. */
	if (rd_kafka_conf_set(conf, "log_level", "3", errstr,
	    sizeof(errstr)) != RD_KAFKA_CONF_OK) {
		fprintf(stderr, "mock_broker: %s\n", errstr);
		return 1;
	}
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (rk == NULL) {
		fprintf(stderr, "mock_broker: cannot create a handle: %s\n",
		    errstr);
		return 1;
	}
	mc = rd_kafka_mock_cluster_new(rk, 1);
	if (mc == NULL) {
		fprintf(stderr, "mock_broker: cannot start the mock "
		    "cluster\n");
		rd_kafka_destroy(rk);
		return 1;
	}
	for (i = 1; i < argc; i++) {
		if (create_topic(mc, argv[i]) == -1) {
			rd_kafka_mock_cluster_destroy(mc);
			rd_kafka_destroy(rk);
			return 1;
		}
	}

	printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
	fflush(stdout);
	serve();

	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return 0;
}
