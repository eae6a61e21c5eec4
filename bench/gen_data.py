#!/usr/bin/env python3
"""Write the synthetic NDJSON inputs of the benchmarks.

accounts N OUT: N Account records on the topic "accounts", 12 fields of the
fake org's Account object with mixed types (text with quotes, commas, line
breaks and non-ASCII letters, integer, currency, double, picklist, phone,
URL, boolean, date, datetime).  External_Id__c is unique, so every upsert
creates a record.

mixed N OUT: N records spread over three topics: accounts (upsert, 50 %),
contacts (insert, 30 %, each referring to an account of the file by its
external ID) and invoices (insert, 20 %).

csv NDJSON OUT: the data of an accounts file as the CSV that Bulk API 2.0
takes, for peers that load CSV files (the Salesforce CLI).

The output is the same for the same arguments: the random generator is
seeded with N.
"""
import csv
import json
import random
import sys

INDUSTRIES = ["Agriculture", "Banking", "Education", "Energy", "Retail", "Technology"]
WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
         "india", "juliett", "kilo", "lima", "mike", "november", "oscar", "papa"]
FIELDS = ["Name", "External_Id__c", "NumberOfEmployees", "AnnualRevenue", "Score__c",
          "Description", "Industry", "Phone", "Website", "Active__c", "Founded__c",
          "Last_Sync__c"]


def account(rng, i):
    words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 12)))
    # Every fourth description needs CSV quoting and JSON escapes.
    if i % 4 == 0:
        words = 'Said "%s", then left.\nSecond line; Zürich, São Paulo' % words
    return {
        "Name": "Account %d %s" % (i, rng.choice(WORDS).title()),
        "External_Id__c": "BENCH-%08d" % i,
        "NumberOfEmployees": rng.randint(1, 250000),
        "AnnualRevenue": rng.randint(10000, 9000000000),
        "Score__c": round(rng.uniform(0, 100), 4),
        "Description": words,
        "Industry": rng.choice(INDUSTRIES),
        "Phone": "+1 %03d 555 %04d" % (rng.randint(200, 999), rng.randint(0, 9999)),
        "Website": "https://www.example-%d.com/" % i,
        "Active__c": rng.random() < 0.7,
        "Founded__c": "%04d-%02d-%02d" % (rng.randint(1900, 2024), rng.randint(1, 12),
                                          rng.randint(1, 28)),
        "Last_Sync__c": "2025-%02d-%02dT%02d:%02d:%02d.000Z" % (
            rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23),
            rng.randint(0, 59), rng.randint(0, 59)),
    }


def write_accounts(n, out):
    rng = random.Random(n)
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    for i in range(n):
        out.write(dumps({"topic": "accounts", "data": account(rng, i)}))
        out.write("\n")


def write_mixed(n, out):
    rng = random.Random(n)
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    accounts = 0
    for i in range(n):
        pick = rng.random()
        if pick < 0.5 or accounts == 0:
            line = {"topic": "accounts", "data": account(rng, accounts)}
            accounts += 1
        elif pick < 0.8:
            parent = "BENCH-%08d" % rng.randrange(accounts)
            line = {"topic": "contacts", "data": {
                "LastName": "Person %d" % i, "FirstName": rng.choice(WORDS).title(),
                "Email": "person%d@example.com" % i, "Birthdate": "1980-01-%02d" % (i % 28 + 1),
                "Account": {"External_Id__c": parent}}}
        else:
            line = {"topic": "invoices", "data": {
                "Name": "INV-%08d" % i, "Invoice_Number__c": "N%08d" % i,
                "Amount__c": rng.randint(100, 999999) / 100}}
        out.write(dumps(line))
        out.write("\n")


def write_csv(ndjson_path, out):
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(FIELDS)
    with open(ndjson_path, encoding="utf-8") as src:
        for line in src:
            data = json.loads(line)["data"]
            row = []
            for name in FIELDS:
                value = data.get(name)
                if isinstance(value, bool):
                    value = "true" if value else "false"
                row.append("" if value is None else value)
            writer.writerow(row)


def main(argv):
    if len(argv) != 4 or argv[1] not in ("accounts", "mixed", "csv"):
        sys.stderr.write("usage: gen_data.py accounts|mixed N OUT | csv NDJSON OUT\n")
        return 2
    with open(argv[3], "w", encoding="utf-8", newline="") as out:
        if argv[1] == "accounts":
            write_accounts(int(argv[2]), out)
        elif argv[1] == "mixed":
            write_mixed(int(argv[2]), out)
        else:
            write_csv(argv[2], out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
