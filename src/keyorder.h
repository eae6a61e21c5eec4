/*
 * keyorder.h - one write at a time per Salesforce record, in input order.
 *
 * Two input records that name the same Salesforce record (the same Id, or
 * the same external ID value of the same sObject and field) must never be
 * in flight together: Salesforce gives no order between concurrent
 * requests or between the rows of one bulk job, and the later input line
 * must win.  Every keyed record joins its key's queue when it is read.  It
 * may be sent only while it is first in that queue, and it leaves the
 * queue when its result has been written.
 */
#ifndef SFSINK_KEYORDER_H
#define SFSINK_KEYORDER_H

#include <stdbool.h>

#include "record.h"

struct keyorder;

struct keyorder *keyorder_new(void);

/* Append REC, whose key and map are set, to its key's queue. */
void keyorder_add(struct keyorder *ko, struct record *rec);

/* Is REC first in its key's queue?  Records without a key always are. */
bool keyorder_ready(const struct record *rec);

/* Remove REC from its key's queue, wherever it is; no-op without a key. */
void keyorder_remove(struct keyorder *ko, struct record *rec);

void keyorder_free(struct keyorder *ko);

#endif
