"""Record-level save semantics shared by sObject Collections and Bulk API 2.0.

Each operation takes one record, checks it the way Salesforce does, writes
it to the store on success and returns an Outcome.  Error codes and message
texts follow the sources cited at each check.  Callers hold store.lock.
"""
import re

import ids
import values


class Err:
    """A per-record error: statusCode, message, fields (REST API Developer
    Guide, "Create Records Using sObject Collections", error entries)."""

    def __init__(self, code, message, fields=()):
        self.code, self.message, self.fields = code, message, list(fields)

    def as_json(self):
        return {"statusCode": self.code, "message": self.message, "fields": self.fields}

    def as_bulk(self):
        # Bulk API 2.0 failedResults sf__Error: "<CODE>:<message>:<fields> --",
        # or ":--" when no field is named (Bulk API 2.0 Developer Guide,
        # "Get Job Failed Record Results"; live-org assertion in jsforce's
        # test/bulk2.test.ts: "REQUIRED_FIELD_MISSING:Required fields are
        # missing: [Name]:Name --").
        if self.fields:
            return "%s:%s:%s --" % (self.code, self.message, ",".join(self.fields))
        return "%s:%s:--" % (self.code, self.message)


ROLLED_BACK = Err(
    "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "Record rolled back because not all records were valid and the request was using "
    "AllOrNone header")


class Outcome:
    """Result of one record: id (None on failure), created (upsert), error,
    known_id (the target record's Id when it is known, for Bulk sf__Id)."""

    def __init__(self, rid=None, error=None, created=False, known_id=None):
        self.id, self.error, self.created = rid, error, created
        self.known_id = known_id or rid

    @property
    def ok(self):
        return self.error is None


class Ref:
    """A parent reference by external id: lookup field <- parent.field == value."""

    def __init__(self, parent, field, value):
        self.parent, self.field, self.value = parent, field, value


class RecordInput:
    """One record to save: values (canonical name -> stored value),
    refs (lookup field name -> Ref), rid (Id text for update)."""

    def __init__(self, values_=None, refs=None, rid=None):
        self.values = values_ or {}
        self.refs = refs or {}
        self.rid = rid


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+\Z")


class Engine:
    def __init__(self, schema, store):
        self.schema = schema
        self.store = store

    # -- operations -----------------------------------------------------
    def insert(self, obj, inp):
        if inp.rid:
            # NOTE: assumed code and text (SOAP API wording for an Id on
            # create). The REST guide only tells clients not to send one.
            return Outcome(error=Err("INVALID_FIELD_FOR_INSERT_UPDATE",
                                     "cannot specify Id in an insert call", ["Id"]))
        fields, err = self._prepare(obj, inp, None)
        if err:
            return Outcome(error=err)
        rid = self.store.ids.next(obj.key_prefix)
        for f in obj.fields:
            if f["name"] not in fields and f["createable"] and f["defaultValue"] is not None:
                fields[f["name"]] = f["defaultValue"]
        name = obj.field("Name")
        if name and fields.get("Name") in (None, "") and name["defaultedOnCreate"]:
            # NOTE: assumed: a custom object's Name left out on create is
            # filled with the record Id, as the Salesforce UI shows it.
            fields["Name"] = rid
        self.store.insert(obj.name, fields, rid)
        return Outcome(rid=rid, created=True)

    def update(self, obj, inp):
        rid, err = self._target(obj, inp.rid)
        if err:
            return Outcome(error=err, known_id=rid)
        fields, err = self._prepare(obj, inp, rid)
        if err:
            return Outcome(error=err, known_id=rid)
        self.store.update(obj.name, rid, fields)
        return Outcome(rid=rid)

    def upsert(self, obj, ext_field, inp, duplicated=frozenset()):
        """Upsert on ext_field. duplicated contains the index keys that occur twice in the request."""
        if ext_field["name"] == "Id":
            if not inp.rid:
                return self.insert(obj, inp)
            out = self.update(obj, inp)
            return out
        value = inp.values.get(ext_field["name"])
        if value is None or value == "":
            # NOTE: assumed text (SOAP API upsert wording): the external id
            # value is missing from the record.
            return Outcome(error=Err("MISSING_ARGUMENT", "%s not specified" % ext_field["name"]))
        key = values.text_key(value, ext_field["caseSensitive"])
        if key in duplicated:
            # Integrators report this text for the same external id twice in
            # one request (Castled's Salesforce error parser).  NOTE: which
            # rows fail is not documented; the fake fails every such row.
            return Outcome(error=Err("DUPLICATE_VALUE", "Duplicate external id specified: %s"
                                     % values.text_key(value, True)))
        matches = self.store.find(obj.name, ext_field["name"], value)
        if len(matches) > 1:
            return Outcome(error=self._many(ext_field, matches))
        if not matches:
            out = self.insert(obj, inp)
            out.created = True
            return out
        inp.rid = matches[0]
        out = self.update(obj, inp)
        out.created = False
        return out

    def delete(self, rid_text, expect_obj=None, hard=False, malformed="malformed id %s"):
        """Delete by Id.  malformed is the message for a bad Id: the REST
        collections page prints "malformed id <id>"; Salesforce Help
        000387915 gives "bad id" for Data Loader/Bulk deletes."""
        rid = ids.normalize(rid_text or "")
        target = self.schema.by_prefix(rid[:3]) if rid else None
        if rid is None or target is None or (expect_obj and target is not expect_obj):
            return Outcome(error=Err("MALFORMED_ID", malformed % rid_text))
        name, _, state = self.store.get(rid)
        if state == "deleted":
            return Outcome(error=Err("ENTITY_IS_DELETED", "entity is deleted"), known_id=rid)
        if state is None:
            # Salesforce Help 000387915 ("Errors due to invalid IDs during Data
            # Loader import and update"): an Id that is well formed but names
            # no record gives INVALID_CROSS_REFERENCE_KEY "invalid cross
            # reference id".  NOTE: documented for update/upsert; assumed
            # the same for delete.
            return Outcome(error=Err("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id"),
                           known_id=rid)
        self.store.delete(name, rid, hard)
        return Outcome(rid=rid)

    # -- checks ---------------------------------------------------------
    def _target(self, obj, rid_text):
        if not rid_text:
            # Salesforce Help 000387915: "MISSING_ARGUMENT:Id not specified
            # in an update call".
            return None, Err("MISSING_ARGUMENT", "Id not specified in an update call")
        rid = ids.normalize(rid_text)
        if rid is None or rid[:3] != obj.key_prefix:
            # REST API Developer Guide, "Update Records Using sObject
            # Collections": "Contact ID: id value of incorrect type: <id>",
            # fields ["Id"].
            return None, Err("MALFORMED_ID", "%s ID: id value of incorrect type: %s"
                             % (obj.label, rid_text), ["Id"])
        _, _, state = self.store.get(rid)
        if state == "deleted":
            return rid, Err("ENTITY_IS_DELETED", "entity is deleted")
        if state is None:
            # Salesforce Help 000387915: incorrect Id on update/upsert.
            return rid, Err("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
        return rid, None

    def _prepare(self, obj, inp, rid):
        """Validate inp against obj for a create (rid None) or an update.

        Returns (fields to write, None) or (None, Err)."""
        creating = rid is None
        fields = dict(inp.values)
        err = self._writable(obj, list(fields) + list(inp.refs), creating)
        if err:
            return None, err
        for lookup, ref in inp.refs.items():
            parent_id, err = self._resolve(ref)
            if err:
                return None, err
            fields[lookup] = parent_id
        err = (self._required(obj, fields) if creating else self._not_nulled(obj, fields))
        if err:
            return None, err
        for name, value in fields.items():
            f = obj.field(name)
            err = self._check_value(f, value, name in inp.refs)
            if err:
                return None, err
            if f["type"] == "reference" and value is not None:
                fields[name] = ids.normalize(value)  # stored in the 18-character form
        err = self._unique(obj, fields, rid)
        return (None, err) if err else (fields, None)

    def _writable(self, obj, names, creating):
        key = "createable" if creating else "updateable"
        bad = [obj.field(n)["name"] for n in names if not obj.field(n)[key]]
        if bad:
            # Text captured in Force.com Toolkit for .NET comments and in
            # Redpanda Connect's handling of INVALID_FIELD_FOR_INSERT_UPDATE.
            return Err("INVALID_FIELD_FOR_INSERT_UPDATE",
                       "Unable to create/update fields: %s. Please check the security settings "
                       "of this field and verify that it is read/write for your profile or "
                       "permission set." % ", ".join(bad), bad)
        return None

    def _resolve(self, ref):
        if ref.value is None or ref.value == "":
            return None, None
        parent = self.schema.get(ref.parent)
        pfield = parent.field(ref.field)
        found = self.store.find(parent.name, pfield["name"], ref.value)
        if not found:
            # Recorded in Apache Camel's composite integration test against a
            # real org: "Foreign key external ID: 0116 not found for field
            # Invoice_External_Id__c in entity blng__Invoice__c".
            return None, Err("INVALID_FIELD", "Foreign key external ID: %s not found for field "
                             "%s in entity %s" % (values.text_key(ref.value, True),
                                                  pfield["name"], parent.name))
        if len(found) > 1:
            return None, self._many(pfield, found)
        return found[0], None

    @staticmethod
    def _many(field, found):
        # DUPLICATE_EXTERNAL_ID "<Field Label>: more than one record found for
        # external id field: [<id>, <id>]" (captured integrator error texts).
        return Err("DUPLICATE_EXTERNAL_ID", "%s: more than one record found for external id "
                   "field: [%s]" % (field["label"], ", ".join(found)))

    @staticmethod
    def _required(obj, fields):
        missing = [f["name"] for f in obj.required_on_insert()
                   if fields.get(f["name"]) in (None, "")]
        if missing:
            return _required_err(missing)
        return None

    @staticmethod
    def _not_nulled(obj, fields):
        missing = []
        for name, value in list(fields.items()):
            f = obj.field(name)
            if value is None and not f["nillable"]:
                if f["type"] == "boolean":
                    # NOTE: assumed: nulling a checkbox stores false, as a
                    # checkbox has no null state.
                    fields[name] = False
                else:
                    missing.append(f["name"])
        return _required_err(missing) if missing else None

    def _check_value(self, f, value, from_ref):
        if value is None:
            return None
        name, ftype = f["name"], f["type"]
        if ftype == "reference" and not from_ref:
            return self._check_ref_id(f, value)
        if ftype in values.TEXT_TYPES and f["length"] and len(value) > f["length"]:
            # Recorded STRING_TOO_LONG: "Topic Name: data value too large:
            # NOWELLPOINT_OPPORTUNITY_PUSH_TOPIC (max length=25)", fields [Name].
            return Err("STRING_TOO_LONG", "%s: data value too large: %s (max length=%d)"
                       % (f["label"], value, f["length"]), [name])
        if ftype == "email" and not _EMAIL.match(value):
            # REST API Developer Guide, "Composite Subrequest Result" example:
            # "Email: invalid email address: Not a real email address".
            return Err("INVALID_EMAIL_ADDRESS", "%s: invalid email address: %s"
                       % (f["label"], value), [name])
        if ftype == "picklist" and f["restrictedPicklist"]:
            allowed = {p["value"] for p in f["picklistValues"]}
            if value not in allowed:
                return Err("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                           "%s: bad value for restricted picklist field: %s"
                           % (f["label"], value), [name])
        return None

    def _check_ref_id(self, f, value):
        rid = ids.normalize(value)
        target = self.schema.by_prefix(rid[:3]) if rid else None
        if rid is None or target is None or target.name not in f["referenceTo"]:
            # NOTE: assumed wording, modelled on the MALFORMED_ID text of the
            # collections update page, with the lookup field's label.
            return Err("MALFORMED_ID", "%s: id value of incorrect type: %s"
                       % (f["label"], value), [f["name"]])
        _, _, state = self.store.get(rid)
        if state == "deleted":
            return Err("ENTITY_IS_DELETED", "entity is deleted")
        if state is None:
            return Err("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
        return None

    def _unique(self, obj, fields, rid):
        for f in obj.fields:
            if not f["unique"] or fields.get(f["name"]) in (None, ""):
                continue
            others = [o for o in self.store.find(obj.name, f["name"], fields[f["name"]])
                      if o != rid]
            if others:
                # Captured: "duplicate value found: email__c duplicates value
                # on record with id: a0N2w000001WQcq" (15-character Id).
                return Err("DUPLICATE_VALUE", "duplicate value found: %s duplicates value on "
                           "record with id: %s" % (f["name"], others[0][:15]))
        return None


def _required_err(missing):
    # Captured: "Required fields are missing: [Name]", fields ["Name"].
    return Err("REQUIRED_FIELD_MISSING",
               "Required fields are missing: [%s]" % ", ".join(missing), missing)
