#!/usr/bin/env node
// Load an NDJSON file of {"topic", "data"} lines into one sObject with
// jsforce, doing the work that sfsink does for the same input:
//
//   realtime: upsert in sObject Collections requests of --batch-size
//             (at most 200) records, with at most --in-flight requests
//             out at once.  Reading pauses while every slot is busy.
//   bulk:     Bulk API 2.0 upsert jobs of --batch-size records, at most
//             --jobs at once, each polled every --poll-interval ms.
//
// Every input line gets one NDJSON result line on standard output, with
// its line number, status, and the Id or the errors.  The summary goes to
// standard error.  The org URL and the client credentials come from the
// environment (SF_ORG_URL, SF_CLIENT_ID, SF_CLIENT_SECRET), and jsforce
// signs in with the OAuth 2.0 client credentials flow against that URL
// only.  Run it with Node 22 or later and NODE_PATH naming the
// node_modules folder that contains jsforce.
'use strict';

const fs = require('node:fs');
const readline = require('node:readline');
const { parseArgs } = require('node:util');
const jsforce = require('jsforce');

const USAGE = 'usage: jsforce_load.js --mode realtime|bulk --sobject NAME ' +
  '--external-id FIELD [--batch-size N] [--in-flight N] [--jobs N] ' +
  '[--poll-interval MS] [--log-level LEVEL] FILE';

function options() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      mode: { type: 'string' },
      sobject: { type: 'string' },
      'external-id': { type: 'string' },
      'batch-size': { type: 'string', default: '200' },
      'in-flight': { type: 'string', default: '8' },
      jobs: { type: 'string', default: '10' },
      'poll-interval': { type: 'string', default: '1000' },
      'log-level': { type: 'string', default: 'NONE' },
    },
  });
  if (!['realtime', 'bulk'].includes(values.mode) || !values.sobject ||
      !values['external-id'] || positionals.length !== 1) {
    process.stderr.write(USAGE + '\n');
    process.exit(2);
  }
  for (const name of ['SF_ORG_URL', 'SF_CLIENT_ID', 'SF_CLIENT_SECRET']) {
    if (!process.env[name]) {
      process.stderr.write(`jsforce_load: ${name} is not set\n`);
      process.exit(2);
    }
  }
  return {
    mode: values.mode,
    sobject: values.sobject,
    externalId: values['external-id'],
    batchSize: Number(values['batch-size']),
    inFlight: Number(values['in-flight']),
    jobs: Number(values.jobs),
    pollInterval: Number(values['poll-interval']),
    logLevel: values['log-level'],
    file: positionals[0],
  };
}

// Result lines go through one buffered stream.  write() waits for 'drain',
// so a slow reader of standard output slows the load down.
class Results {
  constructor() {
    this.out = fs.createWriteStream(null, { fd: 1, highWaterMark: 1 << 20 });
    this.counts = { ok: 0, failed: 0 };
  }

  async write(line, result) {
    const status = result.success ? 'ok' : 'failed';
    this.counts[status]++;
    const row = { line, status };
    if (result.id) row.id = result.id;
    if (result.created !== undefined) row.created = result.created;
    if (!result.success) row.errors = result.errors;
    if (!this.out.write(JSON.stringify(row) + '\n')) {
      await new Promise((resolve) => this.out.once('drain', resolve));
    }
  }

  close() {
    return new Promise((resolve) => this.out.end(resolve));
  }
}

// Yield [lineNumber, data] for every non-blank line of the file.
async function* records(file) {
  const lines = readline.createInterface({
    input: fs.createReadStream(file, { highWaterMark: 1 << 16 }),
    crlfDelay: Infinity,
  });
  let n = 0;
  for await (const text of lines) {
    n++;
    if (text.trim() === '') continue;
    yield [n, JSON.parse(text).data];
  }
}

// Run task(batch) for each batch of size records, with at most limit
// tasks at once.  Reading stops while all of them are busy.
async function inBatches(file, size, limit, task) {
  const running = new Set();
  let batch = [];
  const launch = async (items) => {
    const p = task(items).finally(() => running.delete(p));
    running.add(p);
    if (running.size >= limit) await Promise.race(running);
  };
  for await (const item of records(file)) {
    batch.push(item);
    if (batch.length === size) {
      await launch(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await launch(batch);
  await Promise.all(running);
}

async function realtime(conn, opt, results) {
  const size = Math.min(opt.batchSize, 200);
  await inBatches(opt.file, size, opt.inFlight, async (batch) => {
    const saved = await conn.upsert(opt.sobject, batch.map(([, data]) => data),
      opt.externalId, { allOrNone: false });
    for (let i = 0; i < batch.length; i++) await results.write(batch[i][0], saved[i]);
  });
}

async function bulk(conn, opt, results) {
  conn.bulk2.pollTimeout = 3600 * 1000;
  await inBatches(opt.file, opt.batchSize, opt.jobs, async (batch) => {
    const byKey = new Map(batch.map(([line, data]) => [String(data[opt.externalId]), line]));
    const res = await conn.bulk2.loadAndWaitForResults({
      object: opt.sobject,
      operation: 'upsert',
      externalIdFieldName: opt.externalId,
      input: batch.map(([, data]) => data),
      pollInterval: opt.pollInterval,
      pollTimeout: 3600 * 1000,
    });
    // Result rows come back in any order, so the external ID finds each row's line.
    for (const row of res.successfulResults) {
      await results.write(byKey.get(row[opt.externalId]),
        { success: true, id: row.sf__Id, created: row.sf__Created === 'true' });
    }
    for (const row of res.failedResults) {
      await results.write(byKey.get(row[opt.externalId]),
        { success: false, errors: [{ message: row.sf__Error }] });
    }
  });
}

async function main() {
  const opt = options();
  const started = Date.now();
  const conn = new jsforce.Connection({
    oauth2: {
      loginUrl: process.env.SF_ORG_URL,
      clientId: process.env.SF_CLIENT_ID,
      clientSecret: process.env.SF_CLIENT_SECRET,
    },
    version: '65.0',
    logLevel: opt.logLevel,
  });
  await conn.authorize({ grant_type: 'client_credentials' });
  if (conn.instanceUrl !== process.env.SF_ORG_URL) {
    throw new Error(`the token response names instance ${conn.instanceUrl}, not ` +
      `${process.env.SF_ORG_URL}; refusing to send records there`);
  }
  const results = new Results();
  await (opt.mode === 'realtime' ? realtime : bulk)(conn, opt, results);
  await results.close();
  const seconds = (Date.now() - started) / 1000;
  process.stderr.write(`jsforce_load: ${results.counts.ok + results.counts.failed} records ` +
    `in ${seconds.toFixed(1)}s: ${results.counts.ok} ok, ${results.counts.failed} failed\n`);
  process.exitCode = results.counts.failed === 0 ? 0 : 1;
}

main().catch((err) => {
  process.stderr.write(`jsforce_load: ${err.stack || err}\n`);
  process.exit(3);
});
