/*
 * resume.c - sfsink --resume JOURNAL: collect the results of open bulk jobs.
 *
 * The run is an ordinary sink run without input: every open job becomes a
 * chunk of records rebuilt from the journal and goes to bulk_resume(), so
 * polling, limits, signals, matching and result lines are those of a
 * normal run.  The records' mappings come from the journal, because the
 * configuration may have changed since.  The configuration gives only the
 * org, credentials and http settings.
 */
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "journal.h"
#include "resume.h"
#include "xalloc.h"

/* The jobs still open in a journal and the mappings their records use. */
struct resume {
	struct journal_contents jc;
	struct journal_job **open;	/* borrowed from jc */
	size_t n_open;
	struct mapping *maps;		/* one per distinct job mapping; strings borrowed from jc */
	size_t n_maps;
	size_t *map_of;			/* per open job: its index in maps */
};

static bool
same_string(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool
same_mapping(const struct mapping *a, const struct mapping *b)
{
	return same_string(a->topic, b->topic) &&
	    same_string(a->sobject, b->sobject) &&
	    a->operation == b->operation &&
	    same_string(a->external_id_field, b->external_id_field);
}

/* Index of MAP in R's mappings, adding it when it is new. */
static size_t
add_mapping(struct resume *r, const struct mapping *map)
{
	size_t i;

	for (i = 0; i < r->n_maps; i++) {
		if (same_mapping(&r->maps[i], map))
			return i;
	}
	r->maps[r->n_maps] = *map;
	return r->n_maps++;
}

/* Pick the open, complete jobs of R's journal contents; warn about cut entries. */
static void
select_open(struct resume *r, const char *path, const struct logger *lg)
{
	struct journal_job *job;
	size_t i;

	r->open = xcalloc(r->jc.n_jobs ? r->jc.n_jobs : 1, sizeof(*r->open));
	r->maps = xcalloc(r->jc.n_jobs ? r->jc.n_jobs : 1, sizeof(*r->maps));
	r->map_of = xcalloc(r->jc.n_jobs ? r->jc.n_jobs : 1,
	    sizeof(*r->map_of));
	for (i = 0; i < r->jc.n_jobs; i++) {
		job = &r->jc.jobs[i];
		if (job->done)
			continue;
		if (job->n_recs != job->expected) {
			log_warn(lg, "journal %s:%ld: the entry of job %s has %zu "
			    "of its %zu records (the run that wrote it ended "
			    "first, before closing the job); skipping it", path,
			    job->line, job->job_id, job->n_recs, job->expected);
			continue;
		}
		r->map_of[r->n_open] = add_mapping(r, &job->map);
		r->open[r->n_open++] = job;
	}
}

/* Rebuild the records of JOB, routed to MAP, as one chunk. */
static struct chunk *
rebuild_chunk(const struct journal_job *job, const struct mapping *map)
{
	struct record **recs = xcalloc(job->n_recs ? job->n_recs : 1,
	    sizeof(*recs));
	const struct journal_record *jr;
	struct record *rec;
	size_t i;

	for (i = 0; i < job->n_recs; i++) {
		jr = &job->recs[i];
		rec = record_new(jr->source, jr->line);
		rec->topic = xstrdup(jr->topic ? jr->topic : map->topic);
		rec->map = map;
		rec->mode = MODE_BULK;
		rec->data = xstrndup(jr->data, jr->data_len);
		rec->data_len = jr->data_len;
		rec->key = jr->key ? xstrdup(jr->key) : NULL;
		rec->has_kafka = jr->has_kafka;
		rec->partition = jr->partition;
		rec->offset = jr->offset;
		recs[i] = rec;
	}
	return chunk_new(map, recs, job->n_recs);
}

static void
resume_free(struct resume *r)
{
	free(r->open);
	free(r->maps);
	free(r->map_of);
	journal_contents_free(&r->jc);
}

/* Run the sink over R's open jobs; returns its exit status. */
static int
collect(struct resume *r, const struct config *cfg, const struct logger *lg,
    FILE *out, const char *out_name, const struct sink_options *opts,
    bool summary)
{
	struct config rcfg = *cfg;
	struct sink s;
	size_t i;
	int status;

	rcfg.mappings = r->maps;
	rcfg.n_mappings = r->n_maps;
	if (sink_init(&s, &rcfg, lg, NULL, out, out_name, opts) == -1) {
		sink_free(&s);
		return EXIT_FATAL;
	}
	/*
	 * The sink polls at most max_concurrent_bulk_jobs of them at a time.
	 * NOTE: the records of every open job are rebuilt here, so all of
	 * them stay in memory for the whole run.
	 */
	for (i = 0; i < r->n_open; i++)
		sink_resume_job(&s, rebuild_chunk(r->open[i],
		    &r->maps[r->map_of[i]]), r->open[i]->job_id,
		    r->open[i]->api_version);
	status = sink_run(&s);
	if (summary)
		sink_summary(&s);
	sink_free(&s);
	return status;
}

int
resume_run(const struct config *cfg, const struct logger *lg,
    const char *path, FILE *out, const char *out_name,
    struct sink_options *opts, bool summary)
{
	struct resume r;
	int status;

	memset(&r, 0, sizeof(r));
	if (journal_read(path, &r.jc, lg) == -1)
		return EXIT_USAGE;
	select_open(&r, path, lg);
	if (r.n_open == 0) {
		log_info(lg, "journal %s: no open bulk jobs, so no results are "
		    "owed", path);
		resume_free(&r);
		return EXIT_ALL_OK;
	}
	log_info(lg, "journal %s: collecting the results of %zu open bulk "
	    "jobs", path, r.n_open);
	opts->journal = journal_open(path, lg);
	if (opts->journal == NULL) {
		resume_free(&r);
		return EXIT_USAGE;
	}
	status = collect(&r, cfg, lg, out, out_name, opts, summary);
	journal_close(opts->journal);
	opts->journal = NULL;
	resume_free(&r);
	return status;
}
