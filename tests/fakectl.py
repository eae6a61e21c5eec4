#!/usr/bin/env python3
"""Talk to the fake org's control API from the tests.

usage: fakectl.py BASE_URL METHOD PATH [BODY]

Prints the response body and exits 0 for a 2xx answer, 1 otherwise.
"""
import sys
import urllib.error
import urllib.request


def main(argv):
    if len(argv) not in (4, 5):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    base, method, path = argv[1], argv[2], argv[3]
    body = argv[4].encode() if len(argv) == 5 else None
    req = urllib.request.Request(base + path, data=body, method=method)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            sys.stdout.write(resp.read().decode())
            return 0
    except urllib.error.HTTPError as err:
        sys.stdout.write(err.read().decode())
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
