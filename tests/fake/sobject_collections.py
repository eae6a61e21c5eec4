"""sObject Collections: create, update, upsert and delete up to 200 records.

REST API Developer Guide pages "Create Records Using sObject Collections",
"Update Records Using sObject Collections", "Upsert Records Using sObject
Collections" and "Delete Records Using sObject Collections":
  * at most 200 records (ids for DELETE) per request;
  * body {"allOrNone": bool, "records": [...]}; DELETE takes ?ids=&allOrNone=;
  * HTTP 400 when the request itself is wrong, otherwise 200 with one result
    per record in request order, even when records fail;
  * with allOrNone every record that would have succeeded gets
    ALL_OR_NONE_OPERATION_ROLLED_BACK and nothing is saved.
"""
import dml
import values
from jsonpos import JObj, JsonError, loads


class RequestError(Exception):
    """A whole-request failure: HTTP status and [{"message","errorCode"}]."""

    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def body(self):
        return [{"message": self.message, "errorCode": self.code}]


MAX_RECORDS = 200
MAX_CHUNKS = 10


def _too_many():
    # Code and text captured from users of the collection API (Salesforce
    # Inspector bug reports).  NOTE: status 400 is assumed, because no
    # capture shows it.
    return RequestError(400, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more "
                        "than 200 records into this call")


class Collections:
    def __init__(self, schema, store, engine):
        self.schema, self.store, self.engine = schema, store, engine

    # -- entry points (each returns (status, body)) -----------------------
    def create(self, body_text):
        all_or_none, records = self._parse(body_text)
        inputs = [self._record(rec, pos, None) for rec, pos in records]
        self._check_chunks([obj for obj, _ in inputs])
        return self._run(all_or_none, inputs, lambda obj, inp: self.engine.insert(obj, inp),
                         keep_id_on_rollback=False)

    def update(self, body_text):
        all_or_none, records = self._parse(body_text)
        inputs = [self._record(rec, pos, None) for rec, pos in records]
        self._check_chunks([obj for obj, _ in inputs])
        return self._run(all_or_none, inputs, lambda obj, inp: self.engine.update(obj, inp),
                         keep_id_on_rollback=True)

    def upsert(self, body_text, sobject, ext_name, version):
        if version < 46.0:
            # Upsert is available from API 46.0 ("Upsert Records Using sObject
            # Collections").  NOTE: 404 NOT_FOUND assumed for older versions.
            raise RequestError(404, "NOT_FOUND", "The requested resource does not exist")
        obj = self.schema.get(sobject)
        if obj is None:
            raise RequestError(404, "NOT_FOUND", "The requested resource does not exist")
        ext = obj.field(ext_name)
        if ext is None or not (ext["externalId"] or ext["idLookup"]):
            # NOTE: assumed wording (SOAP API upsert text for a field that is
            # not an external id); status 400 assumed.
            raise RequestError(400, "INVALID_FIELD", "Field name provided, %s is not an External "
                               "ID or indexed field for %s" % (ext_name, obj.name))
        all_or_none, records = self._parse(body_text)
        inputs = [self._record(rec, pos, obj) for rec, pos in records]
        dup = self._duplicated_keys(ext, inputs)

        def op(o, inp):
            return self.engine.upsert(o, ext, inp, dup)
        return self._run(all_or_none, inputs, op, keep_id_on_rollback=True, upsert=True)

    def delete(self, query):
        raw = (query.get("ids") or [""])[0]
        id_list = [i for i in raw.split(",") if i != ""]
        if len(id_list) > MAX_RECORDS:
            raise _too_many()
        if not id_list:
            # NOTE: assumed: a DELETE without ids is a malformed request.
            raise RequestError(400, "MISSING_ARGUMENT", "Missing required parameter: ids")
        all_or_none = (query.get("allOrNone") or ["false"])[0].lower() == "true"
        inputs = [(None, rid) for rid in id_list]
        return self._run(all_or_none, inputs, lambda _o, rid: self.engine.delete(rid),
                         keep_id_on_rollback=True)

    # -- request parsing ------------------------------------------------
    def _parse(self, body_text):
        try:
            body = loads(body_text)
        except JsonError as exc:
            raise RequestError(400, "JSON_PARSER_ERROR", exc.jackson())
        if not isinstance(body, JObj):
            raise RequestError(400, "JSON_PARSER_ERROR",
                               "Cannot deserialize instance of SObjectCollection from %s value"
                               % ("START_ARRAY" if isinstance(body, list) else "VALUE_STRING"))
        records = body.get("records") or []
        if not isinstance(records, list):
            line, col = body.pos["records"]
            raise RequestError(400, "JSON_PARSER_ERROR", "Cannot deserialize instance of "
                               "SObject[] from non-array value at [line:%d, column:%d]" % (line, col))
        if len(records) > MAX_RECORDS:
            raise _too_many()
        all_or_none = body.get("allOrNone") is True
        return all_or_none, list(zip(records, records.pos))

    def _record(self, rec, pos, upsert_obj):
        """Turn one JSON record into (SObject, RecordInput); raise RequestError."""
        if not isinstance(rec, JObj):
            raise RequestError(400, "JSON_PARSER_ERROR", "Cannot deserialize instance of SObject "
                               "from non-object value at [line:%d, column:%d]" % pos)
        attrs = rec.get("attributes")
        type_name = attrs.get("type") if isinstance(attrs, dict) else None
        if not isinstance(type_name, str) or not type_name:
            # NOTE: assumed code, and the message is the SOAP API's text,
            # because no capture of the REST text was found.
            raise RequestError(400, "INVALID_TYPE", "Missing entity type information. sObject "
                               "requires a separate 'type' field be sent.")
        obj = self.schema.get(type_name)
        if obj is None:
            # Captured: "sObject type 'BotDefinition' is not supported." INVALID_TYPE.
            raise RequestError(400, "INVALID_TYPE", "sObject type '%s' is not supported." % type_name)
        if upsert_obj is not None and obj is not upsert_obj:
            # NOTE: assumed code/text; upsert accepts only the URI's object.
            raise RequestError(400, "INVALID_TYPE", "sObject type '%s' does not match the "
                               "upsert object %s" % (type_name, upsert_obj.name))
        inp = dml.RecordInput()
        for key, value in rec.items():
            if key == "attributes":
                continue
            self._member(obj, inp, key, value, rec.pos[key])
        return obj, inp

    def _member(self, obj, inp, key, value, pos):
        field = obj.field(key)
        if field is not None:
            try:
                stored = values.coerce_json(field, value)
            except values.CoerceError as exc:
                raise RequestError(400, "JSON_PARSER_ERROR", exc.message(*pos))
            if field["name"] == "Id":
                inp.rid = stored
                return
            if stored == "" and field["type"] in values.TEXT_TYPES:
                stored = None  # Salesforce stores an empty text value as null
            inp.values[field["name"]] = stored
            return
        lookup = obj.relationship(key)
        if lookup is None:
            # Captured for single-record calls: 400 INVALID_FIELD "No such
            # column 'abcd' on sobject of type Account".  NOTE: assumed the
            # same whole-request 400 for collections.
            raise RequestError(400, "INVALID_FIELD", "No such column '%s' on sobject of type %s"
                               % (key, obj.name))
        inp.refs[lookup["name"]] = self._reference(obj, lookup, value, pos)

    def _reference(self, obj, lookup, value, pos):
        """A nested parent reference such as "Account": {"External_Id__c": "A1"}
        (REST API Developer Guide, "Insert or Update (Upsert) a Record Using
        an External ID": the lookup is replaced by the relationship name)."""
        if value is None:
            return dml.Ref(lookup["referenceTo"][0], "Id", None)
        if not isinstance(value, JObj):
            token = "VALUE_STRING" if isinstance(value, str) else "VALUE_NUMBER_INT"
            raise RequestError(400, "JSON_PARSER_ERROR", "Cannot deserialize instance of "
                               "reference from %s value at [line:%d, column:%d]" % ((token,) + pos))
        attrs = value.get("attributes")
        parent_name = attrs.get("type") if isinstance(attrs, dict) else lookup["referenceTo"][0]
        parent = self.schema.get(parent_name)
        if parent is None or parent.name not in lookup["referenceTo"]:
            raise RequestError(400, "INVALID_TYPE", "sObject type '%s' is not supported."
                               % parent_name)
        keys = [k for k in value if k != "attributes"]
        if len(keys) != 1:
            # NOTE: assumed code/text for a reference that names no single key.
            raise RequestError(400, "INVALID_FIELD", "The foreign key reference %s must name "
                               "exactly one external ID field" % lookup["relationshipName"])
        pfield = parent.field(keys[0])
        if pfield is None:
            raise RequestError(400, "INVALID_FIELD", "No such column '%s' on sobject of type %s"
                               % (keys[0], parent.name))
        if not (pfield["externalId"] or pfield["idLookup"]):
            raise RequestError(400, "INVALID_FIELD", "Field name provided, %s is not an External "
                               "ID or indexed field for %s" % (pfield["name"], parent.name))
        try:
            key_value = values.coerce_json(pfield, value[keys[0]])
        except values.CoerceError as exc:
            raise RequestError(400, "JSON_PARSER_ERROR", exc.message(*value.pos[keys[0]]))
        return dml.Ref(parent.name, pfield["name"], key_value)

    @staticmethod
    def _check_chunks(objs):
        chunks = sum(1 for i, o in enumerate(objs) if i == 0 or o is not objs[i - 1])
        if chunks > MAX_CHUNKS:
            # Limit from "Create Records Using sObject Collections" (at most
            # ten chunks).  NOTE: code and text assumed.
            raise RequestError(400, "INVALID_BATCH_REQUEST",
                               "Number of object type chunks (%d) exceeds the limit of 10" % chunks)

    @staticmethod
    def _duplicated_keys(ext, inputs):
        seen, dup = set(), set()
        for _, inp in inputs:
            value = inp.rid if ext["name"] == "Id" else inp.values.get(ext["name"])
            if value in (None, ""):
                continue
            key = values.text_key(value, ext["caseSensitive"])
            (dup if key in seen else seen).add(key)
        return frozenset(dup)

    # -- execution ------------------------------------------------------
    def _run(self, all_or_none, inputs, op, keep_id_on_rollback, upsert=False):
        with self.store.lock:
            self.store.begin()
            outcomes = [op(obj, inp) for obj, inp in inputs]
            failed = any(not o.ok for o in outcomes)
            if all_or_none and failed:
                self.store.rollback()
            else:
                self.store.commit()
        return 200, [self._result(o, all_or_none and failed, keep_id_on_rollback, upsert)
                     for o in outcomes]

    @staticmethod
    def _result(out, rolled_back, keep_id, upsert):
        res = {}
        if out.ok and (not rolled_back or keep_id and not (upsert and out.created)):
            res["id"] = out.id
        if out.ok and not rolled_back:
            res["success"], res["errors"] = True, []
        else:
            err = out.error if not out.ok else dml.ROLLED_BACK
            res["success"], res["errors"] = False, [err.as_json()]
        if upsert:
            # "created" is always sent on upsert results; for a failed record
            # it is what the operation would have been (jsforce live-org test
            # test/connection-crud.test.ts shows created:true on rolled-back
            # inserts).  NOTE: false for records that failed before matching.
            res["created"] = bool(out.created)
        return res
