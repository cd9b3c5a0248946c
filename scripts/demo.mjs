#!/usr/bin/env node
// `npm run demo`: starts the local cluster if needed (scripts/cluster.mjs), runs the simulated shop
// (dist/demo/shop.js: six services as real producers and consumer groups; with the schema registry
// it registers an Avro and a Protobuf schema and writes the registry-framed topics `orders` and
// `payments`), prints what it wrote, traces a healthy, a failed and the stalled request with
// `evt trace`, lints the shop's topics with `evt lint`, and decodes an Avro order and a Protobuf payment with `evt tail --registry`.
//
//   npm run demo                       (builds first; rerunnable: each run adds new requests)
//   EVT_DEMO_ORDERS=20 npm run demo    (more requests; at least 5)
//   npm run demo -- --outbox           (also a loyalty service that publishes through a transactional
//                                       outbox: PostgreSQL + a Debezium relay, paused for a while;
//                                       used without the flag too when the cluster runs the relay)
//
// Plain Node ESM; needs the build (dist/). The cluster is reused when it runs, whatever its options.

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { POSTGRES_URL, status, up } from './cluster.mjs';
import { dropTimeoutNegativeWarning } from '../bin/quiet-warnings.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'bin', 'run.js');
const BROKERS = ['127.0.0.1:9092'];
const REGISTRY = 'http://127.0.0.1:8081/apis/ccompat/v7';

// kafkajs 2.2.4 schedules timers with negative delays; Node ≥ 23 warns about each (see bin/quiet-warnings.js).
dropTimeoutNegativeWarning();

const out = (line = '') => process.stdout.write(`${line}\n`);

/**
 * Reuse a running (or stopped) local cluster with its own options; otherwise start one shaped
 * like the one `npm test` uses (with the SASL_SSL listener), so that running the tests after the
 * demo reuses it instead of replacing it (and its demo topics). The schema registry is always
 * asked for (it is added to a running cluster that has none).
 */
async function ensureCluster(outbox) {
  const st = await status().catch(() => null);
  const opts = st?.options
    ? { brokers: st.options.brokers, rebalanceDelayMs: st.options.rebalanceDelayMs, saslSsl: st.options.saslSsl, registry: true, outbox: outbox || Boolean(st.options.outbox) }
    : { saslSsl: true, registry: true, outbox };
  return up(opts);
}

function evt(args, stdio = 'inherit') {
  return spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, stdio, env: process.env });
}

async function main() {
  out('evt demo: a small shop on your local Kafka');
  out();
  const cluster = await ensureCluster(process.argv.includes('--outbox'));
  const registry = cluster.registry?.url ?? REGISTRY;
  const outboxCheck = ['outbox', 'check', '--db', POSTGRES_URL, '--since', '10m'];
  const outbox = cluster.outbox?.alive
    ? {
        db: POSTGRES_URL,
        pauseRelayMs: 8000,
        whilePaused: async () => {
          out();
          out(`$ ./bin/run.js ${outboxCheck.join(' ')} --grace 1s     # while the relay is paused`);
          evt([...outboxCheck, '--grace', '1s']);
          out();
        },
      }
    : undefined;

  const { runShop } = await import('../dist/demo/shop.js');
  const orders = process.env.EVT_DEMO_ORDERS ? Number(process.env.EVT_DEMO_ORDERS) : undefined;
  out('Running the shop: order, payment, inventory, shipping, invoice and notification services');
  out('(each a real consumer group with a producer), placing orders...');
  const result = await runShop({ brokers: BROKERS, orders, registry, outbox, log: (line) => out(`  ${line}`) });

  out();
  out(result.completed ? `Done in ${(result.elapsedMs / 1000).toFixed(1)} s.` : `Stopped after ${(result.elapsedMs / 1000).toFixed(1)} s; still missing: ${result.missing.join(', ')}`);
  for (const e of result.errors) out(`  error: ${e}`);
  out();
  out('Records written by this run:');
  const width = Math.max(...Object.values(result.topics).map((t) => t.length));
  for (const topic of Object.values(result.topics)) out(`  ${topic.padEnd(width)}  ${String(result.produced[topic] ?? 0).padStart(4)}`);
  out();
  out(`Consumer groups: ${Object.values(result.groups).join(', ')}`);
  out();
  out('Requests (correlation ids):');
  out(`  healthy            ${result.healthy.join(' ')}`);
  out(`  payment timeout    ${result.failed}  (OrderPlaced dead-lettered to ${result.topics.paymentsDlt}, Spring headers)`);
  out(`  duplicate          ${result.duplicated}  (PaymentCaptured written twice, same event_id)`);
  out(`  stalled            ${result.stalled}  (consumed after OrderConfirmed, and nothing follows)`);
  out(`  disguised command  ${result.disguisedCommand}  (SendInvoiceEmail published as an event)`);
  out();

  const healthy = result.healthy[0];
  const traces = [
    ['a healthy request', healthy, []],
    ['the request whose payment timed out', result.failed, []],
    // a demo cannot wait the default 5 minutes: a request idle for 1 s is stalled here
    ['the stalled request', result.stalled, ['--stall-after', '1s']],
  ];
  // Only the shop's topics: a long-lived local cluster may hold other data (benchmarks, tests).
  const shopTopics = Object.values(result.topics).flatMap((t) => ['-t', t]);
  const failed = [];
  for (const [what, id, extra] of traces) {
    out(`$ ./bin/run.js trace ${id} --since 1h${extra.length ? ` ${extra.join(' ')}` : ''}     # ${what}`);
    const r = evt(['trace', id, '--since', '1h', '-f', 'tree', ...extra, ...shopTopics]);
    if (r.error || r.status !== 0) failed.push(`evt trace ${id} (${what}) ${r.error ? `did not start: ${r.error.message}` : r.signal ? `was killed by ${r.signal}` : `exited with code ${r.status}`}`);
    out();
  }
  // Registry-framed records, decoded: the newest Avro order and Protobuf payment.
  const decodes = [
    ['an Avro order (schema orders-value), decoded through the registry', result.topics.ordersAvro],
    ['a Protobuf payment (schema payments-value), decoded through the registry', result.topics.paymentsProtobuf],
  ];
  for (const [what, topic] of decodes) {
    out(`$ ./bin/run.js tail ${topic} -o -1 -n 1 -f pretty --registry ${registry}     # ${what}`);
    const r = evt(['tail', topic, '-o', '-1', '-n', '1', '-f', 'pretty', '--registry', registry]);
    if (r.error || r.status !== 0) failed.push(`evt tail ${topic} (${what}) ${r.error ? `did not start: ${r.error.message}` : r.signal ? `was killed by ${r.signal}` : `exited with code ${r.status}`}`);
    out();
  }
  if (outbox) {
    out(`$ ./bin/run.js ${outboxCheck.join(' ')}     # the relay is back: every row published, the pause shows as lag`);
    const r = evt(outboxCheck);
    if (r.error || r.status !== 0) failed.push(`evt outbox check ${r.error ? `did not start: ${r.error.message}` : `exited with code ${r.status}`}`);
    out();
  }
  // Event-design findings over the shop's topics: the disguised command and the duplicate delivery.
  out(`$ ./bin/run.js lint ${Object.values(result.topics).join(' ')}     # event-design rules, with evidence`);
  const lintRun = evt(['lint', ...Object.values(result.topics)]);
  if (lintRun.error || lintRun.status !== 0) failed.push(`evt lint ${lintRun.error ? `did not start: ${lintRun.error.message}` : lintRun.signal ? `was killed by ${lintRun.signal}` : `exited with code ${lintRun.status}`}`);
  out();
  if (!result.completed) failed.unshift(`the shop did not finish: still missing ${result.missing.join(', ')}`);
  if (result.errors.length > 0) failed.unshift(`the shop reported ${result.errors.length} error(s)`);
  if (failed.length > 0) {
    for (const step of failed) process.stderr.write(`demo failed: ${step}\n`);
    process.exitCode = 1;
    return;
  }

  const evtCmd = './bin/run.js';
  out('Try next:');
  out(`  ${evtCmd} tail ${result.topics.orders} -o start -e -f pretty`);
  out(`  ${evtCmd} tail ${result.topics.ordersAvro} -o start -e --registry ${registry}   # Avro orders, decoded`);
  out(`  ${evtCmd} tail ${result.topics.paymentsProtobuf} -o -3 -e -f json --registry ${registry}   # Protobuf payments as proto3 JSON`);
  out(`  ${evtCmd} schemas --registry ${registry}             # the subjects: orders-value (Avro, 2 versions), payments-value (Protobuf)`);
  out(`  ${evtCmd} trace ${result.duplicated} -f timeline          # the duplicate delivery`);
  out(`  ${evtCmd} trace ${result.disguisedCommand}                   # a command disguised as an event`);
  out(`  ${evtCmd} trace ${result.healthy[1] ?? healthy} --expect OrderConfirmed,ShipmentCreated --timeout 10s   # what CI smoke tests script`);
  if (outbox) out(`  ${evtCmd} outbox check --db ${POSTGRES_URL} --json | jq .lag   # the relay's lag per aggregate type`);
  out(`  ${evtCmd} groups`);
  out(`  ${evtCmd} dlq inspect ${result.topics.paymentsDlt} --group-by exception`);
  out(`  ${evtCmd} dlq requeue ${result.topics.paymentsDlt} --dry-run`);
  out('(`npm link` puts `evt` on PATH; on a Node older than 22, ./bin/run.js runs itself with the Node 24 in node_modules.)');
}

main().catch((err) => {
  process.stderr.write(`demo failed: ${err?.message ?? err}\n`);
  process.exitCode = 1;
});
