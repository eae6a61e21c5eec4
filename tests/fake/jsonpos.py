"""A small JSON reader that keeps what sObject Collections needs to judge.

Python's json module loses two things the fake must keep:
  * the exact text of every number (``-0.0``, ``12345678901234567890``,
    ``0.1000000000000000055511151231257827`` must be stored verbatim), and
  * the position of every value, because Salesforce reports a value it
    cannot coerce as a Jackson error "... at [line:1, column:N]"
    (recorded JSON_PARSER_ERROR bodies; REST API Developer Guide,
    "Status Codes and Error Responses").
So this module parses JSON itself.  Objects come back as JObj (a dict that
also remembers where each member's value starts), arrays as JArr, numbers as
Num.  dumps() writes Num back with its original text.
"""
import bisect
import json
from decimal import Decimal, InvalidOperation


class Num:
    """A JSON number kept as the exact text it was received with."""

    __slots__ = ("text",)

    def __init__(self, text):
        self.text = text

    def decimal(self):
        return Decimal(self.text)

    def __eq__(self, other):
        return isinstance(other, Num) and self.text == other.text

    def __hash__(self):
        return hash(self.text)

    def __repr__(self):
        return "Num(%s)" % self.text


class JObj(dict):
    """A JSON object; .pos maps each key to the (line, column) of its value."""

    def __init__(self):
        super().__init__()
        self.pos = {}


class JArr(list):
    """A JSON array; .pos contains the (line, column) of each element."""

    def __init__(self):
        super().__init__()
        self.pos = []


class JsonError(Exception):
    """A syntax error, with Jackson's wording and 1-based line/column."""

    def __init__(self, message, line, column):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column

    def jackson(self):
        return "%s at [line:%d, column:%d]" % (self.message, self.line, self.column)


_WS = " \t\r\n"
# NOTE: assumed wording.  The texts imitate Jackson, which Salesforce's REST
# layer uses (captured: "Unexpected character ('j' (code 106)): was expecting
# a colon to separate field name and value at [line:1, column:18]").  Only
# that one message is captured; the others follow Jackson's own phrasing.
_EXPECT_VALUE = ("expected a valid value (number, String, array, object, "
                 "'true', 'false' or 'null')")


class _Reader:
    def __init__(self, text):
        self.s = text
        self.i = 0
        self.line_starts = [0]
        for idx, ch in enumerate(text):
            if ch == "\n":
                self.line_starts.append(idx + 1)

    def where(self, idx):
        line = bisect.bisect_right(self.line_starts, idx)
        return line, idx - self.line_starts[line - 1] + 1

    def fail(self, message, idx=None):
        # Jackson reports the location just after the offending character.
        idx = self.i + 1 if idx is None else idx
        line, col = self.where(min(idx, len(self.s)))
        raise JsonError(message, line, col)

    def skip_ws(self):
        s, i = self.s, self.i
        while i < len(s) and s[i] in _WS:
            i += 1
        self.i = i

    def peek(self):
        self.skip_ws()
        return self.s[self.i] if self.i < len(self.s) else ""

    def unexpected(self, what):
        ch = self.s[self.i]
        self.fail("Unexpected character (%s (code %d)): %s" % (_char_repr(ch), ord(ch), what))

    def eof(self, context):
        self.fail("Unexpected end-of-input: %s" % context, len(self.s))

    def value(self):
        ch = self.peek()
        if ch == "":
            self.eof("expected a value")
        if ch == "{":
            return self.obj()
        if ch == "[":
            return self.arr()
        if ch == '"':
            return self.string()
        if ch == "-" or ch.isdigit():
            return self.number()
        if ch.isalpha():
            return self.literal()
        self.unexpected(_EXPECT_VALUE)

    def obj(self):
        out = JObj()
        self.i += 1
        if self.peek() == "}":
            self.i += 1
            return out
        while True:
            ch = self.peek()
            if ch == "":
                self.eof("expected close marker for OBJECT")
            if ch != '"':
                self.unexpected("was expecting double-quote to start field name")
            key = self.string()
            ch = self.peek()
            if ch == "":
                self.eof("expected close marker for OBJECT")
            if ch != ":":
                self.unexpected("was expecting a colon to separate field name and value")
            self.i += 1
            self.skip_ws()
            out.pos[key] = self.where(self.i)
            out[key] = self.value()
            ch = self.peek()
            if ch == ",":
                self.i += 1
                continue
            if ch == "}":
                self.i += 1
                return out
            if ch == "":
                self.eof("expected close marker for OBJECT")
            self.unexpected("was expecting comma to separate Object entries")

    def arr(self):
        out = JArr()
        self.i += 1
        if self.peek() == "]":
            self.i += 1
            return out
        while True:
            self.skip_ws()
            out.pos.append(self.where(self.i))
            out.append(self.value())
            ch = self.peek()
            if ch == ",":
                self.i += 1
                continue
            if ch == "]":
                self.i += 1
                return out
            if ch == "":
                self.eof("expected close marker for ARRAY")
            self.unexpected("was expecting comma to separate Array entries")

    def string(self):
        s = self.s
        i = self.i + 1
        parts = []
        while True:
            if i >= len(s):
                self.i = i
                self.eof("was expecting closing quote for a string value")
            ch = s[i]
            if ch == '"':
                self.i = i + 1
                return "".join(parts)
            if ch == "\\":
                i = self._escape(i, parts)
                continue
            if ord(ch) < 0x20:
                self.i = i
                self.fail("Illegal unquoted character ((CTRL-CHAR, code %d)): has to be "
                          "escaped using backslash to be included in string value" % ord(ch))
            parts.append(ch)
            i += 1

    def _escape(self, i, parts):
        s = self.s
        if i + 1 >= len(s):
            self.i = i + 1
            self.eof("was expecting closing quote for a string value")
        code = s[i + 1]
        simple = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f",
                  "n": "\n", "r": "\r", "t": "\t"}
        if code in simple:
            parts.append(simple[code])
            return i + 2
        if code == "u":
            hexpart = s[i + 2:i + 6]
            if len(hexpart) < 4 or any(c not in "0123456789abcdefABCDEF" for c in hexpart):
                self.i = i + 1
                self.fail("Unexpected character in unicode escape: expected a hex-digit "
                          "for character escape sequence")
            cp = int(hexpart, 16)
            nxt = i + 6
            if 0xD800 <= cp < 0xDC00 and s[nxt:nxt + 2] == "\\u":
                low = s[nxt + 2:nxt + 6]
                if len(low) == 4 and all(c in "0123456789abcdefABCDEF" for c in low):
                    lo = int(low, 16)
                    if 0xDC00 <= lo < 0xE000:
                        parts.append(chr(0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00)))
                        return nxt + 6
            parts.append(chr(cp))
            return nxt
        self.i = i + 1
        self.fail("Unrecognized character escape %s (code %d)" % (_char_repr(code), ord(code)))

    def number(self):
        s, start = self.s, self.i
        i = start
        if s[i] == "-":
            i += 1
        if i >= len(s) or not s[i].isdigit():
            self.i = i
            if i >= len(s):
                self.eof("expected digit after minus sign")
            self.fail("Unexpected character (%s (code %d)) in numeric value: expected digit (0-9) "
                      "to follow minus sign, for valid numeric value" % (_char_repr(s[i]), ord(s[i])))
        if s[i] == "0" and i + 1 < len(s) and s[i + 1].isdigit():
            self.i = i + 1
            self.fail("Invalid numeric value: Leading zeroes not allowed")
        while i < len(s) and s[i].isdigit():
            i += 1
        if i < len(s) and s[i] == ".":
            i += 1
            if i >= len(s) or not s[i].isdigit():
                self.i = i
                self.fail("Unexpected character in numeric value: Decimal point not followed "
                          "by a digit")
            while i < len(s) and s[i].isdigit():
                i += 1
        if i < len(s) and s[i] in "eE":
            i += 1
            if i < len(s) and s[i] in "+-":
                i += 1
            if i >= len(s) or not s[i].isdigit():
                self.i = i
                self.fail("Unexpected character in numeric value: Exponent indicator not "
                          "followed by a digit")
            while i < len(s) and s[i].isdigit():
                i += 1
        self.i = i
        return Num(s[start:i])

    def literal(self):
        s, start = self.s, self.i
        i = start
        while i < len(s) and (s[i].isalnum() or s[i] == "_"):
            i += 1
        word = s[start:i]
        self.i = i
        if word == "true":
            return True
        if word == "false":
            return False
        if word == "null":
            return None
        self.fail("Unrecognized token '%s': was expecting (JSON String, Number, Array, Object "
                  "or token 'null', 'true' or 'false')" % word, i)


def _char_repr(ch):
    return "'%s'" % ch if ch.isprintable() else "CTRL-CHAR"


def loads(text):
    """Parse JSON text; raise JsonError with Jackson-style wording."""
    reader = _Reader(text)
    if reader.peek() == "":
        reader.fail("No content to map due to end-of-input", len(text))
    result = reader.value()
    if reader.peek() != "":
        reader.unexpected("expected end-of-input")
    return result


def dumps(value):
    """Serialise to compact JSON, writing Num and Decimal with their exact text."""
    parts = []
    _dump(value, parts)
    return "".join(parts)


def _dump(v, out):
    if v is None:
        out.append("null")
    elif v is True:
        out.append("true")
    elif v is False:
        out.append("false")
    elif isinstance(v, Num):
        out.append(v.text)
    elif isinstance(v, Decimal):
        out.append(str(v))
    elif isinstance(v, (int, float)):
        out.append(json.dumps(v))
    elif isinstance(v, str):
        out.append(json.dumps(v, ensure_ascii=False))
    elif isinstance(v, dict):
        out.append("{")
        for n, (k, item) in enumerate(v.items()):
            if n:
                out.append(",")
            out.append(json.dumps(str(k), ensure_ascii=False))
            out.append(":")
            _dump(item, out)
        out.append("}")
    elif isinstance(v, (list, tuple)):
        out.append("[")
        for n, item in enumerate(v):
            if n:
                out.append(",")
            _dump(item, out)
        out.append("]")
    else:
        raise TypeError("cannot serialise %r" % (v,))


def num_from_decimal_text(text):
    """Return a Num for numeric text, or None when the text is not a number."""
    try:
        Decimal(text)
    except InvalidOperation:
        return None
    return Num(text)
