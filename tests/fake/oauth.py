"""OAuth 2.0 token endpoint and access-token bookkeeping.

POST /services/oauth2/token takes a form body, as the Salesforce clients
simple-salesforce and Redpanda Connect send it.  Errors are HTTP 400 with
{"error": ..., "error_description": ...}.  The texts were captured from real
orgs in public bug reports (client identifier invalid, grant type not
supported, invalid assertion, audience is invalid).
"""
import base64
import hashlib
import hmac
import secrets
import threading
import time
from urllib.parse import parse_qs

import jwt_rs256

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
JWT_AUDIENCES = ("https://login.salesforce.com", "https://test.salesforce.com")


class Tokens:
    """Issued access tokens; expire_all() invalidates every one issued so far."""

    def __init__(self, org_id):
        self.org_id = org_id
        self._lock = threading.Lock()
        self._valid = set()

    def issue(self):
        # Opaque "00D...!AQ..." like real session ids (org id, "!", secret).
        token = "%s!AQ%s" % (self.org_id[:15], secrets.token_urlsafe(72).replace("-", "."))
        with self._lock:
            self._valid.add(token)
        return token

    def valid(self, token):
        with self._lock:
            return token in self._valid

    def expire_all(self):
        with self._lock:
            self._valid.clear()


def _error(code, description):
    return 400, {"error": code, "error_description": description}


class TokenEndpoint:
    def __init__(self, config, tokens, user_id, base_url):
        self.config = config
        self.tokens = tokens
        self.user_id = user_id
        self.base_url = base_url
        self.jwt_key = None
        if config.jwt_public_key:
            with open(config.jwt_public_key, "rb") as fh:
                self.jwt_key = jwt_rs256.load_public_key(fh.read())

    def handle(self, body_text, authorization):
        form = {k: v[0] for k, v in parse_qs(body_text, keep_blank_values=True).items()}
        grant = form.get("grant_type")
        if grant == "client_credentials":
            return self._client_credentials(form, authorization)
        if grant == JWT_GRANT:
            return self._jwt(form)
        return _error("unsupported_grant_type", "grant type not supported")

    def _client_credentials(self, form, authorization):
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if authorization and authorization.lower().startswith("basic "):
            try:
                pair = base64.b64decode(authorization[6:].strip()).decode("utf-8")
                client_id, _, secret = pair.partition(":")
            except (ValueError, UnicodeDecodeError):
                return _error("invalid_client", "invalid client credentials")
        if client_id != self.config.client_id:
            return _error("invalid_client_id", "client identifier invalid")
        if secret != self.config.client_secret:
            # The text appears in a restforce bug report.  NOTE: HTTP 400 is
            # assumed, because no capture shows the status of this error.
            return _error("invalid_client", "invalid client credentials")
        return self._success()

    def _jwt(self, form):
        assertion = form.get("assertion")
        if not assertion or self.jwt_key is None:
            return _error("invalid_grant", "invalid assertion")
        try:
            claims = jwt_rs256.verify(assertion, self.jwt_key)
        except jwt_rs256.JwtError:
            return _error("invalid_grant", "invalid assertion")
        if claims.get("iss") != self.config.client_id:
            return _error("invalid_client_id", "client identifier invalid")
        if claims.get("aud") not in JWT_AUDIENCES:
            # A Talend bug report shows HTTP 400 "audience is invalid".
            return _error("invalid_grant", "audience is invalid")
        try:
            exp = float(claims.get("exp"))  # a number or a numeric string
        except (TypeError, ValueError):
            return _error("invalid_grant", "invalid assertion")
        if exp <= time.time():
            # NOTE: assumed text for an expired assertion.
            return _error("invalid_grant", "expired authorization code")
        return self._success()

    def _success(self):
        issued_at = str(int(time.time() * 1000))  # epoch milliseconds, as a string
        identity = "%s/id/%s/%s" % (self.base_url(), self.tokens.org_id, self.user_id)
        # NOTE: assumed signature recipe (Base64 HMAC-SHA256 of id +
        # issued_at keyed with the consumer secret). Clients treat it as opaque.
        sig = base64.b64encode(hmac.new(self.config.client_secret.encode(),
                                        (identity + issued_at).encode(),
                                        hashlib.sha256).digest()).decode()
        return 200, {
            "access_token": self.tokens.issue(),
            "signature": sig,
            "scope": "api",
            "instance_url": self.base_url(),
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued_at,
        }
