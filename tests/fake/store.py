"""In-memory record storage with lookup indexes and an undo log.

One re-entrant lock guards everything. Callers hold store.lock for a whole
collection request or bulk row, so each one works on a consistent org.
The undo log lets an allOrNone collection request roll back every change it
made (REST API Developer Guide, "Create Records Using sObject Collections":
with allOrNone the whole request rolls back when any record fails).
"""
import threading
import time

import values


def sf_now():
    """Return the current time as Salesforce prints dateTimes: 2022-01-02T21:33:43.000+0000.

    System timestamps have whole seconds, so the milliseconds are always 000.
    """
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + ".000+0000"


class Store:
    def __init__(self, schema, id_factory):
        self.schema = schema
        self.ids = id_factory
        self.lock = threading.RLock()
        self.reset()

    def reset(self):
        with self.lock:
            self.live = {name: {} for name in self.schema.objects}   # obj -> id -> record
            self.deleted = {}          # id -> (obj name, record) for soft-deleted records
            self.hard_deleted = set()  # ids removed by hardDelete
            self.index = {name: {f["name"]: {} for f in o.lookup_fields()}
                          for name, o in self.schema.objects.items()}
            self._undo = None

    # -- undo log -------------------------------------------------------
    def begin(self):
        self._undo = []

    def commit(self):
        self._undo = None

    def rollback(self):
        for action in reversed(self._undo or []):
            action()
        self._undo = None

    def _remember(self, action):
        if self._undo is not None:
            self._undo.append(action)

    # -- indexes --------------------------------------------------------
    def _index_add(self, obj, rec):
        for fname, idx in self.index[obj].items():
            value = rec.get(fname)
            if value is not None and value != "":
                case = self.schema.objects[obj].field(fname)["caseSensitive"]
                idx.setdefault(values.text_key(value, case), set()).add(rec["Id"])

    def _index_remove(self, obj, rec):
        for fname, idx in self.index[obj].items():
            value = rec.get(fname)
            if value is not None and value != "":
                case = self.schema.objects[obj].field(fname)["caseSensitive"]
                key = values.text_key(value, case)
                idx.get(key, set()).discard(rec["Id"])
                if not idx.get(key):
                    idx.pop(key, None)

    def find(self, obj, fname, value):
        """Ids of live records of obj whose field fname equals value."""
        field = self.schema.objects[obj].field(fname)
        if fname == "Id":
            rid = value if value in self.live[obj] else None
            return [rid] if rid else []
        key = values.text_key(value, field["caseSensitive"])
        idx = self.index[obj].get(field["name"])
        if idx is not None:
            return sorted(idx.get(key, ()))
        return [r["Id"] for r in self.live[obj].values()
                if r.get(field["name"]) is not None
                and values.text_key(r[field["name"]], field["caseSensitive"]) == key]

    # -- records --------------------------------------------------------
    def get(self, rid):
        """(obj name, record, state) where state is live/deleted/None."""
        obj = self.schema.by_prefix(rid[:3])
        if obj and rid in self.live[obj.name]:
            return obj.name, self.live[obj.name][rid], "live"
        if rid in self.deleted or rid in self.hard_deleted:
            name = self.deleted[rid][0] if rid in self.deleted else (obj.name if obj else None)
            return name, None, "deleted"
        return (obj.name if obj else None), None, None

    def insert(self, obj, fields, rid=None):
        rid = rid or self.ids.next(self.schema.objects[obj].key_prefix)
        now = sf_now()
        rec = {"Id": rid, "IsDeleted": False, "CreatedDate": now, "LastModifiedDate": now}
        rec.update(fields)
        self.live[obj][rid] = rec
        self._index_add(obj, rec)
        self._remember(lambda: self._drop(obj, rid))
        return rid

    def _drop(self, obj, rid):
        rec = self.live[obj].pop(rid)
        self._index_remove(obj, rec)

    def update(self, obj, rid, fields):
        rec = self.live[obj][rid]
        old = dict(rec)
        self._index_remove(obj, rec)
        rec.update(fields)
        rec["LastModifiedDate"] = sf_now()
        self._index_add(obj, rec)
        self._remember(lambda: self._restore(obj, rid, old))

    def _restore(self, obj, rid, old):
        rec = self.live[obj][rid]
        self._index_remove(obj, rec)
        rec.clear()
        rec.update(old)
        self._index_add(obj, rec)

    def delete(self, obj, rid, hard=False):
        rec = self.live[obj].pop(rid)
        self._index_remove(obj, rec)
        if hard:
            self.hard_deleted.add(rid)
        else:
            rec["IsDeleted"] = True
            self.deleted[rid] = (obj, rec)
        self._remember(lambda: self._undelete(obj, rid, rec, hard))

    def _undelete(self, obj, rid, rec, hard):
        if hard:
            self.hard_deleted.discard(rid)
        else:
            self.deleted.pop(rid, None)
            rec["IsDeleted"] = False
        self.live[obj][rid] = rec
        self._index_add(obj, rec)
