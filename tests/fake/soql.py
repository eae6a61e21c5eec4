"""A small SOQL subset for GET .../query?q=...

    SELECT f1, f2, Rel.f3 FROM Obj [WHERE F op value [AND ...]] [LIMIT n]

op is = or !=; value is a quoted string, a number, true, false or null.
Response shape per REST API Developer Guide, "Execute a SOQL Query":
{"totalSize": n, "done": true, "records": [{"attributes": {"type", "url"}, ...}]}.
"""
import re
from decimal import Decimal, InvalidOperation

import values
from jsonpos import Num


class QueryError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code, self.message = code, message


_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^'\\]|\\.)*')|(?P<op>!=|=|,)|"
                    r"(?P<word>[A-Za-z_][A-Za-z0-9_.:]*)|(?P<num>-?\d+(?:\.\d+)?))")


def _tokens(q):
    pos, out = 0, []
    q = q.rstrip()
    while pos < len(q):
        m = _TOKEN.match(q, pos)
        if not m or m.end() == pos:
            raise QueryError("MALFORMED_QUERY", "unexpected token: '%s'" % q[pos:].strip()[:20])
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, q):
        self.toks = _tokens(q)
        self.i = 0

    def peek_word(self):
        if self.i < len(self.toks) and self.toks[self.i][0] == "word":
            return self.toks[self.i][1].upper()
        return None

    def take(self, kind=None, word=None):
        if self.i >= len(self.toks):
            raise QueryError("MALFORMED_QUERY", "unexpected end of query")
        tok = self.toks[self.i]
        if (kind and tok[0] != kind) or (word and tok[1].upper() != word):
            raise QueryError("MALFORMED_QUERY", "unexpected token: '%s'" % tok[1])
        self.i += 1
        return tok[1]

    def parse(self):
        self.take("word", "SELECT")
        fields = [self.take("word")]
        while self.i < len(self.toks) and self.toks[self.i] == ("op", ","):
            self.i += 1
            fields.append(self.take("word"))
        self.take("word", "FROM")
        obj = self.take("word")
        conds, limit = [], None
        if self.peek_word() == "WHERE":
            self.i += 1
            conds.append(self.cond())
            while self.peek_word() == "AND":
                self.i += 1
                conds.append(self.cond())
        if self.peek_word() == "LIMIT":
            self.i += 1
            limit = int(self.take("num"))
        if self.i != len(self.toks):
            raise QueryError("MALFORMED_QUERY", "unexpected token: '%s'" % self.toks[self.i][1])
        return fields, obj, conds, limit

    def cond(self):
        field = self.take("word")
        op = self.take("op")
        if op == ",":
            raise QueryError("MALFORMED_QUERY", "unexpected token: ','")
        kind, text = self.toks[self.i] if self.i < len(self.toks) else (None, None)
        self.i += 1
        if kind == "str":
            value = re.sub(r"\\(.)", r"\1", text[1:-1])
        elif kind == "num":
            value = Num(text)
        elif kind == "word" and text.lower() in ("true", "false", "null"):
            value = {"true": True, "false": False, "null": None}[text.lower()]
        else:
            raise QueryError("MALFORMED_QUERY", "unexpected token: '%s'" % text)
        return field, op, value


def _no_column(name, obj):
    # NOTE: assumed text, modelled on the REST "No such column" wording.
    return QueryError("INVALID_FIELD", "No such column '%s' on entity '%s'. If you are attempting "
                      "to use a custom field, be sure to append the '__c' after the custom field "
                      "name. Please reference your WSDL or the describe call for the appropriate "
                      "names." % (name, obj.name))


def _equal(stored, wanted):
    if wanted is None or stored is None:
        return stored is wanted
    if isinstance(wanted, Num) or isinstance(stored, Num):
        try:
            a = stored.decimal() if isinstance(stored, Num) else Decimal(str(stored))
            return a == wanted.decimal() if isinstance(wanted, Num) else a == Decimal(str(wanted))
        except InvalidOperation:
            return False
    if isinstance(wanted, bool) or isinstance(stored, bool):
        return stored is wanted
    return str(stored).lower() == str(wanted).lower()  # text comparison ignores case


def run(schema, store, q, version):
    fields, obj_name, conds, limit = _Parser(q).parse()
    obj = schema.get(obj_name)
    if obj is None:
        raise QueryError("INVALID_TYPE", "sObject type '%s' is not supported." % obj_name)
    select = [_resolve(schema, obj, f) for f in fields]
    where = [(_resolve(schema, obj, f), op, v) for f, op, v in conds]
    out = []
    with store.lock:
        for rec in store.live[obj.name].values():
            if all(_equal(_value(store, rec, path), v) == (op == "=") for path, op, v in where):
                out.append(_row(store, obj, rec, select, version))
            if limit is not None and len(out) >= limit:
                break
    return {"totalSize": len(out), "done": True, "records": out}


def _resolve(schema, obj, name):
    """[(SObject, field)] for "Field" or [(obj, lookup), (parent, field)] for "Rel.Field"."""
    if "." in name:
        rel, _, rest = name.partition(".")
        lookup = obj.relationship(rel)
        if lookup is None:
            raise _no_column(rel, obj)
        parent = schema.get(lookup["referenceTo"][0])
        field = parent.field(rest)
        if field is None:
            raise _no_column(rest, parent)
        return [(obj, lookup), (parent, field)]
    field = obj.field(name)
    if field is None:
        raise _no_column(name, obj)
    return [(obj, field)]


def _value(store, rec, path):
    value = rec.get(path[0][1]["name"])
    if len(path) == 1:
        return value
    parent = store.live[path[1][0].name].get(value) if value else None
    return parent.get(path[1][1]["name"]) if parent else None


def _attributes(obj, rid, version):
    return {"type": obj.name, "url": "/services/data/v%s/sobjects/%s/%s" % (version, obj.name, rid)}


def _row(store, obj, rec, select, version):
    row = {"attributes": _attributes(obj, rec["Id"], version)}
    for path in select:
        if len(path) == 1:
            field = path[0][1]
            row[field["name"]] = values.render_json(field, rec.get(field["name"]))
            continue
        lookup, (parent, field) = path[0][1], path[1]
        pid = rec.get(lookup["name"])
        prec = store.live[parent.name].get(pid) if pid else None
        if prec is None:
            row[lookup["relationshipName"]] = None
            continue
        nested = row.get(lookup["relationshipName"]) or {"attributes": _attributes(parent, pid, version)}
        nested[field["name"]] = values.render_json(field, prec.get(field["name"]))
        row[lookup["relationshipName"]] = nested
    return row
