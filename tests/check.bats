#!/usr/bin/env bats
# --check: mappings and the field names of records against the fake's describe.

load helpers

DESCRIBE='/sobjects/[A-Za-z_]+/describe$'

setup() {
	fake_start
}

# Methods of every /services/data request the fake received, sorted and unique.
data_methods() {
	fake_requests '^/services/data/' | jq -r '[.[].method] | unique | join(",")'
}

# write_input NAME LINES...: write the NDJSON lines to NAME in the test's
# directory and print its path.
write_input() {
	local path="$BATS_TEST_TMPDIR/$1"
	shift
	printf '%s\n' "$@" >"$path"
	echo "$path"
}

@test "check good mappings" {
	cfg=$(write_config <<-YAML
	  - topic: accounts
	    sobject: Account
	    operation: upsert
	    external_id_field: External_Id__c
	  - topic: contacts
	    sobject: Contact
	    operation: insert
	  - topic: invoices
	    sobject: Invoice__c
	    operation: delete
	    mode: bulk
	  - topic: more-accounts
	    sobject: account
	    operation: update
	YAML
	)
	# Private, so that the literal client_secret draws no warning.
	chmod 600 "$cfg"
	run_sfsink -c "$cfg" --check
	[ "$status" -eq 0 ]
	[ "$(sed -n 1p "$OUT")" = "accounts: ok (Account upsert by External_Id__c)" ]
	[ "$(sed -n 2p "$OUT")" = "contacts: ok (Contact insert)" ]
	[ "$(sed -n 3p "$OUT")" = "invoices: ok (Invoice__c delete, bulk)" ]
	[ "$(sed -n 4p "$OUT")" = "more-accounts: ok (Account update)" ]
	[ "$(count_lines "$OUT")" -eq 4 ]
	[ ! -s "$ERR" ]
	# Each sObject was described once, Account and account included.
	[ "$(fake_requests "$DESCRIBE" | jq -r '[.[].path | split("/")[5]] | sort | join(",")')" = Account,Contact,Invoice__c ]
	[ "$(data_methods)" = GET ]
}

@test "check unknown sObject" {
	cfg=$(write_config <<-YAML
	  - topic: things
	    sobject: Thing__c
	    operation: insert
	  - topic: accounts
	    sobject: Account
	    operation: insert
	YAML
	)
	run_sfsink -c "$cfg" --check
	[ "$status" -eq 1 ]
	[ "$(sed -n 1p "$OUT")" = 'things: sObject "Thing__c" not found; check the sobject name and that the user can see the object' ]
	[ "$(sed -n 2p "$OUT")" = "accounts: ok (Account insert)" ]
	[ "$(count_lines "$OUT")" -eq 2 ]
}

@test "check operation not allowed" {
	# The fake's objects allow every operation, so serve a describe of an
	# Account that can be read and updated but not created or deleted.
	fake_faults '[{"method": "GET", "path": "/sobjects/Account/describe$", "times": -1,
	    "action": "respond", "status": 200,
	    "body": {"name": "Account", "createable": false, "updateable": true,
	        "deletable": false, "fields": [
	        {"name": "Id", "createable": false, "updateable": false, "idLookup": true},
	        {"name": "External_Id__c", "createable": true, "updateable": true,
	         "externalId": true, "idLookup": true}]}}]'
	cfg=$(write_config <<-YAML
	  - topic: new
	    sobject: Account
	    operation: insert
	  - topic: sync
	    sobject: Account
	    operation: upsert
	    external_id_field: External_Id__c
	  - topic: gone
	    sobject: Account
	    operation: delete
	  - topic: changes
	    sobject: Account
	    operation: update
	YAML
	)
	run_sfsink -c "$cfg" --check
	[ "$status" -eq 1 ]
	[ "$(sed -n 1p "$OUT")" = "new: Account is not createable, so insert is not allowed; use an operation it allows (update) or grant the user access" ]
	[ "$(sed -n 2p "$OUT")" = "sync: Account is not both createable and updateable, so upsert is not allowed; use an operation it allows (update) or grant the user access" ]
	[ "$(sed -n 3p "$OUT")" = "gone: Account is not deletable, so delete is not allowed; use an operation it allows (update) or grant the user access" ]
	[ "$(sed -n 4p "$OUT")" = "changes: ok (Account update)" ]
	[ "$(count_lines "$OUT")" -eq 4 ]
}

@test "check bad external ID field" {
	cfg=$(write_config <<-YAML
	  - topic: contacts
	    sobject: Contact
	    operation: upsert
	    external_id_field: Ext__c
	  - topic: accounts
	    sobject: Account
	    operation: upsert
	    external_id_field: Name
	  - topic: accounts-lower
	    sobject: Account
	    operation: upsert
	    external_id_field: external_id__c
	YAML
	)
	run_sfsink -c "$cfg" --check
	[ "$status" -eq 1 ]
	[ "$(sed -n 1p "$OUT")" = 'contacts: Contact has no field "Ext__c"; external_id_field must name an external ID field such as External_Id__c or Email' ]
	[ "$(sed -n 2p "$OUT")" = "accounts: field Name of Account is not an external ID or idLookup field; external_id_field must name an external ID field such as External_Id__c" ]
	# Field names compare without case; the report shows the org's spelling.
	[ "$(sed -n 3p "$OUT")" = "accounts-lower: ok (Account upsert by External_Id__c)" ]
	[ "$(count_lines "$OUT")" -eq 3 ]
}

@test "check unknown field with its lines" {
	cfg=$(write_config <<-YAML
	  - topic: contacts
	    sobject: Contact
	    operation: insert
	YAML
	)
	in=$(write_input in.ndjson \
	    '{"topic":"contacts","data":{"LastName":"Lovelace","Emial":"ada@example.com"}}' \
	    '{"topic":"contacts","data":{"lastname":"Hopper"}}' \
	    '{"topic":"contacts","data":{"LastName":"Byron","Emial":"b@example.com"}}' \
	    '' \
	    '{"topic":"contacts","data":{"LastName":"Turing","Emial":null}}' \
	    '{"topic":"contacts","data":{"LastName":"Noether","Emial":"e@example.com"}}' \
	    '{"topic":"contacts","data":{"LastName":"Curie","Shoe_Size__c":38}}')
	run_sfsink -c "$cfg" --check "$in"
	[ "$status" -eq 1 ]
	[ "$(sed -n 1p "$OUT")" = "contacts: Contact has no field \"Emial\"; did you mean Email? (at $in:1, $in:3, $in:5 and 1 more)" ]
	[ "$(sed -n 2p "$OUT")" = "contacts: Contact has no field \"Shoe_Size__c\"; fix the name or remove the field from the records (at $in:7)" ]
	[ "$(count_lines "$OUT")" -eq 2 ]
	[ "$(data_methods)" = GET ]
	[ "$(fake GET /__fake/records/Contact)" = "[]" ]
}

@test "check records that are ok" {
	cfg=$(write_config <<-YAML
	  - topic: accounts
	    sobject: Account
	    operation: upsert
	    external_id_field: External_Id__c
	  - topic: contacts
	    sobject: Contact
	    operation: insert
	YAML
	)
	in=$(write_input in.ndjson \
	    '{"topic":"accounts","data":{"Name":"Acme","external_id__c":"A-1","AnnualRevenue":1e6}}' \
	    '{"topic":"contacts","data":{"LastName":"Ng","Account":{"External_Id__c":"A-1"}}}' \
	    '{"topic":"contacts","data":{"LastName":"Ko","account":{"attributes":{"type":"Account"},"external_id__c":"A-1"}}}')
	run_sfsink -c "$cfg" --check "$in"
	[ "$status" -eq 0 ]
	[ "$(sed -n 1p "$OUT")" = "accounts: ok (Account upsert by External_Id__c, 1 record)" ]
	[ "$(sed -n 2p "$OUT")" = "contacts: ok (Contact insert, 2 records)" ]
	[ "$(count_lines "$OUT")" -eq 2 ]
	[ "$(data_methods)" = GET ]
}

@test "check read-only fields" {
	# Legacy_Code__c can be set on create but never changed.
	jq '.objects.Account.fields += [{"name": "Legacy_Code__c", "type": "string",
	    "label": "Legacy Code", "updateable": false}]' \
	    "$TESTS_SRCDIR/fake/schema.json" >"$BATS_TEST_TMPDIR/schema.json"
	fake_stop
	fake_start --schema "$BATS_TEST_TMPDIR/schema.json"
	cfg=$(write_config <<-YAML
	  - topic: new
	    sobject: Account
	    operation: insert
	  - topic: changes
	    sobject: Account
	    operation: update
	  - topic: sync
	    sobject: Account
	    operation: upsert
	    external_id_field: External_Id__c
	YAML
	)
	in=$(write_input in.ndjson \
	    '{"topic":"new","data":{"Name":"A","CreatedDate":"2020-01-01T00:00:00Z","Legacy_Code__c":"L1"}}' \
	    '{"topic":"changes","data":{"Id":"001000000000001AAA","Name":"B","Legacy_Code__c":"L2"}}' \
	    '{"topic":"sync","data":{"External_Id__c":"S-1","Legacy_Code__c":"L3","IsDeleted":false}}')
	run_sfsink -c "$cfg" --check "$in"
	[ "$status" -eq 1 ]
	[ "$(sed -n 1p "$OUT")" = "new: field CreatedDate of Account is not createable, so insert cannot set it; remove it from the records (at $in:1)" ]
	[ "$(sed -n 2p "$OUT")" = "changes: field Legacy_Code__c of Account is not updateable, so update cannot set it; remove it from the records (at $in:2)" ]
	[ "$(sed -n 3p "$OUT")" = "sync: field IsDeleted of Account is neither createable nor updateable, so upsert cannot set it; remove it from the records (at $in:3)" ]
	[ "$(count_lines "$OUT")" -eq 3 ]
}

@test "check bad parent references" {
	cfg=$(write_config <<-YAML
	  - topic: contacts
	    sobject: Contact
	    operation: insert
	  - topic: invoices
	    sobject: Invoice__c
	    operation: insert
	YAML
	)
	in=$(write_input in.ndjson \
	    '{"topic":"contacts","data":{"LastName":"A","Acount":{"External_Id__c":"A-1"}}}' \
	    '{"topic":"contacts","data":{"LastName":"B","Account":{"Ext__c":"A-1"}}}' \
	    '{"topic":"contacts","data":{"LastName":"C","Account":{"Name":"Acme"}}}' \
	    '{"topic":"contacts","data":{"LastName":"D","AccountId":{"External_Id__c":"A-1"}}}' \
	    '{"topic":"invoices","data":{"Name":"I-1","Account":{"External_Id__c":"A-1"}}}' \
	    '{"topic":"invoices","data":{"Name":"I-2","Account__r":{"External_Id__c":"A-1","Name":"x"}}}' \
	    '{"topic":"invoices","data":{"Name":"I-3","Account__r":{"attributes":{"type":"Contact"},"Email":"x"}}}' \
	    '{"topic":"invoices","data":{"Name":"I-4","Account__r":{"External_Id__c":"A-1"}}}')
	run_sfsink -c "$cfg" --check "$in"
	[ "$status" -eq 1 ]
	[ "$(sed -n 1p "$OUT")" = "contacts: Contact has no relationship \"Acount\"; a parent reference must use a relationship name such as Account (at $in:1)" ]
	[ "$(sed -n 2p "$OUT")" = "contacts: Account has no field \"Ext__c\" (parent reference Account); use an external ID field of Account such as External_Id__c (at $in:2)" ]
	[ "$(sed -n 3p "$OUT")" = "contacts: field Name of Account is not an external ID or idLookup field, so parent reference Account cannot use it; use an external ID field of Account such as External_Id__c (at $in:3)" ]
	[ "$(sed -n 4p "$OUT")" = "contacts: AccountId is a lookup field; reference a parent by external ID through its relationship name Account (at $in:4)" ]
	[ "$(sed -n 5p "$OUT")" = "invoices: Invoice__c has no relationship \"Account\"; a parent reference must use a relationship name such as Account__r (at $in:5)" ]
	[ "$(sed -n 6p "$OUT")" = "invoices: parent reference Account__r has 2 fields; it must have exactly one, an external ID field of the parent (at $in:6)" ]
	[ "$(sed -n 7p "$OUT")" = "invoices: relationship Account__r of Invoice__c cannot point to \"Contact\"; the attributes type must be Account (at $in:7)" ]
	[ "$(count_lines "$OUT")" -eq 7 ]
	# The parent's describe was fetched once, for both mappings.
	[ "$(fake_requests '/sobjects/Account/describe$' | jq length)" -eq 1 ]
}

@test "check unmapped topics and bad lines" {
	cfg=$(write_config <<-YAML
	  - topic: accounts
	    sobject: Account
	    operation: upsert
	    external_id_field: External_Id__c
	YAML
	)
	in=$(write_input in.ndjson \
	    '{"topic":"orders","data":{"Name":"x"}}' \
	    'not json' \
	    '{"topic":"accounts","data":{"Name":"no key"}}')
	run_sfsink -c "$cfg" --check "$in"
	[ "$status" -eq 1 ]
	[ "$(sed -n 1p "$OUT")" = "accounts: MISSING_EXTERNAL_ID: upsert needs a value for the external ID field \"External_Id__c\" in data (at $in:3)" ]
	[ "$(sed -n 2p "$OUT")" = "orders: no entry in topic_mappings; add one to load these records (at $in:1)" ]
	[[ "$(sed -n 3p "$OUT")" == "input: INVALID_JSON: "*"; a run rejects the line (at $in:2)" ]]
	[ "$(count_lines "$OUT")" -eq 3 ]
}

@test "check sign-in failure exits 3" {
	cfg=$(write_config <<-YAML
	  - topic: accounts
	    sobject: Account
	    operation: insert
	YAML
	)
	sed -i 's/^client_secret: .*/client_secret: wrong-secret/' "$cfg"
	run_sfsink -c "$cfg" --check
	[ "$status" -eq 3 ]
	[ ! -s "$OUT" ]
	grep -q '^sfsink: ' "$ERR"
	[ "$(fake_requests "$DESCRIBE" | jq length)" -eq 0 ]
}

@test "check describe failure exits 3" {
	fake_faults '[{"path": "/sobjects/Contact/describe$", "times": -1,
	    "action": "respond", "status": 500,
	    "body": [{"message": "boom", "errorCode": "UNKNOWN_EXCEPTION"}]}]'
	cfg=$(write_config <<-YAML
	  - topic: contacts
	    sobject: Contact
	    operation: insert
	YAML
	)
	run_sfsink -c "$cfg" --check
	[ "$status" -eq 3 ]
	[[ "$(cat "$OUT")" == 'contacts: cannot describe Contact: HTTP 500: '*UNKNOWN_EXCEPTION* ]]
}

@test "check missing input file exits 2" {
	cfg=$(write_config <<-YAML
	  - topic: accounts
	    sobject: Account
	    operation: insert
	YAML
	)
	run_sfsink -c "$cfg" --check "$BATS_TEST_TMPDIR/nope.ndjson"
	[ "$status" -eq 2 ]
	[ ! -s "$OUT" ]
	grep -q 'nope.ndjson' "$ERR"
}
