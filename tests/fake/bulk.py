"""Bulk API 2.0 ingest jobs: create, upload, close/abort, info, results, delete.

Sources (Bulk API 2.0 and Bulk API Developer Guide): "Create a Job",
"Upload Job Data", "Upload Complete", "Get Job Info", "Get Job Successful
Record Results", "Get Job Failed Record Results", "Get Job Unprocessed
Record Results", "Delete a Job", "Prepare CSV Files", "Relationship Fields
in a Header Row (2.0)", "Errors".  Captured job bodies (see the comments at
each use) fix the exact errorMessage texts.
"""
import random
import threading
import time

import bulkcsv
import dml
import values
from jsonpos import JObj, JsonError, Num, loads
from store import sf_now

DELIMITERS = {"BACKQUOTE": "`", "CARET": "^", "COMMA": ",", "PIPE": "|",
              "SEMICOLON": ";", "TAB": "\t"}
OPERATIONS = ("insert", "update", "upsert", "delete", "hardDelete")
OPEN_STATES = ("Open", "UploadComplete", "InProgress")
TERMINAL = ("JobComplete", "Failed", "Aborted")


class BulkError(Exception):
    """An HTTP-level Bulk API error: status and [{"errorCode","message"}]."""

    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def body(self):
        return [{"errorCode": self.code, "message": self.message}]


def _not_found():
    # "Get Job Info": a deleted or unknown job gives 404 NOT_FOUND.
    return BulkError(404, "NOT_FOUND", "The requested resource does not exist")


class Job:
    def __init__(self, jid, obj, operation, ext_field, line_ending, delimiter, version, user_id):
        self.id, self.obj, self.operation = jid, obj, operation
        self.ext_field = ext_field
        self.line_ending, self.delimiter_name = line_ending, delimiter
        self.version, self.user_id = version, user_id
        self.state = "Open"
        self.created = self.modstamp = sf_now()
        self.created_epoch, self.closed_epoch = time.time(), None
        self.data = None              # raw bytes of the one upload
        self.error_message = None
        self.fail_with = None         # set by a job_fail fault rule
        self.delay = None             # per-job InProgress time (control API)
        self.processed = self.failed = 0
        self.header = []
        self.successes, self.failures, self.unprocessed = [], [], None
        self.progress_started = None

    @property
    def delimiter(self):
        return DELIMITERS[self.delimiter_name]

    @property
    def eol(self):
        return "\r\n" if self.line_ending == "CRLF" else "\n"

    def info(self, short=False):
        """JobInfo, keys in the order of the documented examples."""
        out = {"id": self.id, "operation": self.operation, "object": self.obj.name,
               "createdById": self.user_id, "createdDate": self.created,
               "systemModstamp": self.modstamp, "state": self.state}
        if self.ext_field:
            out["externalIdFieldName"] = self.ext_field["name"]
        out.update(concurrencyMode="Parallel", contentType="CSV", apiVersion=Num(self.version))
        if short:
            return out
        out["jobType"] = "V2Ingest"
        if self.state == "Open":
            # contentUrl has no leading slash and is only shown while Open.
            out["contentUrl"] = "services/data/v%s/jobs/ingest/%s/batches" % (self.version, self.id)
        out.update(lineEnding=self.line_ending, columnDelimiter=self.delimiter_name)
        if self.state != "Open":
            out.update(numberRecordsProcessed=self.processed, numberRecordsFailed=self.failed)
        out.update(retries=0, totalProcessingTime=0, apiActiveProcessingTime=0,
                   apexProcessingTime=0)
        if self.error_message:
            out["errorMessage"] = self.error_message
        return out

    def control_view(self):
        return {"id": self.id, "object": self.obj.name, "operation": self.operation,
                "state": self.state, "externalIdFieldName":
                    self.ext_field["name"] if self.ext_field else None,
                "lineEnding": self.line_ending, "columnDelimiter": self.delimiter_name,
                "csv": None if self.data is None else self.data.decode("utf-8", "replace"),
                "numberRecordsProcessed": self.processed, "numberRecordsFailed": self.failed,
                "errorMessage": self.error_message, "created": self.created_epoch,
                "closed": self.closed_epoch, "bulk_delay": self.delay}


class Bulk:
    def __init__(self, schema, store, engine, config, id_factory, user_id, stats):
        self.schema, self.store, self.engine = schema, store, engine
        self.config, self.ids, self.user_id, self.stats = config, id_factory, user_id, stats
        self.lock = threading.RLock()
        self.jobs = {}

    def reset(self):
        with self.lock:
            for job in self.jobs.values():
                if job.state in OPEN_STATES:
                    job.state = "Aborted"   # stops any processing thread
            self.jobs = {}
        self._count_open()

    def _count_open(self):
        with self.lock:
            n = sum(1 for j in self.jobs.values() if j.state in OPEN_STATES)
        self.stats.set_open_jobs(n)

    def job(self, jid):
        with self.lock:
            job = self.jobs.get(jid)
        if job is None:
            raise _not_found()
        return job

    # -- create -----------------------------------------------------------
    def create(self, body_text, version):
        """Create a job from its JSON description; return (200, JobInfo)."""
        try:
            body = loads(body_text)
        except JsonError as exc:
            raise BulkError(400, "JSON_PARSER_ERROR", exc.jackson())
        if not isinstance(body, JObj):
            raise BulkError(400, "JSON_PARSER_ERROR", "Cannot deserialize instance of JobInfo")

        # NOTE: the codes and texts of the job-creation errors below are
        # assumed, because no capture of them was found.
        obj = self.schema.get(body.get("object"))
        if obj is None:
            raise BulkError(400, "INVALIDJOB", "Unable to find object: %s" % body.get("object"))
        op = body.get("operation")
        op = next((o for o in OPERATIONS if isinstance(op, str) and o.lower() == op.lower()), None)
        if op is None:
            raise BulkError(400, "INVALIDJOB", "InvalidJob : Invalid operation: %s"
                            % body.get("operation"))
        ext = None
        if op == "upsert":
            ext = obj.field(body.get("externalIdFieldName") or "")
            if ext is None or not (ext["externalId"] or ext["idLookup"]):
                raise BulkError(400, "INVALIDJOB", "InvalidJob : Field name provided, %s is not "
                                "an External ID or indexed field for %s"
                                % (body.get("externalIdFieldName"), obj.name))

        line_ending = body.get("lineEnding") or "LF"
        delimiter = body.get("columnDelimiter") or "COMMA"
        if line_ending not in ("LF", "CRLF") or delimiter not in DELIMITERS or \
                (body.get("contentType") or "CSV") != "CSV":
            raise BulkError(400, "INVALIDJOB", "InvalidJob : Invalid lineEnding, "
                            "columnDelimiter or contentType")

        job = Job(self.ids.next("750"), obj, op, ext, line_ending, delimiter, version, self.user_id)
        with self.lock:
            self.jobs[job.id] = job
        self._count_open()
        info = job.info(short=True)
        info.update(contentUrl="services/data/v%s/jobs/ingest/%s/batches" % (version, job.id),
                    lineEnding=line_ending, columnDelimiter=delimiter)
        return 200, info

    # -- upload -----------------------------------------------------------
    def upload(self, jid, data):
        job = self.job(jid)
        with self.lock:
            if job.state != "Open":
                # NOTE: assumed status/code/text. "Upload Job Data" documents
                # the contentUrl as valid only while the job is Open.
                raise BulkError(400, "INVALIDJOBSTATE", "Job is not in Open state: %s" % job.state)
            if job.data is not None:
                # "Found multiple contents for job" is what a second PUT gets
                # from a real org (reported by integrators who tried it).
                # NOTE: errorCode, status and the rest of the text assumed.
                raise BulkError(400, "BULK_API_ERROR",
                                "Found multiple contents for job: <%s>, please 'Close' / 'Abort' "
                                "/ 'Delete' the current Job then create a new Job and make sure "
                                "the content is uploaded only once for a job" % job.id)
            if len(data) > self.config.bulk_max_upload:
                # "Upload Job Data": at most 150 MB after base64 encoding, so
                # at most 100 MB raw.  NOTE: status/code/text assumed.
                raise BulkError(400, "BULK_API_ERROR", "Exceeded max size limit of %d bytes "
                                "for job data" % self.config.bulk_max_upload)
            job.data = data
        return 201, None

    # -- close / abort ----------------------------------------------------
    def patch(self, jid, body_text):
        job = self.job(jid)
        try:
            body = loads(body_text)
        except JsonError as exc:
            raise BulkError(400, "JSON_PARSER_ERROR", exc.jackson())
        state = body.get("state") if isinstance(body, JObj) else None
        with self.lock:
            if state == "UploadComplete" and job.state == "Open":
                job.state = "UploadComplete"
                job.modstamp, job.closed_epoch = sf_now(), time.time()
                info = job.info(short=True)
                threading.Thread(target=self._run, args=(job,), daemon=True).start()
                return 200, info
            if state == "Aborted" and job.state in OPEN_STATES:
                self._abort(job)
                return 200, job.info(short=True)
        # NOTE: assumed code/text for an invalid state change.
        raise BulkError(400, "INVALIDJOBSTATE", "Invalid state transition from %s to %s"
                        % (job.state, state))

    def _abort(self, job):
        job.state = "Aborted"
        job.modstamp, job.closed_epoch = sf_now(), job.closed_epoch or time.time()
        self._set_unprocessed_raw(job)
        self._count_open()

    def abort(self, jid):
        """job_abort fault: the job becomes Aborted if it is not finished."""
        with self.lock:
            job = self.jobs.get(jid)
            if job and job.state in OPEN_STATES:
                self._abort(job)

    def fail(self, jid, message):
        """job_fail fault: the job ends Failed with message when processed."""
        with self.lock:
            job = self.jobs.get(jid)
            if job and job.state in OPEN_STATES:
                job.fail_with = message

    # -- processing -------------------------------------------------------
    def _run(self, job):
        with self.lock:
            if job.state != "UploadComplete":
                return
            job.state = "InProgress"
            job.progress_started = time.monotonic()
        while True:
            delay = job.delay if job.delay is not None else self.config.bulk_delay
            if job.state != "InProgress" or time.monotonic() >= job.progress_started + delay:
                break
            time.sleep(0.01)
        with self.store.lock, self.lock:
            if job.state != "InProgress":
                return
            self._process(job)
            job.modstamp = sf_now()
        self._count_open()

    def _fail_job(self, job, message):
        job.state, job.error_message = "Failed", message
        self._set_unprocessed_raw(job)

    def _set_unprocessed_raw(self, job):
        # NOTE: for a job that never got to its rows, unprocessedrecords
        # returns the upload as it was received (header and rows).
        job.unprocessed = job.data.decode("utf-8", "replace") if job.data else ""

    def _process(self, job):
        if job.fail_with is not None:
            return self._fail_job(job, job.fail_with)
        if job.data is None:
            # NOTE: assumed errorMessage for a job closed without data.
            return self._fail_job(job, "InvalidBatch : No content was uploaded for the job")
        try:
            text = job.data.decode("utf-8")
        except UnicodeDecodeError:
            # "Prepare CSV Files": UTF-8 only.  NOTE: assumed errorMessage.
            return self._fail_job(job, "ClientInputError : Invalid UTF-8 data in job content")
        try:
            rows = bulkcsv.parse(text, job.delimiter, job.line_ending == "CRLF")
        except bulkcsv.LineEndingError:
            # Captured: "ClientInputError : LineEnding is invalid on user
            # data. Current LineEnding setting is LF" (or CRLF).
            return self._fail_job(job, "ClientInputError : LineEnding is invalid on user data. "
                                  "Current LineEnding setting is %s" % job.line_ending)
        except bulkcsv.CsvSyntaxError:
            # NOTE: assumed errorMessage for an unterminated quoted value.
            return self._fail_job(job, "ClientInputError : Unterminated quoted value in CSV data")
        if not rows:
            return self._fail_job(job, "InvalidBatch : No content was uploaded for the job")
        job.header = rows[0].cells
        columns, message = self._columns(job)
        if message:
            return self._fail_job(job, message)
        self._rows(job, columns, rows[1:])
        job.state = "JobComplete"
        job.unprocessed = ""

    def _columns(self, job):
        """Map header cells to fields; return (columns, None) or (None, errorMessage)."""
        obj = job.obj
        if job.operation in ("delete", "hardDelete"):
            if [h.lower() for h in job.header] != ["id"]:
                # Captured failed delete job: "InvalidBatch : The 'delete'
                # batch must contain only ids".  NOTE: hardDelete assumed to
                # name its own operation.
                return None, "InvalidBatch : The '%s' batch must contain only ids" % job.operation
        columns = []
        for col in job.header:
            column = self._column(obj, col)
            if isinstance(column, str):
                return None, column
            columns.append(column)
        return columns, None

    def _column(self, obj, col):
        """("field", f) | ("ref", lookup, parent, pfield) | an errorMessage string."""
        # A UTF-8 BOM stays part of the first header name, so the job fails
        # with "Field name not found", as Salesforce CLI users have reported.
        not_found = "InvalidBatch : Field name not found : %s" % col
        if "." not in col:
            field = obj.field(col)
            return ("field", field) if field else not_found
        # "Relationship Fields in a Header Row (2.0)": RelationshipName.Field,
        # or ObjectType:RelationshipName.Field for a polymorphic lookup.
        rel, _, pname = col.partition(".")
        type_name = None
        if ":" in rel:
            type_name, _, rel = rel.partition(":")
        lookup = obj.relationship(rel)
        if lookup is None:
            return not_found
        if type_name and len(lookup["referenceTo"]) < 2:
            # Captured: "InvalidBatch : type is not needed for non polymorphic
            # foreign key references: Parent".
            return "InvalidBatch : type is not needed for non polymorphic foreign key " \
                   "references: %s" % lookup["relationshipName"]
        parent = self.schema.get(type_name or lookup["referenceTo"][0])
        pfield = parent.field(pname) if parent else None
        if pfield is None or not (pfield["externalId"] or pfield["idLookup"]):
            return not_found
        return ("ref", lookup, parent, pfield)

    def _rows(self, job, columns, rows):
        dup = frozenset()
        if job.operation == "upsert":
            dup = self._duplicated(job, columns, rows)
        for row in rows:
            out, cells = self._row(job, columns, row, dup), row.cells
            job.processed += 1
            if out.ok:
                job.successes.append((out.id, out.created, self._echo(job, columns, cells, out.id)))
            else:
                job.failed += 1
                job.failures.append((out.known_id or "", out.error.as_bulk(), cells))

    def _duplicated(self, job, columns, rows):
        ext = job.ext_field["name"]
        idx = next((i for i, c in enumerate(columns) if c[0] == "field" and c[1]["name"] == ext),
                   None)
        seen, dup = set(), set()
        if idx is None:
            return frozenset()
        for row in rows:
            if idx < len(row.cells) and row.cells[idx] not in ("", "#N/A"):
                key = values.text_key(row.cells[idx], job.ext_field["caseSensitive"])
                (dup if key in seen else seen).add(key)
        return frozenset(dup)

    def _row(self, job, columns, row, dup):
        if row.bad:
            # NOTE: assumed code/text for a quote inside an unquoted value or
            # text after a closing quote. "Prepare CSV Files" calls such a row
            # an error but shows no message.
            return dml.Outcome(error=dml.Err("INVALID_FIELD", "Invalid CSV: a quote may only "
                                             "start or end a quoted value"))
        if len(row.cells) != len(columns):
            # NOTE: assumed code/text for a row whose column count differs
            # from the header's.
            return dml.Outcome(error=dml.Err("INVALID_FIELD", "Row has %d columns but the header "
                                             "has %d" % (len(row.cells), len(columns))))
        inp, err = self._input(job.obj, columns, row.cells)
        if err:
            return dml.Outcome(error=err, known_id=inp.rid if inp else None)
        if job.operation == "insert":
            return self.engine.insert(job.obj, inp)
        if job.operation == "update":
            return self.engine.update(job.obj, inp)
        if job.operation == "upsert":
            return self.engine.upsert(job.obj, job.ext_field, inp, dup)
        # Salesforce Help 000387915: a bad Id on delete gives "MALFORMED_ID:bad id".
        return self.engine.delete(inp.rid, expect_obj=job.obj,
                                  hard=job.operation == "hardDelete", malformed="bad id %s")

    @staticmethod
    def _input(obj, columns, cells):
        """Build a RecordInput from one row.  Empty cell: leave the field
        alone (default on insert); #N/A: set it to null ("Prepare CSV Files")."""
        inp = dml.RecordInput()
        for column, cell in zip(columns, cells):
            if cell == "":
                continue
            if column[0] == "ref":
                _, lookup, parent, pfield = column
                value = None
                if cell != "#N/A":
                    try:
                        value = values.coerce_csv(pfield, cell)
                    except values.CellError:
                        return inp, _type_error(pfield, cell)
                inp.refs[lookup["name"]] = dml.Ref(parent.name, pfield["name"], value)
                continue
            field = column[1]
            if field["name"] == "Id":
                inp.rid = cell
                continue
            if cell == "#N/A":
                inp.values[field["name"]] = None
                continue
            try:
                inp.values[field["name"]] = values.coerce_csv(field, cell)
            except values.CellError:
                return inp, _type_error(field, cell)
        return inp, None

    def _echo(self, job, columns, cells, rid):
        """Values of a successful row as saved (Bulk API 2.0 Developer Guide
        walkthrough: currency 912260031 is returned as 9.12260031E8)."""
        rec = self.store.live[job.obj.name].get(rid) if rid else None
        out = []
        for column, cell in zip(columns, cells):
            if column[0] == "field" and rec is not None and cell not in ("", "#N/A") \
                    and column[1]["name"] != "Id":
                out.append(values.render_csv(column[1], rec.get(column[1]["name"])))
            elif cell == "#N/A":
                out.append("")
            else:
                out.append(cell)
        return out

    # -- results ----------------------------------------------------------
    def results(self, jid, kind):
        job = self.job(jid)
        with self.lock:
            allowed = TERMINAL if kind == "unprocessed" else ("JobComplete", "Failed")
            if job.state not in allowed:
                # NOTE: assumed status/code/text for results of an unfinished job.
                raise BulkError(400, "INVALIDJOBSTATE", "Job is not in a completed state: %s"
                                % job.state)
            d, eol = job.delimiter, job.eol
            names = d.join(bulkcsv.header_name(h, d) for h in job.header)
            if kind == "successful":
                head = d.join(('"sf__Id"', '"sf__Created"') + ((names,) if names else ()))
                lines = [d.join([bulkcsv.quote(rid), bulkcsv.quote("true" if created else "false")]
                                + [bulkcsv.quote(v) for v in vals])
                         for rid, created, vals in job.successes]
            elif kind == "failed":
                head = d.join(('"sf__Id"', '"sf__Error"') + ((names,) if names else ()))
                lines = [d.join([bulkcsv.quote(rid), bulkcsv.quote(err)]
                                + [bulkcsv.quote(v) for v in vals])
                         for rid, err, vals in job.failures]
            else:
                if job.unprocessed:
                    return job.unprocessed
                head, lines = names, []
        # "the order of records in the response is not guaranteed to match the
        # ordering of records in the original job data" (Bulk API 2.0
        # Developer Guide): shuffle so clients cannot depend on it.
        random.shuffle(lines)
        return "".join(line + eol for line in [head] + lines)

    # -- delete -----------------------------------------------------------
    def delete(self, jid):
        job = self.job(jid)
        with self.lock:
            if job.state not in ("UploadComplete", "JobComplete", "Aborted", "Failed"):
                # "Delete a Job": allowed in UploadComplete, JobComplete,
                # Aborted or Failed.  NOTE: error status/code/text assumed.
                raise BulkError(400, "INVALIDJOBSTATE", "Job in state %s cannot be deleted"
                                % job.state)
            if job.state == "UploadComplete":
                job.state = "Aborted"
            del self.jobs[jid]
        self._count_open()
        return 204, None

    def list_info(self):
        with self.lock:
            records = [j.info() for j in self.jobs.values()]
        return {"done": True, "records": records, "nextRecordsUrl": None}


def _type_error(field, cell):
    # "<Label>: value not of required type: <value>" (captured
    # INVALID_TYPE_ON_FIELD_IN_RECORD texts).
    return dml.Err("INVALID_TYPE_ON_FIELD_IN_RECORD", "%s: value not of required type: %s"
                   % (field["label"], cell), [field["name"]])
