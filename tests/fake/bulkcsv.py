"""Strict CSV reading and writing for Bulk API 2.0 ingest.

Bulk API 2.0 "Prepare CSV Files": the delimiter is the job's
columnDelimiter, rows end with the job's lineEnding, a value containing the
delimiter, a quote or a line break is quoted with '"', embedded quotes are
doubled, and values are not trimmed ("John", "Smith" with a space before the
quote is an error).
"""


class LineEndingError(Exception):
    """The data uses a line ending other than the job's lineEnding."""


class CsvSyntaxError(Exception):
    """The data cannot be split into rows (an unterminated quote)."""


class Row:
    def __init__(self, cells, bad):
        self.cells = cells
        self.bad = bad   # a stray quote made this row invalid


def parse(text, delimiter, crlf):
    """Split text into Rows; blank lines are skipped.

    Line breaks inside quoted values are data.  Outside quotes, "\\r\\n" in
    an LF job or a bare "\\n" in a CRLF job raises LineEndingError.
    """
    rows, cells, buf = [], [], []
    in_quotes = after_quote = started = bad = False
    row_len = 0
    i, n = 0, len(text)

    def end_cell():
        nonlocal buf, started, after_quote
        cells.append("".join(buf))
        buf, started, after_quote = [], False, False

    def end_row():
        nonlocal cells, bad, row_len
        end_cell()
        if row_len:
            rows.append(Row(cells, bad))
        cells, bad, row_len = [], False, 0

    while i < n:
        ch = text[i]
        if in_quotes:
            if ch == '"':
                if i + 1 < n and text[i + 1] == '"':
                    buf.append('"')
                    i += 2
                    row_len += 2
                    continue
                in_quotes, after_quote = False, True
            else:
                buf.append(ch)
            i += 1
            row_len += 1
            continue
        if ch == "\r" and i + 1 < n and text[i + 1] == "\n":
            if not crlf:
                raise LineEndingError()
            end_row()
            i += 2
            continue
        if ch == "\n":
            if crlf:
                raise LineEndingError()
            end_row()
            i += 1
            continue
        row_len += 1
        i += 1
        if ch == delimiter:
            end_cell()
            continue
        if ch == '"' and not started:
            in_quotes = started = True
            continue
        if ch == '"' or after_quote:
            bad = True
        started = True
        buf.append(ch)
    if in_quotes:
        raise CsvSyntaxError()
    if row_len or cells:
        end_row()
    return rows


def quote(value):
    return '"' + value.replace('"', '""') + '"'


def header_name(name, delimiter):
    """An original header echoed as uploaded: bare unless it needs quoting."""
    if any(c in name for c in (delimiter, '"', "\n", "\r")):
        return quote(name)
    return name
