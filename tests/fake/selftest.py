#!/usr/bin/env python3
"""Self-test of the fake org: start it on a free port, exercise every
endpoint with urllib, check the shapes.  Exit 0 when all checks pass."""
import base64
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import ids as fake_ids  # noqa: E402  (the fake's own Id checksum)
V = "v60.0"
FAILURES = []
CHECKS = [0]


def check(cond, what):
    CHECKS[0] += 1
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what, file=sys.stderr)


class Fake:
    def __init__(self, *extra):
        self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, "fake_org.py"), *extra],
                                     stdout=subprocess.PIPE, text=True)
        self.base = self.proc.stdout.readline().strip()
        self.token = None

    def stop(self):
        self.proc.terminate()
        return self.proc.wait(10)

    def call(self, method, path, body=None, headers=None, auth=True, raw=False):
        """Return (status, headers, parsed JSON body or text)."""
        hdrs = dict(headers or {})
        data = None
        if body is not None:
            if isinstance(body, (bytes, str)):
                data = body.encode() if isinstance(body, str) else body
            else:
                data = json.dumps(body).encode()
                hdrs.setdefault("Content-Type", "application/json")
        if auth and self.token and "Authorization" not in hdrs:
            hdrs["Authorization"] = "Bearer " + self.token
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=20) as resp:
                status, rh, payload = resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as exc:
            status, rh, payload = exc.code, exc.headers, exc.read()
        text = payload.decode("utf-8")
        if raw or not text or "json" not in (rh.get("Content-Type") or ""):
            return status, rh, text
        return status, rh, json.loads(text)

    def login(self):
        form = "grant_type=client_credentials&client_id=sfsink-demo&client_secret=sfsink-demo-secret"
        st, _, body = self.call("POST", "/services/oauth2/token", form,
                                {"Content-Type": "application/x-www-form-urlencoded"}, auth=False)
        self.token = body["access_token"]
        return st, body

    def reset(self):
        self.call("POST", "/__fake/reset", auth=False)
        self.login()

    def records(self, obj):
        return self.call("GET", "/__fake/records/" + obj, auth=False)[2]


def coll(fake, method, records, all_or_none=False, path="/composite/sobjects"):
    return fake.call(method, "/services/data/%s%s" % (V, path),
                     {"allOrNone": all_or_none, "records": records})


def acct(**kw):
    rec = {"attributes": {"type": "Account"}}
    rec.update(kw)
    return rec


# ---------------------------------------------------------------- tests
def test_versions_and_token(f):
    st, h, body = f.call("GET", "/services/data/", auth=False)
    check(st == 200 and isinstance(body, list) and body[0]["version"] == "42.0", "versions list")
    check(h.get("Sforce-Limit-Info") is None, "versions has no Sforce-Limit-Info")
    check(any(v["label"] == "Summer '24" and v["version"] == "61.0" for v in body), "v61 label")
    st, body = f.login()
    check(st == 200 and body["token_type"] == "Bearer" and body["access_token"].startswith("00D")
          and "!" in body["access_token"], "token success")
    check(body["instance_url"] == f.base and body["issued_at"].isdigit()
          and len(body["issued_at"]) == 13, "token instance_url/issued_at")
    check(set(body) >= {"signature", "scope", "id"}, "token keys")
    basic = base64.b64encode(b"sfsink-demo:sfsink-demo-secret").decode()
    st, _, body = f.call("POST", "/services/oauth2/token", "grant_type=client_credentials",
                         {"Authorization": "Basic " + basic}, auth=False)
    check(st == 200 and "access_token" in body, "token via Basic auth")
    for form, err in [
        ("grant_type=client_credentials&client_id=nope&client_secret=x",
         {"error": "invalid_client_id", "error_description": "client identifier invalid"}),
        ("grant_type=client_credentials&client_id=sfsink-demo&client_secret=bad",
         {"error": "invalid_client", "error_description": "invalid client credentials"}),
        ("grant_type=password", {"error": "unsupported_grant_type",
                                 "error_description": "grant type not supported"})]:
        st, _, body = f.call("POST", "/services/oauth2/token", form, auth=False)
        check(st == 400 and body == err, "token error %s" % err["error"])


def test_auth_and_limits(f):
    st, h, body = f.call("GET", "/services/data/%s/sobjects/Account/describe" % V,
                         headers={"Authorization": "Bearer nope"})
    check(st == 401 and body == [{"message": "Session expired or invalid",
                                  "errorCode": "INVALID_SESSION_ID"}], "401 bad token")
    st, h, _ = f.call("GET", "/services/data/%s/sobjects/Account/describe" % V)
    check(st == 200 and h["Sforce-Limit-Info"].startswith("api-usage="), "limit header")
    check(h["Content-Type"] == "application/json;charset=UTF-8", "json content type")
    used = int(h["Sforce-Limit-Info"].split("=")[1].split("/")[0])
    f.call("POST", "/__fake/config", {"api_limit": used + 1}, auth=False)
    st, h, _ = f.call("GET", "/services/data/%s/sobjects/Account/describe" % V)
    check(st == 200, "last call within limit")
    st, h, body = f.call("GET", "/services/data/%s/sobjects/Account/describe" % V)
    check(st == 403 and body == [{"message": "TotalRequests Limit exceeded.",
                                  "errorCode": "REQUEST_LIMIT_EXCEEDED"}], "403 over limit")
    check(h["Sforce-Limit-Info"] == "api-usage=%d/%d" % (used + 2, used + 1), "usage over limit")
    f.call("POST", "/__fake/config", {"api_limit": 15000, "api_usage": 0}, auth=False)
    st, _, _ = f.call("GET", "/services/data/v41.0/sobjects/Account/describe")
    check(st == 404, "version below 42 is 404")
    f.call("POST", "/__fake/expire-tokens", auth=False)
    st, _, _ = f.call("GET", "/services/data/%s/sobjects" % V)
    check(st == 401, "expired token")
    f.login()


def test_describe(f):
    st, _, d = f.call("GET", "/services/data/%s/sobjects/Account/describe" % V)
    check(st == 200 and d["name"] == "Account" and d["keyPrefix"] == "001", "describe top")
    for key in ("label", "createable", "updateable", "deletable", "custom", "fields"):
        check(key in d, "describe has %s" % key)
    captured = ("autoNumber byteLength calculated calculatedFormula cascadeDelete caseSensitive "
                "controllerName createable custom defaultValue defaultValueFormula "
                "defaultedOnCreate dependentPicklist deprecatedAndHidden digits "
                "displayLocationInDecimal encrypted externalId extraTypeInfo filterable "
                "filteredLookupInfo groupable highScaleNumber htmlFormatted idLookup "
                "inlineHelpText label length mask maskType name nameField namePointing nillable "
                "permissionable picklistValues precision queryByDistance referenceTargetField "
                "referenceTo relationshipName relationshipOrder restrictedDelete "
                "restrictedPicklist scale soapType sortable type unique updateable "
                "writeRequiresMasterRead").split()
    for field in d["fields"]:
        missing = [k for k in captured if k not in field]
        check(not missing, "field %s lacks %s" % (field["name"], missing))
    by = {x["name"]: x for x in d["fields"]}
    check(by["Id"]["type"] == "id" and not by["Id"]["createable"], "Id field")
    check(by["Name"]["nillable"] is False and by["Name"]["length"] == 255, "Name field")
    ext = by["External_Id__c"]
    check(ext["externalId"] and ext["unique"] and ext["idLookup"], "external id field")
    st, _, c = f.call("GET", "/services/data/%s/sobjects/Contact/describe" % V)
    acc = {x["name"]: x for x in c["fields"]}["AccountId"]
    check(acc["relationshipName"] == "Account" and acc["referenceTo"] == ["Account"], "lookup")
    st, _, body = f.call("GET", "/services/data/%s/sobjects/Nope/describe" % V)
    check(st == 404 and body[0]["errorCode"] == "NOT_FOUND", "describe unknown")


def test_create(f):
    f.reset()
    st, _, res = coll(f, "POST", [acct(Name="A", External_Id__c="A1"),
                                  {"attributes": {"type": "Contact"}, "FirstName": "x"},
                                  {"attributes": {"type": "Contact"}, "LastName": "L",
                                   "account": {"External_Id__c": "A1"}}])
    check(st == 200 and res[0]["success"] and len(res[0]["id"]) == 18
          and res[0]["id"].startswith("001"), "create ok")
    check(res[1] == {"success": False, "errors": [{
        "statusCode": "REQUIRED_FIELD_MISSING", "message": "Required fields are missing: [LastName]",
        "fields": ["LastName"]}]}, "required missing")
    check(res[2]["success"] and res[2]["id"].startswith("003"), "contact by parent ext id")
    contacts = f.records("Contact")
    check(contacts[0]["AccountId"] == res[0]["id"], "lookup resolved to AccountId")

    # allOrNone: nothing stored, rolled back result has no id
    st, _, res = coll(f, "POST", [acct(Name="B"), acct(External_Id__c="x")], all_or_none=True)
    check(res[0] == {"success": False, "errors": [{
        "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "message": "Record rolled back because not all records were valid and the request was "
                   "using AllOrNone header", "fields": []}]}, "rolled back create")
    check(res[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING", "allOrNone own error")
    check(len(f.records("Account")) == 1, "rollback stored nothing")

    # duplicates, foreign key, string too long, non-createable
    st, _, res = coll(f, "POST", [
        acct(Name="C", External_Id__c="a1"),
        {"attributes": {"type": "Contact"}, "LastName": "L", "Account": {
            "attributes": {"type": "Account"}, "External_Id__c": "ZZ"}},
        acct(Name="x" * 256),
        acct(Name="D", CreatedDate="2020-01-01T00:00:00Z"),
        {"attributes": {"type": "Contact"}, "LastName": "E", "Email": "not an email"}])
    check(res[0]["errors"][0]["statusCode"] == "DUPLICATE_VALUE" and
          "duplicate value found: External_Id__c duplicates value on record with id: "
          in res[0]["errors"][0]["message"], "duplicate unique value")
    check(res[1]["errors"][0] == {"statusCode": "INVALID_FIELD", "message":
                                  "Foreign key external ID: ZZ not found for field External_Id__c "
                                  "in entity Account", "fields": []}, "foreign key not found")
    check(res[2]["errors"][0]["statusCode"] == "STRING_TOO_LONG" and
          res[2]["errors"][0]["message"].endswith("(max length=255)") and
          res[2]["errors"][0]["fields"] == ["Name"], "string too long")
    check(res[3]["errors"][0]["statusCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE" and
          res[3]["errors"][0]["fields"] == ["CreatedDate"], "not createable")
    check(res[4]["errors"][0]["statusCode"] == "INVALID_EMAIL_ADDRESS", "bad email")


def test_request_errors(f):
    f.reset()
    st, _, body = coll(f, "POST", [acct(Name=str(i)) for i in range(201)])
    check(st == 400 and body == [{"message": "record limit reached. cannot submit more than 200 "
                                  "records into this call", "errorCode": "EXCEEDED_ID_LIMIT"}],
          "201 records")
    st, _, body = coll(f, "POST", [acct(Name="A", Bogus__c=1)])
    check(st == 400 and body == [{"message": "No such column 'Bogus__c' on sobject of type Account",
                                  "errorCode": "INVALID_FIELD"}], "unknown field")
    st, _, body = coll(f, "POST", [{"Name": "A"}])
    check(st == 400 and len(body) == 1 and "errorCode" in body[0], "missing attributes.type")
    raw = '{"records":[{"attributes":{"type":"Account"},"Name":"A","NumberOfEmployees":"abc"}]}'
    col = raw.index('"abc"') + 1
    st, _, body = f.call("POST", "/services/data/%s/composite/sobjects" % V, raw,
                         {"Content-Type": "application/json"})
    check(st == 400 and body[0]["errorCode"] == "JSON_PARSER_ERROR" and
          body[0]["message"].endswith("at [line:1, column:%d]" % col) and
          'value "abc"' in body[0]["message"], "coercion error column %s" % body)
    for field, bad_value in (("Name", '{"x":1}'), ("Founded__c", '"2020-13-45"'),
                             ("AnnualRevenue", '"abc"'), ("Last_Sync__c", '"2013-08-12T15:20:00+0000"')):
        raw = '{"records":[{"attributes":{"type":"Account"},"%s":%s}]}' % (field, bad_value)
        st, _, body = f.call("POST", "/services/data/%s/composite/sobjects" % V, raw,
                             {"Content-Type": "application/json"})
        check(st == 400 and body[0]["errorCode"] == "JSON_PARSER_ERROR" and
              "column:%d]" % (raw.index(bad_value) + 1) in body[0]["message"],
              "coercion %s" % bad_value)
    st, _, body = f.call("POST", "/services/data/%s/composite/sobjects" % V, '{"records": [',
                         {"Content-Type": "application/json"})
    check(st == 400 and body[0]["errorCode"] == "JSON_PARSER_ERROR", "bad JSON")
    check(f.records("Account") == [], "nothing stored after 400s")


def test_numbers(f):
    f.reset()
    raw = ('{"records":[{"attributes":{"type":"Account"},"Name":"N","Score__c":-0.0,'
           '"AnnualRevenue":0.1000000000000000055511151231257827,'
           '"Big_Number__c":12345678901234567890}]}')
    st, _, res = f.call("POST", "/services/data/%s/composite/sobjects" % V, raw,
                        {"Content-Type": "application/json"})
    check(res[0]["success"], "numbers saved")
    st, _, text = f.call("GET", "/__fake/records/Account", auth=False, raw=True)
    for token in ('"Score__c":-0.0', '"AnnualRevenue":0.1000000000000000055511151231257827',
                  '"Big_Number__c":12345678901234567890'):
        check(token in text, "verbatim number %s" % token)


def test_update_delete(f):
    f.reset()
    st, _, ids = f.call("POST", "/__fake/records/Account",
                        [{"Name": "A", "External_Id__c": "A1"}, {"Name": "B"}], auth=False)
    a, b = ids
    st, _, res = f.call("DELETE", "/services/data/%s/composite/sobjects?ids=%s" % (V, b))
    check(res == [{"id": b, "success": True, "errors": []}], "delete ok")
    never = "001" + a[3:15]
    never = never[:-1] + ("x" if never[-1] != "x" else "y")
    never18 = never + fake_ids.checksum(never)
    bad_sum = a[:15] + ("AAA" if a[15:] != "AAA" else "BBB")
    recs = [acct(Id=a, NumberOfEmployees=5), acct(id=bad_sum, Name="x"),
            acct(Id="003" + a[3:], Name="x"), acct(Id=b, Name="x"), acct(Id=never18, Name="x"),
            acct(Id=a[:15], Name=None), acct(Id=a, IsDeleted=True), acct(Name="no id")]

    st, _, res = coll(f, "PATCH", recs)
    check(res[0] == {"id": a, "success": True, "errors": []}, "update ok")
    check(res[1]["errors"][0] == {"statusCode": "MALFORMED_ID", "message":
                                  "Account ID: id value of incorrect type: " + bad_sum,
                                  "fields": ["Id"]}, "bad checksum")
    check(res[2]["errors"][0]["statusCode"] == "MALFORMED_ID", "wrong key prefix")
    check(res[3]["errors"][0] == {"statusCode": "ENTITY_IS_DELETED", "message": "entity is deleted",
                                  "fields": []}, "update deleted")
    check(res[4]["errors"][0]["statusCode"] == "INVALID_CROSS_REFERENCE_KEY", "never existed")
    check(res[5]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING", "null required field")
    check(res[6]["errors"][0]["statusCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE", "not updateable")
    check(res[7]["errors"][0]["statusCode"] == "MISSING_ARGUMENT", "update without Id")
    check(f.records("Account")[0]["NumberOfEmployees"] == 5, "update stored")

    st, _, res = coll(f, "PATCH", [acct(Id=a, Name="Z"), acct(Id=bad_sum)], all_or_none=True)
    check(res[0]["id"] == a and res[0]["errors"][0]["statusCode"] ==
          "ALL_OR_NONE_OPERATION_ROLLED_BACK", "update rollback keeps id")
    check(f.records("Account")[0]["Name"] == "A", "update rolled back")
    st, _, res = f.call("DELETE", "/services/data/%s/composite/sobjects?ids=%s,%s,%s,%s&allOrNone=true"
                        % (V, a, "001RM000003oLrB000", b, never18))
    check(res[0]["id"] == a and res[0]["errors"][0]["statusCode"] ==
          "ALL_OR_NONE_OPERATION_ROLLED_BACK", "delete rollback")
    check(res[1] == {"success": False, "errors": [{"statusCode": "MALFORMED_ID", "message":
                                                   "malformed id 001RM000003oLrB000",
                                                   "fields": []}]}, "delete malformed")
    check(res[2]["errors"][0]["statusCode"] == "ENTITY_IS_DELETED", "delete deleted")
    check(len(f.records("Account")) == 1, "delete rolled back")


def test_upsert(f):
    f.reset()
    f.call("POST", "/__fake/records/Account", [{"Name": "Old", "External_Id__c": "E1"}], auth=False)
    path = "/composite/sobjects/Account/External_Id__c"
    st, _, res = coll(f, "PATCH", [acct(Name="New1", External_Id__c="E1"),
                                   acct(Name="New2", External_Id__c="E2")], path=path)
    check(res[0]["created"] is False and res[1]["created"] is True and
          all(r["success"] for r in res), "upsert created flags")
    st, _, res = coll(f, "PATCH", [acct(Name="D", External_Id__c="E3"),
                                   acct(Name="D", External_Id__c="e3"),
                                   acct(Name="ok", External_Id__c="E4")], path=path)
    check(res[0]["errors"][0]["message"] == "Duplicate external id specified: E3" and
          res[1]["errors"][0]["statusCode"] == "DUPLICATE_VALUE" and res[2]["success"],
          "duplicate external id in request")
    st, _, res = coll(f, "PATCH", [acct(Name="R", External_Id__c="E5"),
                                   acct(External_Id__c="E6")], all_or_none=True, path=path)
    check(all(r["created"] is True and not r["success"] for r in res) and "id" not in res[0],
          "upsert allOrNone created true %s" % res)
    check(len(f.records("Account")) == 3, "upsert rollback stored nothing")
    st, _, body = f.call("PATCH", "/services/data/v45.0" + path,
                         {"records": [acct(Name="x", External_Id__c="Q")]})
    check(st == 404, "upsert below v46")
    f.call("POST", "/__fake/records/Contact", [{"LastName": "A", "Email": "d@x.io"},
                                               {"LastName": "B", "Email": "d@x.io"}], auth=False)
    st, _, res = coll(f, "PATCH", [{"attributes": {"type": "Contact"}, "LastName": "C",
                                    "Email": "d@x.io"}], path="/composite/sobjects/Contact/Email")
    check(res[0]["errors"][0]["statusCode"] == "DUPLICATE_EXTERNAL_ID" and
          res[0]["created"] is False, "duplicate external id match")


def test_query(f):
    f.reset()
    f.call("POST", "/__fake/records/Account", [{"Name": "Q1", "External_Id__c": "X",
                                                "AnnualRevenue": 10}, {"Name": "Q2"}], auth=False)
    q = urllib.parse.quote("SELECT Id, Name, AnnualRevenue FROM Account WHERE External_Id__c = 'x' LIMIT 5")
    st, _, body = f.call("GET", "/services/data/%s/query?q=%s" % (V, q))
    check(st == 200 and body["totalSize"] == 1 and body["done"] is True and
          body["records"][0]["attributes"]["type"] == "Account" and
          body["records"][0]["Name"] == "Q1", "query %s" % body)
    st, _, body = f.call("GET", "/services/data/%s/query?q=%s" % (V, urllib.parse.quote("SELEC Id")))
    check(st == 400 and body[0]["errorCode"] == "MALFORMED_QUERY", "malformed query")


def test_control_and_faults(f):
    f.reset()
    coll(f, "POST", [acct(Name="R")])
    reqs = f.call("GET", "/__fake/requests?path=composite&method=POST", auth=False)[2]
    check(len(reqs) == 1 and reqs[0]["status"] == 200 and '"R"' in reqs[0]["body"] and
          "Authorization" in reqs[0]["headers"] and isinstance(reqs[0]["time"], float),
          "request log")
    stats = f.call("GET", "/__fake/stats", auth=False)[2]
    check(set(stats) == {"requests", "max_concurrent", "current", "api_usage", "max_open_jobs"},
          "stats keys")
    rules = [{"path": "composite/sobjects", "method": "POST", "action": "respond", "status": 503,
              "body": [{"message": "down", "errorCode": "SERVER_UNAVAILABLE"}], "skip": 1}]
    f.call("POST", "/__fake/faults", {"rules": rules}, auth=False)
    st1 = coll(f, "POST", [acct(Name="S1")])[0]
    st2, _, body2 = coll(f, "POST", [acct(Name="S2")])
    st3 = coll(f, "POST", [acct(Name="S3")])[0]
    check((st1, st2, st3) == (200, 503, 200) and body2[0]["errorCode"] == "SERVER_UNAVAILABLE",
          "respond with skip/times")
    listed = f.call("GET", "/__fake/faults", auth=False)[2]
    check(listed[0]["fired"] == 1, "fault fired count")

    f.call("DELETE", "/__fake/faults", auth=False)
    f.call("POST", "/__fake/faults", {"rules": [{"path": "composite", "action": "drop"}]}, auth=False)
    try:
        coll(f, "POST", [acct(Name="dropped")])
        check(False, "drop should fail the request")
    except (urllib.error.URLError, ConnectionError, OSError):
        pass
    check(not any(r["Name"] == "dropped" for r in f.records("Account")), "drop before work")
    f.call("POST", "/__fake/faults", {"rules": [{"path": "composite", "action": "drop_after"}]},
           auth=False)
    try:
        coll(f, "POST", [acct(Name="after")])
        check(False, "drop_after should fail the request")
    except (urllib.error.URLError, ConnectionError, OSError):
        pass
    check(any(r["Name"] == "after" for r in f.records("Account")), "drop_after did the work")

    f.call("POST", "/__fake/faults", {"rules": [{"action": "expire_token", "path": "sobjects"}]},
           auth=False)
    check(f.call("GET", "/services/data/%s/sobjects" % V)[0] == 401, "expire_token fault")
    f.login()
    f.call("POST", "/__fake/faults", {"rules": [{"action": "delay", "seconds": 0.3}]}, auth=False)
    t = time.time()
    f.call("GET", "/services/data/%s/sobjects" % V)
    check(time.time() - t >= 0.3, "delay fault")
    check(f.call("POST", "/__fake/faults", {"rules": [{"action": "bogus"}]}, auth=False)[0] == 400,
          "bad rule rejected")

    # concurrency
    f.call("DELETE", "/__fake/faults", auth=False)
    f.call("POST", "/__fake/config", {"latency": 0.3}, auth=False)
    threads = [threading.Thread(target=f.call, args=("GET", "/services/data/%s/sobjects" % V))
               for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    stats = f.call("GET", "/__fake/stats", auth=False)[2]
    check(stats["max_concurrent"] >= 2 and stats["current"] == 0, "max_concurrent %s" % stats)
    f.call("POST", "/__fake/config", {"latency": 0}, auth=False)
    seeded = f.call("POST", "/__fake/records/Account", [{"name": "S", "Score__c": 1.50}],
                    auth=False)[2]
    check(len(seeded) == 1 and seeded[0].startswith("001"), "seed ids")


def expect_continue_request(f, path):
    """POST a small body with Expect: 100-continue over a raw socket, waiting
    up to 0.5 s for the interim response, as a client would.  Return the
    bytes that arrived during that wait."""
    url = urllib.parse.urlsplit(f.base)
    body = b"{}"
    with socket.create_connection((url.hostname, url.port), 20) as sock:
        sock.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
                     b"Expect: 100-continue\r\nConnection: close\r\n\r\n"
                     % (path.encode(), len(body)))
        sock.settimeout(0.5)
        try:
            interim = sock.recv(100)
        except socket.timeout:
            interim = b""
        sock.settimeout(20)
        sock.sendall(body)
        while sock.recv(4096):
            pass
    return interim


def test_connections_and_body_wait(f):
    f.reset()
    url = urllib.parse.urlsplit(f.base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=20)
    for _ in range(2):
        conn.request("GET", "/services/data/")
        conn.getresponse().read()
    conn.close()
    f.call("GET", "/services/data/", auth=False)
    log = f.call("GET", "/__fake/requests?path=%5E/services/data/%24", auth=False)[2]
    numbers = [e["connection"] for e in log]
    check(len(numbers) == 3 and numbers[0] == numbers[1] != numbers[2],
          "connection numbers %s" % numbers)
    check(all(isinstance(e["client_port"], int) and e["body_wait"] is None for e in log),
          "client_port, and no body_wait without a body")

    path = "/services/data/%s/composite/sobjects" % V
    interim = expect_continue_request(f, path)
    check(interim.startswith(b"HTTP/1.1 100 "), "100 Continue sent: %r" % interim)
    f.call("POST", "/__fake/faults", {"rules": [{"action": "no_continue"}]}, auth=False)
    interim = expect_continue_request(f, path)
    check(interim == b"", "no_continue withholds 100 Continue: %r" % interim)
    log = f.call("GET", "/__fake/requests?path=composite", auth=False)[2]
    waits = [e["body_wait"] for e in log]
    check(len(waits) == 2 and waits[0] < 0.3 and waits[1] >= 0.4, "body_wait %s" % waits)
    faults = f.call("GET", "/__fake/faults", auth=False)[2]
    check(faults[0]["seen"] == 1 and faults[0]["fired"] == 1,
          "no_continue counts requests with Expect only")

    f.call("DELETE", "/__fake/faults", auth=False)
    f.call("POST", "/__fake/faults", {"rules": [{"action": "stall_body", "seconds": 0.3}]},
           auth=False)
    t = time.time()
    coll(f, "POST", [acct(Name="stalled")])
    check(time.time() - t >= 0.3, "stall_body fault")
    f.call("DELETE", "/__fake/faults", auth=False)


def bulk_job(f, obj, op, csv_text, wait=True, **extra):
    body = {"object": obj, "operation": op}
    body.update(extra)
    st, _, info = f.call("POST", "/services/data/%s/jobs/ingest" % V, body)
    jid = info["id"]
    st_put = f.call("PUT", "/services/data/%s/jobs/ingest/%s/batches" % (V, jid),
                    csv_text.encode(), {"Content-Type": "text/csv"})[0]
    st_patch, _, closed = f.call("PATCH", "/services/data/%s/jobs/ingest/%s" % (V, jid),
                                 {"state": "UploadComplete"})
    final = None
    while wait:
        final = f.call("GET", "/services/data/%s/jobs/ingest/%s" % (V, jid))[2]
        if final["state"] in ("JobComplete", "Failed", "Aborted"):
            break
        time.sleep(0.05)
    return jid, info, st_put, closed, final


def results(f, jid, kind):
    st, h, text = f.call("GET", "/services/data/%s/jobs/ingest/%s/%s" % (V, jid, kind), raw=True)
    return st, h, text


def test_bulk(f):
    f.reset()
    f.call("POST", "/__fake/config", {"bulk_delay": 0.05}, auth=False)
    csv_text = ("Name,External_Id__c,AnnualRevenue,NumberOfEmployees,Founded__c,Active__c\n"
                "GenePoint,123,912260031,800,2020-01-02,true\n"
                "\"United, UK\",234,1,1467,,false\n"
                ",345,1,1,,\n")
    jid, info, st_put, closed, final = bulk_job(f, "Account", "insert", csv_text)
    check(jid.startswith("750") and info["state"] == "Open" and
          info["contentUrl"] == "services/data/%s/jobs/ingest/%s/batches" % (V, jid) and
          info["apiVersion"] == 60.0, "job create %s" % info)
    check(st_put == 201 and closed["state"] == "UploadComplete", "upload + close")
    check(final["state"] == "JobComplete" and final["numberRecordsProcessed"] == 3 and
          final["numberRecordsFailed"] == 1 and final["jobType"] == "V2Ingest", "job done %s" % final)
    st, h, text = results(f, jid, "successfulResults/")
    lines = text.strip("\n").split("\n")
    check(h["Content-Type"] == "text/csv; charset=UTF-8", "results content type")
    check(lines[0] == '"sf__Id","sf__Created",Name,External_Id__c,AnnualRevenue,'
                      'NumberOfEmployees,Founded__c,Active__c', "success header %s" % lines[0])
    check(any('"GenePoint","123","9.12260031E8","800","2020-01-02","true"' in l for l in lines),
          "java double echo %s" % lines)
    st, h, text = results(f, jid, "failedResults")
    check('"REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --"' in text and
          text.startswith('"sf__Id","sf__Error",Name'), "failed results %s" % text)
    st, _, text = results(f, jid, "unprocessedRecords")
    check(st == 200 and text.strip() == csv_text.split("\n")[0], "unprocessed empty")

    # order is shuffled: over several fetches, more than one order appears
    many = "Name\n" + "".join("N%d\n" % i for i in range(30))
    jid2 = bulk_job(f, "Account", "insert", many)[0]
    orders = {results(f, jid2, "successfulResults")[2] for _ in range(5)}
    check(len(orders) > 1, "results shuffled")

    # line ending, BOM, delete columns
    for op, data, msg, extra in [
        ("insert", "Name\r\nA\r\n", "ClientInputError : LineEnding is invalid on user data. "
         "Current LineEnding setting is LF", {}),
        ("insert", "Name\nA\n", "ClientInputError : LineEnding is invalid on user data. "
         "Current LineEnding setting is CRLF", {"lineEnding": "CRLF"}),
        ("insert", "\ufeffName\nA\n", "InvalidBatch : Field name not found : \ufeffName", {}),
        ("insert", "Name,Nope__c\nA,1\n", "InvalidBatch : Field name not found : Nope__c", {}),
        ("delete", "Id,Name\n001,x\n", "InvalidBatch : The 'delete' batch must contain only ids", {})]:
        _, _, _, _, final = bulk_job(f, "Account", op, data, **extra)
        check(final["state"] == "Failed" and final["errorMessage"] == msg and
              final["numberRecordsProcessed"] == 0, "job failure %r: %s" % (msg, final))

    # second PUT, too-large upload, delete job
    st, _, info = f.call("POST", "/services/data/%s/jobs/ingest" % V,
                         {"object": "Account", "operation": "insert"})
    put = "/services/data/%s/jobs/ingest/%s/batches" % (V, info["id"])
    f.call("PUT", put, b"Name\nA\n", {"Content-Type": "text/csv"})
    st, _, body = f.call("PUT", put, b"Name\nB\n", {"Content-Type": "text/csv"})
    check(st == 400 and "Found multiple contents for job" in body[0]["message"], "second PUT")
    f.call("POST", "/__fake/config", {"bulk_max_upload": 10}, auth=False)
    st, _, info2 = f.call("POST", "/services/data/%s/jobs/ingest" % V,
                          {"object": "Account", "operation": "insert"})
    st, _, body = f.call("PUT", "/services/data/%s/jobs/ingest/%s/batches" % (V, info2["id"]),
                         b"Name\nABCDEFGHIJKL\n", {"Content-Type": "text/csv"})
    check(st == 400 and "errorCode" in body[0], "upload too large")
    f.call("POST", "/__fake/config", {"bulk_max_upload": 1000000}, auth=False)
    st, _, _ = f.call("DELETE", "/services/data/%s/jobs/ingest/%s" % (V, jid))
    check(st == 204, "delete job")
    check(f.call("GET", "/services/data/%s/jobs/ingest/%s" % (V, jid))[0] == 404, "deleted job 404")

    # upsert with relationship column, update with #N/A and empty cell, delete
    f.call("POST", "/__fake/records/Account", [{"Name": "P", "External_Id__c": "P1"}], auth=False)
    data = ("LastName,External_Id__c,Account.External_Id__c\nSmith,C1,P1\nJones,C2,NOPE\n"
            "Dup,C3,P1\nDup2,c3,P1\n")
    jid, _, _, _, final = bulk_job(f, "Contact", "upsert", data, externalIdFieldName="External_Id__c")
    check(final["numberRecordsFailed"] == 3, "upsert failures %s" % final)
    failed = results(f, jid, "failedResults")[2]
    check("INVALID_FIELD:Foreign key external ID: NOPE not found for field External_Id__c in "
          "entity Account:--" in failed and "Duplicate external id specified" in failed,
          "upsert failed rows %s" % failed)
    contacts = f.records("Contact")
    smith = [c for c in contacts if c["LastName"] == "Smith"][0]
    check(smith["AccountId"].startswith("001"), "relationship column resolved")

    data = "Id,FirstName,Email\n%s,#N/A,\n" % smith["Id"]
    jid, _, _, _, final = bulk_job(f, "Contact", "update", data)
    after = [c for c in f.records("Contact") if c["Id"] == smith["Id"]][0]
    check(final["numberRecordsFailed"] == 0 and after.get("FirstName") is None, "update #N/A")
    jid, _, _, _, final = bulk_job(f, "Contact", "hardDelete", "Id\n%s\nbad\n" % smith["Id"])
    check(final["numberRecordsFailed"] == 1 and
          "MALFORMED_ID:bad id bad:--" in results(f, jid, "failedResults")[2], "hardDelete")

    # job_fail fault and max_open_jobs
    f.call("POST", "/__fake/faults", {"rules": [{"path": "jobs/ingest$", "method": "POST",
                                                 "action": "job_fail",
                                                 "error_message": "InvalidBatch : boom"}]},
           auth=False)
    _, _, _, _, final = bulk_job(f, "Account", "insert", "Name\nA\n")
    check(final["state"] == "Failed" and final["errorMessage"] == "InvalidBatch : boom", "job_fail")
    st, _, text = results(f, final["id"], "unprocessedrecords")
    check(text == "Name\nA\n", "unprocessed after failure")
    jobs = f.call("GET", "/__fake/jobs", auth=False)[2]
    check(jobs and "csv" in jobs[0] and jobs[0]["lineEnding"] == "LF", "control jobs")
    check(f.call("GET", "/__fake/stats", auth=False)[2]["max_open_jobs"] >= 1, "max_open_jobs")


# -------------------------------------------------- JWT, TLS, IPv6 (own servers)
def _is_probable_prime(n, rounds=20):
    import random
    if n < 4:
        return n in (2, 3)
    for p in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29):
        if n % p == 0:
            return n == p
    d, r = n - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    for _ in range(rounds):
        x = pow(random.randrange(2, n - 2), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _rsa_keypair(bits=1024):
    import random
    e = 65537
    while True:
        p, q = (random.getrandbits(bits // 2) | (1 << (bits // 2 - 1)) | 1 for _ in range(2))
        if p != q and _is_probable_prime(p) and _is_probable_prime(q):
            phi = (p - 1) * (q - 1)
            if phi % e:
                return p * q, e, pow(e, -1, phi)


def _der(tag, body):
    n = len(body)
    size = bytes([n]) if n < 128 else bytes([0x80 | ((n.bit_length() + 7) // 8)]) + \
        n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag]) + size + body


def _der_int(v):
    return _der(0x02, v.to_bytes(v.bit_length() // 8 + 1, "big"))


def _pem_public(n, e):
    rsa = _der(0x30, _der_int(n) + _der_int(e))
    alg = _der(0x30, _der(0x06, bytes.fromhex("2a864886f70d010101")) + _der(0x05, b""))
    spki = _der(0x30, alg + _der(0x03, b"\0" + rsa))
    b64 = base64.b64encode(spki).decode()
    return "-----BEGIN PUBLIC KEY-----\n%s\n-----END PUBLIC KEY-----\n" % "\n".join(
        b64[i:i + 64] for i in range(0, len(b64), 64))


def _jwt(claims, n, d):
    import hashlib
    def b64(data):
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    signing = b64(json.dumps({"alg": "RS256"}).encode()) + "." + b64(json.dumps(claims).encode())
    k = (n.bit_length() + 7) // 8
    tail = bytes.fromhex("3031300d060960864801650304020105000420") + \
        hashlib.sha256(signing.encode()).digest()
    em = b"\x00\x01" + b"\xff" * (k - len(tail) - 3) + b"\x00" + tail
    sig = pow(int.from_bytes(em, "big"), d, n).to_bytes(k, "big")
    return signing + "." + b64(sig)


def test_jwt(tmpdir):
    n, e, d = _rsa_keypair()
    key = os.path.join(tmpdir, "jwt.pem")
    with open(key, "w") as fh:
        fh.write(_pem_public(n, e))
    fake = Fake("--jwt-public-key", key)
    try:
        def grant(claims, key_d=d):
            form = urllib.parse.urlencode({"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                                           "assertion": _jwt(claims, n, key_d)})
            return fake.call("POST", "/services/oauth2/token", form, auth=False)
        good = {"iss": "sfsink-demo", "sub": "u@x.io", "aud": "https://login.salesforce.com",
                "exp": str(int(time.time()) + 180)}
        st, _, body = grant(good)
        check(st == 200 and "access_token" in body, "jwt success %s" % body)
        st, _, body = grant(dict(good, aud="https://example.invalid"))
        check(st == 400 and body == {"error": "invalid_grant",
                                     "error_description": "audience is invalid"}, "jwt audience")
        st, _, body = grant(good, key_d=d + 2)
        check(st == 400 and body["error_description"] == "invalid assertion", "jwt bad signature")
        st, _, body = grant(dict(good, exp=int(time.time()) - 10))
        check(st == 400 and body["error"] == "invalid_grant", "jwt expired")
    finally:
        fake.stop()


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def test_tls(tmpdir):
    import shutil
    import ssl
    if not shutil.which("openssl"):
        print("skip TLS test: no openssl command", file=sys.stderr)
        return
    c = tmpdir
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
             "-days", "2", "-subj", "/CN=fake-ca", cwd=c)
    for name, ext in (("server", "subjectAltName=IP:127.0.0.1"), ("client", "extendedKeyUsage=clientAuth")):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out",
                 name + ".csr", "-subj", "/CN=" + name, cwd=c)
        with open(os.path.join(c, name + ".ext"), "w") as fh:
            fh.write(ext + "\n")
        _openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                 "-CAcreateserial", "-out", name + ".pem", "-days", "2", "-extfile", name + ".ext",
                 cwd=c)
    p = lambda n: os.path.join(c, n)  # noqa: E731
    fake = Fake("--tls-cert", p("server.pem"), "--tls-key", p("server.key"), "--client-ca", p("ca.pem"))
    try:
        check(fake.base.startswith("https://127.0.0.1:"), "https base url")
        good = ssl.create_default_context(cafile=p("ca.pem"))
        good.load_cert_chain(p("client.pem"), p("client.key"))
        with urllib.request.urlopen(fake.base + "/services/data/", context=good, timeout=10) as r:
            check(r.status == 200, "mTLS request")
        bare = ssl.create_default_context(cafile=p("ca.pem"))
        try:
            urllib.request.urlopen(fake.base + "/services/data/", context=bare, timeout=10).read()
            check(False, "request without client certificate must fail")
        except (urllib.error.URLError, ssl.SSLError, ConnectionError, OSError):
            pass
    finally:
        fake.stop()


def test_ipv6(_tmpdir):
    import socket
    try:
        s = socket.socket(socket.AF_INET6)
        s.bind(("::1", 0))
        s.close()
    except OSError:
        print("skip IPv6 test: ::1 not available", file=sys.stderr)
        return
    fake = Fake("--ipv6")
    try:
        check(fake.base.startswith("http://[::1]:"), "ipv6 base url")
        check(fake.call("GET", "/services/data/", auth=False)[0] == 200, "ipv6 request")
    finally:
        fake.stop()


TESTS = [test_versions_and_token, test_auth_and_limits, test_describe, test_create,
         test_request_errors, test_numbers, test_update_delete, test_upsert, test_query,
         test_control_and_faults, test_connections_and_body_wait, test_bulk]


def main():
    fake = Fake()
    try:
        check(fake.base.startswith("http://127.0.0.1:"), "base url line")
        fake.login()
        for test in TESTS:
            try:
                test(fake)
            except Exception:
                traceback.print_exc()
                FAILURES.append("%s raised" % test.__name__)
    finally:
        rc = fake.stop()
    check(rc == 0, "exit status 0 on SIGTERM (got %s)" % rc)
    import tempfile
    for test in (test_jwt, test_tls, test_ipv6):
        with tempfile.TemporaryDirectory() as tmpdir:
            try:
                test(tmpdir)
            except Exception:
                traceback.print_exc()
                FAILURES.append("%s raised" % test.__name__)
    print("%d checks, %d failures" % (CHECKS[0], len(FAILURES)))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
