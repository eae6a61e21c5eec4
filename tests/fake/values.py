"""Field values: coercion of JSON and CSV input to stored values, rendering.

Stored representation: str for text-like, date and dateTime fields (the text
as received), bool for checkboxes, jsonpos.Num (exact received text) for
numbers, None for null.
"""
import math
import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from jsonpos import JArr, JObj, Num

TEXT_TYPES = {"string", "textarea", "picklist", "multipicklist", "email", "phone",
              "url", "id", "reference", "combobox", "encryptedstring"}
NUMBER_TYPES = {"int", "double", "currency", "percent", "long"}
FLOAT_TYPES = {"double", "currency", "percent"}

_NUMERIC = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})\Z")
# REST JSON dateTime: ISO 8601 with "Z" or "+hh:mm".  A recorded Salesforce
# response rejects "+0000" (offset without colon) with JSON_PARSER_ERROR
# ("Cannot deserialize instance of datetime from VALUE_STRING value
# "2013-08-12T15:20:00+0000""), so the colon is required here.
_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
    r"(Z|[+-]\d{2}:\d{2})?\Z")


class CoerceError(Exception):
    """A JSON value that cannot be turned into the field's type.

    Salesforce rejects the whole request with JSON_PARSER_ERROR and a
    Jackson message, e.g. "Cannot deserialize instance of datetime from
    VALUE_STRING value "..." at [line:1, column:179]" (recorded response).
    """

    def __init__(self, ftype, token, shown):
        super().__init__(ftype)
        self.ftype, self.token, self.shown = ftype, token, shown

    def message(self, line, column):
        # NOTE: the "from <TOKEN> value <text>" shape is captured for a
        # VALUE_STRING only; the same shape is assumed for other tokens.
        return "Cannot deserialize instance of %s from %s value %s at [line:%d, column:%d]" % (
            self.ftype, self.token, self.shown, line, column)


def _token(value):
    if isinstance(value, JObj) or isinstance(value, dict):
        return "START_OBJECT", "{"
    if isinstance(value, (JArr, list)):
        return "START_ARRAY", "["
    if value is True:
        return "VALUE_TRUE", "true"
    if value is False:
        return "VALUE_FALSE", "false"
    if isinstance(value, Num):
        kind = "VALUE_NUMBER_INT" if re.fullmatch(r"-?\d+", value.text) else "VALUE_NUMBER_FLOAT"
        return kind, value.text
    return "VALUE_STRING", '"%s"' % value


def valid_date(text):
    m = _DATE.match(text)
    if not m:
        return False
    try:
        date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return False
    return True


def parse_datetime(text):
    """Return an aware UTC datetime for accepted dateTime text, else None."""
    m = _DATETIME.match(text)
    if not m:
        return None
    try:
        frac = (m[7] or "0")[:6].ljust(6, "0")
        dt = datetime(int(m[1]), int(m[2]), int(m[3]), int(m[4]), int(m[5]),
                      int(m[6] or 0), int(frac), tzinfo=timezone.utc)
    except ValueError:
        return None
    tz = m[8]
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        dt -= sign * timedelta(hours=int(tz[1:3]), minutes=int(tz[4:6]))
    return dt


def coerce_json(field, value):
    """Turn a parsed JSON value into the stored value for field.

    Raises CoerceError for a value Jackson could not bind to the type.
    """
    ftype = field["type"]
    if value is None:
        return None
    if value == "" and ftype not in TEXT_TYPES:
        # NOTE: assumed: an empty string for a number, date, dateTime or
        # checkbox is read as null, as Salesforce stores empty text as null.
        return None
    token, shown = _token(value)
    if isinstance(value, (dict, list)):
        raise CoerceError(ftype, token, shown)
    if ftype in TEXT_TYPES:
        if isinstance(value, Num):
            return value.text
        if isinstance(value, bool):
            return "true" if value else "false"
        return value
    if ftype in NUMBER_TYPES:
        if isinstance(value, Num):
            return value
        if isinstance(value, str) and _NUMERIC.match(value):
            return Num(value)
        raise CoerceError(ftype, token, shown)
    if ftype == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise CoerceError(ftype, token, shown)
    if ftype == "date":
        if isinstance(value, str) and valid_date(value):
            return value
        raise CoerceError(ftype, token, shown)
    if ftype == "datetime":
        if isinstance(value, str) and parse_datetime(value) is not None:
            return value
        raise CoerceError(ftype, token, shown)
    if isinstance(value, Num):
        return value.text
    return value


class CellError(Exception):
    """A CSV cell that does not fit the field's type (per-row failure)."""


# Bulk API 2.0 "Valid Date Format in Records (2.0)": dateTime is
# yyyy-MM-ddTHH:mm:ss.SSS+/-HH:mm or yyyy-MM-ddTHH:mm:ss.SSSZ, milliseconds
# optional; date is yyyy-MM-dd and an offset on a date is not supported.
_CSV_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:\d{2})\Z")


def coerce_csv(field, text):
    """Turn a non-empty CSV cell into the stored value, or raise CellError."""
    ftype = field["type"]
    if ftype in TEXT_TYPES:
        return text
    if ftype in NUMBER_TYPES:
        # Bulk API 2.0 "Prepare CSV Files": doubles may use scientific notation.
        if _NUMERIC.match(text):
            return Num(text)
        raise CellError()
    if ftype == "boolean":
        # NOTE: only true/false are documented for Bulk API 2.0 CSV; other
        # spellings (yes/1/on) are Data Loader conversions, so they fail here.
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        raise CellError()
    if ftype == "date":
        if valid_date(text):
            return text
        raise CellError()
    if ftype == "datetime":
        if _CSV_DATETIME.match(text) and parse_datetime(text) is not None:
            return text
        raise CellError()
    return text


def java_double(text):
    """Render a number the way Java's Double.toString does.

    Bulk API 2.0 results echo currency/double values as saved, e.g. the
    uploaded 912260031 comes back as "9.12260031E8" (Bulk API 2.0 Developer
    Guide, walkthrough "Get Job Successful Record Results").
    """
    d = float(Decimal(text))
    if math.isnan(d):
        return "NaN"
    if math.isinf(d):
        return "Infinity" if d > 0 else "-Infinity"
    if d == 0:
        return "-0.0" if math.copysign(1.0, d) < 0 else "0.0"
    shortest = Decimal(repr(d))
    if 1e-3 <= abs(d) < 1e7:
        plain = format(shortest, "f")
        return plain if "." in plain else plain + ".0"
    sign, digits, exp = shortest.as_tuple()
    digits = "".join(map(str, digits)).rstrip("0") or "0"
    exponent = len("".join(map(str, shortest.as_tuple()[1]))) + exp - 1
    mantissa = digits[0] + "." + (digits[1:] or "0")
    return ("-" if sign else "") + mantissa + "E" + str(exponent)


def render_csv(field, value):
    """Render a stored value as Bulk API 2.0 results show the saved value."""
    if value is None:
        return ""
    ftype = field["type"]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Num):
        if ftype in FLOAT_TYPES:
            return java_double(value.text)
        if ftype in ("int", "long"):
            dec = value.decimal()
            return str(int(dec)) if dec == dec.to_integral_value() else value.text
        return value.text
    if ftype == "datetime":
        return format_datetime(value, "Z")
    return str(value)


def format_datetime(text, zone_suffix):
    """Normalise dateTime text to UTC with milliseconds.

    zone_suffix "Z" gives Bulk results' form, "+0000" the REST query form
    (REST responses show dateTimes like 2022-01-02T21:33:43.000+0000).
    """
    dt = parse_datetime(text)
    if dt is None:
        return text
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03d" % (dt.microsecond // 1000) + zone_suffix


def render_json(field, value):
    """Render a stored value for a REST query response."""
    if field["type"] == "datetime" and isinstance(value, str):
        return format_datetime(value, "+0000")
    return value


def text_key(value, case_sensitive=False):
    """Index key for comparing unique / external-id values."""
    if isinstance(value, Num):
        text = value.text
    elif isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = str(value)
    return text if case_sensitive else text.lower()
