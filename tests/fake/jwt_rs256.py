"""RS256 JWT verification with the standard library only.

The JWT bearer flow (Salesforce Help, "OAuth 2.0 JWT Bearer Flow for
Server-to-Server Integration") sends a JWT signed with RS256: RSASSA-PKCS1-
v1_5 with SHA-256 (RFC 7518 section 3.3, RFC 8017 section 8.2).  The public
key comes as PEM: "PUBLIC KEY" (SubjectPublicKeyInfo, RFC 5280) or
"RSA PUBLIC KEY" (PKCS#1 RSAPublicKey).  A small DER reader extracts n and e;
verification is pow(signature, e, n) compared with the expected encoding.
"""
import base64
import binascii
import hashlib
import json
import re

# DER DigestInfo prefix for SHA-256 (RFC 8017 section 9.2, note 1).
SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")
RSA_OID = bytes.fromhex("2a864886f70d010101")  # 1.2.840.113549.1.1.1 rsaEncryption


class JwtError(Exception):
    pass


class RsaKey:
    def __init__(self, n, e):
        self.n, self.e = n, e
        self.size = (n.bit_length() + 7) // 8


def _der(data, pos):
    """Read one DER element at pos: (tag, content bytes, next position)."""
    if pos + 2 > len(data):
        raise JwtError("truncated DER")
    tag, length = data[pos], data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise JwtError("bad DER length")
        length = int.from_bytes(data[pos:pos + count], "big")
        pos += count
    if pos + length > len(data):
        raise JwtError("truncated DER")
    return tag, data[pos:pos + length], pos + length


def _children(content):
    out, pos = [], 0
    while pos < len(content):
        tag, body, pos = _der(content, pos)
        out.append((tag, body))
    return out


def _rsa_public_key(der):
    """PKCS#1 RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }."""
    tag, body, _ = _der(der, 0)
    items = _children(body) if tag == 0x30 else []
    if len(items) < 2 or items[0][0] != 0x02 or items[1][0] != 0x02:
        raise JwtError("not an RSA public key")
    return RsaKey(int.from_bytes(items[0][1], "big"), int.from_bytes(items[1][1], "big"))


def _spki(der):
    """SubjectPublicKeyInfo ::= SEQUENCE { AlgorithmIdentifier, BIT STRING }."""
    tag, body, _ = _der(der, 0)
    items = _children(body) if tag == 0x30 else []
    if len(items) != 2 or items[0][0] != 0x30 or items[1][0] != 0x03:
        raise JwtError("not a SubjectPublicKeyInfo")
    algorithm = _children(items[0][1])
    if not algorithm or algorithm[0] != (0x06, RSA_OID):
        raise JwtError("not an RSA key")
    bits = items[1][1]
    if not bits or bits[0] != 0:
        raise JwtError("bad BIT STRING")
    return _rsa_public_key(bits[1:])


def load_public_key(pem):
    """Parse a PEM public key (bytes or str)."""
    text = pem.decode("ascii", "replace") if isinstance(pem, bytes) else pem
    m = re.search(r"-----BEGIN (RSA )?PUBLIC KEY-----(.*?)-----END (RSA )?PUBLIC KEY-----",
                  text, re.S)
    if not m:
        raise JwtError("no PEM public key found")
    try:
        der = base64.b64decode("".join(m.group(2).split()), validate=True)
    except binascii.Error:
        raise JwtError("bad PEM base64")
    return _rsa_public_key(der) if m.group(1) else _spki(der)


def _b64url(part):
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        raise JwtError("bad base64url")


def verify(token, key):
    """Check an RS256 JWT against key; return its claims or raise JwtError."""
    parts = token.split(".")
    if len(parts) != 3:
        raise JwtError("a JWT has three parts")
    try:
        header = json.loads(_b64url(parts[0]))
        claims = json.loads(_b64url(parts[1]))
    except ValueError:
        raise JwtError("bad JWT JSON")
    if not isinstance(header, dict) or header.get("alg") != "RS256" or not isinstance(claims, dict):
        raise JwtError("not an RS256 JWT")
    signature = _b64url(parts[2])
    if len(signature) != key.size:
        raise JwtError("bad signature length")
    s = int.from_bytes(signature, "big")
    if s >= key.n:
        raise JwtError("bad signature")
    encoded = pow(s, key.e, key.n).to_bytes(key.size, "big")
    digest = hashlib.sha256((parts[0] + "." + parts[1]).encode("ascii")).digest()
    tail = SHA256_DIGEST_INFO + digest
    expected = b"\x00\x01" + b"\xff" * (key.size - len(tail) - 3) + b"\x00" + tail
    if key.size < len(tail) + 11 or encoded != expected:
        raise JwtError("signature does not verify")
    return claims
