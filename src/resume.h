/*
 * resume.h - sfsink --resume JOURNAL: collect the results of open bulk jobs.
 *
 * A job of the journal (journal.h) without a done line was closed, but its
 * records never got their final results: the run that created it stopped
 * waiting at --shutdown-wait or --bulk-wait, lost its results, or ended.
 * Resuming polls each such job, downloads its results, matches them to
 * the records kept in the journal exactly as the run would have, writes
 * their result lines and marks the job done.  Nothing is uploaded and no
 * job is created.  Entries cut short (a crash while writing them) are
 * skipped with a warning: their jobs were never closed.
 */
#ifndef SFSINK_RESUME_H
#define SFSINK_RESUME_H

#include <stdbool.h>
#include <stdio.h>

#include "config.h"
#include "log.h"
#include "sink.h"

/*
 * Resume the jobs of the journal at PATH, writing result lines to OUT
 * (named OUT_NAME in messages) and, when SUMMARY is set, the summary to
 * stderr.  OPTS gives the status line and wait limits, and its
 * journal is set here.  Returns the exit status: EXIT_USAGE when the
 * journal cannot be read, otherwise that of sink_run().
 */
int resume_run(const struct config *cfg, const struct logger *lg,
    const char *path, FILE *out, const char *out_name,
    struct sink_options *opts, bool summary);

#endif
