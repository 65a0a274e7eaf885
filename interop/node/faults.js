// Fault scenario: the Node.js cassandra-driver against cql-sim, with faults injected through the
// simulator's HTTP+JSON control channel (docs/sim-control.md).
//
// Usage: node faults.js --port P --control HOST:PORT CONTACT_POINT...
// Needs a cluster of at least 3 nodes started with `--control-port`. Exits 0 when every step
// matches, 1 with a `FAIL <step>: <why>` line otherwise. Install with interop/node/setup.sh.
'use strict';

const cassandra = require('cassandra-driver');
const { types, errors, policies } = cassandra;

const KS = 'interop_faults_node';

class Mismatch extends Error {}

function check(cond, msg) {
  if (!cond) throw new Mismatch(msg);
}

let current = 'connect';
function step(name) {
  console.log('-- ' + name);
  current = name;
}

function parseArgs(argv) {
  const args = { contactPoints: [] };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--port') args.port = Number(argv[++i]);
    else if (argv[i] === '--control') args.control = argv[++i];
    else args.contactPoints.push(argv[i]);
  }
  if (!args.port || !args.control || args.contactPoints.length === 0) {
    console.error('usage: node faults.js --port P --control HOST:PORT CONTACT_POINT...');
    process.exit(2);
  }
  return args;
}

/** One call to the control channel; the JSON answer. */
async function control(base, method, path, body) {
  const res = await fetch(`http://${base}${path}`, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10000),
  });
  const json = await res.json();
  check(res.ok, `${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function waitUntil(what, cond, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    check(Date.now() < deadline, `${what} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function expectError(client, query, test, what) {
  try {
    await client.execute(query);
  } catch (e) {
    check(test(e), `expected ${what}, got ${e.name}: ${e.message}`);
    return e;
  }
  throw new Mismatch(`${query} succeeded; expected ${what}`);
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const ctl = (method, path, body) => control(args.control, method, path, body);
  const client = new cassandra.Client({
    contactPoints: args.contactPoints,
    protocolOptions: { port: args.port },
    localDataCenter: 'datacenter1',
    policies: { retry: new policies.retry.FallthroughRetryPolicy() },
    queryOptions: { consistency: types.consistencies.one },
    socketOptions: { connectTimeout: 10000, readTimeout: 10000 },
  });
  try {
    step('connect');
    await client.connect();
    await client.execute(`CREATE KEYSPACE IF NOT EXISTS ${KS} WITH replication = ` +
      "{'class': 'SimpleStrategy', 'replication_factor': 3}");
    await client.execute(`CREATE TABLE IF NOT EXISTS ${KS}.t (k int PRIMARY KEY, v text)`);
    const read = `SELECT v FROM ${KS}.t WHERE k = 1`;

    step("counters count the driver's queries");
    const queries = (nodes) => nodes.reduce((s, n) => s + n.requests_by_opcode.QUERY, 0);
    const before = queries(await ctl('GET', '/nodes'));
    for (let i = 0; i < 5; i++) {
      await client.execute(`INSERT INTO ${KS}.t (k, v) VALUES (${i}, 'v${i}')`);
    }
    const after = queries(await ctl('GET', '/nodes'));
    check(after - before >= 5, `QUERY counters went from ${before} to ${after}`);

    step('an injected Unavailable arrives with its details');
    await ctl('POST', '/nodes/all/faults', {
      match: { query_contains: `${KS}.t` },
      action: { error: { unavailable: { consistency: 'QUORUM', required: 3, alive: 1 } } },
    });
    const e = await expectError(client, read,
      (x) => x instanceof errors.ResponseError && x.code === types.responseErrorCodes.unavailableException,
      'an Unavailable ResponseError');
    check(e.required === 3 && e.alive === 1, `required/alive ${e.required}/${e.alive}`);
    check(e.consistencies === types.consistencies.quorum, `consistency ${e.consistencies}`);
    await ctl('DELETE', '/nodes/all/faults');
    await client.execute(read);

    step('an injected overloaded error, once per node');
    await ctl('POST', '/nodes/all/faults',
      { match: { query_contains: `${KS}.t` }, action: { error: 'overloaded' }, times: 1 });
    await expectError(client, read,
      (x) => x instanceof errors.ResponseError && x.code === types.responseErrorCodes.overloaded,
      'an Overloaded ResponseError');
    let succeeded = false;
    for (let i = 0; i < 3 && !succeeded; i++) {
      try {
        await client.execute(read);
        succeeded = true;
      } catch (x) {
        check(x.code === types.responseErrorCodes.overloaded, `unexpected ${x.message}`);
      }
    }
    check(succeeded, 'the one-shot overloaded errors kept firing');
    await ctl('DELETE', '/nodes/all/faults');

    step('a slow cluster times out on the client');
    await ctl('POST', '/nodes/all/delay', { ms: 1500 });
    try {
      await client.execute(read, [], { readTimeout: 300 });
      throw new Mismatch('a 1.5 s delay did not time out a 0.3 s request');
    } catch (x) {
      if (x instanceof Mismatch) throw x;
      const timedOut = x instanceof errors.OperationTimedOutError ||
        (x instanceof errors.NoHostAvailableError &&
          Object.values(x.innerErrors).some((i) => i instanceof errors.OperationTimedOutError));
      check(timedOut, `expected a client timeout, got ${x.name}: ${x.message}`);
    }
    await ctl('POST', '/nodes/all/delay', { ms: 0 });
    await client.execute(read);

    step('a stopped node is seen down, then up again');
    const victim = (await ctl('GET', '/nodes'))[2];
    const host = client.hosts.get(victim.address);
    check(host !== undefined, `the driver does not know ${victim.address}`);
    await ctl('POST', '/nodes/2/stop');
    await waitUntil(`the driver marks ${victim.address} down`, () => !host.isUp());
    for (let i = 0; i < 10; i++) {
      await client.execute(`SELECT v FROM ${KS}.t WHERE k = ${i % 5}`);
    }
    await ctl('POST', '/nodes/2/start');
    await waitUntil(`the driver marks ${victim.address} up again`, () => host.isUp());
  } catch (e) {
    console.log(`FAIL ${current}: ${e instanceof Mismatch ? '' : e.name + ': '}${e.message}`);
    if (!(e instanceof Mismatch)) console.log(e.stack);
    await client.shutdown();
    return 1;
  }
  await client.shutdown();
  console.log('OK faults');
  return 0;
}

main().then((code) => process.exit(code), (e) => {
  console.log(`FAIL ${current}: ${e.stack}`);
  process.exit(1);
});
