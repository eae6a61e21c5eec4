"""Salesforce record Ids: generation, 15/18-character forms, validation.

An Id is a 3-character key prefix (001 Account, 003 Contact, ...), 12 more
case-sensitive base-62 characters, and for the 18-character form a
3-character suffix that encodes which of the first 15 characters are upper
case, so that the Id survives case-insensitive systems.  Salesforce Help
"Errors due to invalid IDs during Data Loader import and update" (000387915)
states that Ids are 15 or 18 characters and that a 15-character Id may be
converted to the 18-character form.  The suffix algorithm used here is the
widely published one: split the 15 characters into three groups of five, set
bit i when character i of the group is A-Z, and map each 5-bit number into
"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345".
"""
import string
import threading

SUFFIX_ALPHABET = string.ascii_uppercase + "012345"
BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_ALNUM = set(BASE62)

# Key prefixes of non-record entities the fake hands out.
ORG_PREFIX = "00D"
USER_PREFIX = "005"
JOB_PREFIX = "750"


def checksum(id15):
    """Return the 3-character case-checksum suffix for a 15-character Id."""
    out = []
    for group in range(3):
        bits = 0
        for pos, ch in enumerate(id15[group * 5:group * 5 + 5]):
            if "A" <= ch <= "Z":
                bits |= 1 << pos
        out.append(SUFFIX_ALPHABET[bits])
    return "".join(out)


def normalize(value):
    """Return the canonical 18-character Id, or None if value is malformed.

    Accepts the 15-character form and the 18-character form whose suffix
    matches the checksum (suffix compared without case, as the suffix exists
    to be case-insensitive).
    """
    if not isinstance(value, str) or not set(value) <= _ALNUM:
        return None
    if len(value) == 15:
        return value + checksum(value)
    if len(value) == 18 and value[15:].upper() == checksum(value[:15]):
        return value[:15] + value[15:].upper()
    return None


class IdFactory:
    """Thread-safe generator of unique, well-formed 18-character Ids.

    The counter is never reset (not even by /__fake/reset) so that an Id
    handed out before a reset can never be confused with a later one.
    An affine map modulo 62**9 scrambles the counter so Ids mix upper and
    lower case (which exercises the checksum) while staying unique.
    """

    _MOD = 62 ** 9
    _MUL = 48271  # odd and not a multiple of 31, so coprime with 62**9

    def __init__(self):
        self._lock = threading.Lock()
        self._counter = 0

    def next(self, prefix):
        with self._lock:
            self._counter += 1
            n = (self._counter * self._MUL + 917_503) % self._MOD
        body = []
        for _ in range(9):
            n, r = divmod(n, 62)
            body.append(BASE62[r])
        id15 = prefix + "8d" + "0" + "".join(reversed(body))
        return id15 + checksum(id15)
