#!/usr/bin/env node
// Local Apache Kafka (KRaft) + Apicurio Registry for evt's tests, without Docker.
//
//   node scripts/cluster.mjs up [--brokers 1|2|3] [--rebalance-delay MS] [--no-registry] [--sasl-ssl]
//                               [--postgres] [--restart] [--timeout MS] [--json]
//   node scripts/cluster.mjs down [--keep-data]
//   node scripts/cluster.mjs status [--json]
//
// Jars come from Maven Central through `mvn` (cluster/kafka-pom.xml, cluster/registry-pom.xml) and are
// cached in .cache/cluster/; data, logs, pid files and TLS material live in .cluster/.
// See docs/LOCAL-CLUSTER.md. Plain Node ESM: only Node built-ins and kafkajs (loaded lazily).
//
// Importing this module has no side effects; the CLI runs only when this file is the entry point.

import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const KAFKA_VERSION = '4.1.1';
export const LOG4J_VERSION = '2.24.3';
export const REGISTRY_VERSION = '3.0.9';
/** Kafka Connect worker of the local outbox relay (Debezium 3.6 is built against Kafka 4.3). */
export const CONNECT_VERSION = '4.3.0';
export const DEBEZIUM_VERSION = '3.6.1.Final';

export const ROOT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CACHE_DIR = path.join(ROOT_DIR, '.cache', 'cluster');
export const STATE_DIR = path.join(ROOT_DIR, '.cluster');
export const LOGS_DIR = path.join(STATE_DIR, 'logs');
const PIDS_DIR = path.join(STATE_DIR, 'pids');
const TLS_DIR = path.join(STATE_DIR, 'tls');
const STATE_FILE = path.join(STATE_DIR, 'state.json');
const LOCK_FILE = path.join(STATE_DIR, 'lock');
const POM_DIR = path.join(ROOT_DIR, 'cluster');

export const HOST = '127.0.0.1';
export const MAX_BROKERS = 3;
/** PLAINTEXT client listener of node n (1-based): 9092, 9093, 9094. */
export const clientPort = (n) => 9091 + n;
/** SASL_SSL (SCRAM) listener of node n: 9096, 9097, 9098 (only with --sasl-ssl). */
export const saslSslPort = (n) => 9095 + n;
/** SSL listener with required client certificates (mTLS) of node n: 9196, 9197, 9198 (only with --sasl-ssl). */
export const mtlsPort = (n) => 9195 + n;
/** SASL_SSL OAUTHBEARER listener (unsecured JWT validator) of node n: 9296, 9297, 9298 (only with --sasl-ssl). */
export const oauthPort = (n) => 9295 + n;
/** KRaft controller listener of node n: 19093, 29093, 39093. */
export const controllerPort = (n) => n * 10000 + 9093;
export const REGISTRY_PORT = 8081;
export const REGISTRY_PATH = '/apis/ccompat/v7';
/** PostgreSQL of --postgres / --outbox: 127.0.0.1:15432 (not 5432, where a machine may run its own), user postgres (trust), database evt. */
export const POSTGRES_PORT = 15432;
export const POSTGRES_URL = `postgres://postgres@127.0.0.1:${POSTGRES_PORT}/evt`;
/** Kafka Connect REST port of the outbox relay (--outbox). */
export const CONNECT_PORT = 8083;
/** The outbox relay's connector (Debezium PostgreSQL + outbox event router) and the table it watches. */
export const OUTBOX_CONNECTOR = 'evt-outbox';
export const OUTBOX_TABLE = 'outbox';
export const SCRAM_MECHANISMS = ['scram-sha-256', 'scram-sha-512'];
/** SCRAM users created at format time (both mechanisms) when --sasl-ssl is on. */
export const SCRAM_USERS = [{ username: 'evt', password: 'evt-secret' }];
const KEYSTORE_PASSWORD = 'evt-keystore-secret';

const BROKER_JVM = ['-Xms128m', '-Xmx512m', '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-XX:+ExitOnOutOfMemoryError', '-Djava.awt.headless=true'];
const REGISTRY_JVM = ['-Xms128m', '-Xmx512m', '-XX:+ExitOnOutOfMemoryError', '-Djava.awt.headless=true'];
const DEFAULT_TIMEOUT_MS = 180_000;
const DEFAULT_STOP_GRACE_MS = 15_000;
const WIPE_STOP_GRACE_MS = 5_000;

/** Errors meant for the user: the CLI prints the message without a stack trace. */
export class ClusterError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ClusterError';
  }
}

// ---------------------------------------------------------------------------------------------
// Options

/**
 * @typedef {object} ClusterOptions
 * @property {number} [brokers] 1..3 KRaft nodes (combined broker+controller). Env EVT_CLUSTER_BROKERS. Default 1.
 * @property {number} [rebalanceDelayMs] group.initial.rebalance.delay.ms. Env EVT_CLUSTER_REBALANCE_DELAY_MS. Default 0.
 * @property {boolean} [registry] start Apicurio Registry on :8081. Env EVT_CLUSTER_REGISTRY (0/1). Default true.
 * @property {boolean} [saslSsl] extra secured listeners: SASL_SSL (SCRAM-SHA-256/512), MTLS (SSL with required client
 *   certificates) and OAUTH (SASL_SSL with OAUTHBEARER, unsecured JWT validator). Env EVT_CLUSTER_SASL_SSL (0/1). Default false.
 * @property {boolean} [postgres] also start a PostgreSQL server on 127.0.0.1:15432 (data in .cluster/postgres; binaries from
 *   /usr/lib/postgresql/<version>/bin, Debian's `postgresql` package, or PATH): database evt, user postgres, trust
 *   authentication, logical replication on. Env EVT_CLUSTER_POSTGRES (0/1). Default false (true with outbox).
 * @property {boolean} [outbox] PostgreSQL with the table `outbox` and the outbox relay: Kafka Connect running Debezium's
 *   PostgreSQL connector with the outbox event router. Env EVT_CLUSTER_OUTBOX (0/1). Default false.
 * @property {boolean} [restart] if a cluster with other options runs, replace it (its data is lost). Env EVT_CLUSTER_RESTART.
 * @property {number} [timeoutMs] how long `up` waits for readiness. Env EVT_CLUSTER_TIMEOUT_MS. Default 180000.
 * @property {(line: string) => void} [log] progress output; default: stderr. Pass () => {} to silence.
 */

function envInt(name, env) {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new ClusterError(`${name} must be a non-negative integer, got "${v}"`);
  return n;
}

function envBool(name, env) {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  throw new ClusterError(`${name} must be 0/1/true/false, got "${v}"`);
}

/** Explicit options win over EVT_CLUSTER_* environment variables, which win over defaults. */
export function resolveOptions(opts = {}, env = process.env) {
  const o = {
    brokers: opts.brokers ?? envInt('EVT_CLUSTER_BROKERS', env) ?? 1,
    rebalanceDelayMs: opts.rebalanceDelayMs ?? envInt('EVT_CLUSTER_REBALANCE_DELAY_MS', env) ?? 0,
    registry: opts.registry ?? envBool('EVT_CLUSTER_REGISTRY', env) ?? true,
    saslSsl: opts.saslSsl ?? envBool('EVT_CLUSTER_SASL_SSL', env) ?? false,
    outbox: opts.outbox ?? envBool('EVT_CLUSTER_OUTBOX', env) ?? false,
    postgres: false,
    restart: opts.restart ?? envBool('EVT_CLUSTER_RESTART', env) ?? false,
    timeoutMs: opts.timeoutMs ?? envInt('EVT_CLUSTER_TIMEOUT_MS', env) ?? DEFAULT_TIMEOUT_MS,
  };
  o.postgres = opts.postgres ?? envBool('EVT_CLUSTER_POSTGRES', env) ?? o.outbox;
  if (o.outbox) o.postgres = true;
  if (!Number.isInteger(o.brokers) || o.brokers < 1 || o.brokers > MAX_BROKERS) {
    throw new ClusterError(`brokers must be 1..${MAX_BROKERS}, got ${o.brokers}`);
  }
  if (!Number.isInteger(o.rebalanceDelayMs) || o.rebalanceDelayMs < 0) {
    throw new ClusterError(`rebalance delay must be a non-negative integer (ms), got ${o.rebalanceDelayMs}`);
  }
  return o;
}

/** The options that shape the broker configuration (changing them needs a fresh cluster). */
function brokerShape(o) {
  return { brokers: o.brokers, rebalanceDelayMs: o.rebalanceDelayMs, saslSsl: o.saslSsl, securedListeners: o.saslSsl ? SECURED_LISTENERS : [] };
}

/** The listeners --sasl-ssl adds (a cluster made by an older version of this script, without some of them, is replaced). */
const SECURED_LISTENERS = ['SASL_SSL', 'MTLS', 'OAUTH'];

/**
 * Can a cluster created with `have` serve a request for `want`? Broker count and rebalance delay must match;
 * a cluster with more than was asked for (a SASL_SSL listener, a registry) is reused as it is.
 */
function compatible(have, want) {
  const secured = have.saslSsl && SECURED_LISTENERS.every((l) => have.securedListeners?.includes(l));
  return have.brokers === want.brokers && have.rebalanceDelayMs === want.rebalanceDelayMs && (secured || !want.saslSsl);
}

function describeOptions(o) {
  return `brokers=${o.brokers} rebalance-delay=${o.rebalanceDelayMs}ms sasl-ssl=${o.saslSsl ? 'on' : 'off'} registry=${o.registry ? 'on' : 'off'} postgres=${o.postgres ? 'on' : 'off'} outbox=${o.outbox ? 'on' : 'off'}`;
}

function defaultLog(line) {
  process.stderr.write(`[cluster] ${line}\n`);
}

// ---------------------------------------------------------------------------------------------
// Small helpers

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const rel = (p) => path.relative(process.cwd(), p) || '.';

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

function writeFileAtomic(file, text) {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

function tail(file, lines = 20) {
  try {
    const buf = fs.readFileSync(file);
    const text = buf.subarray(Math.max(0, buf.length - 64 * 1024)).toString('utf8');
    return stripAnsi(text).trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log file)';
  }
}

function stripAnsi(s) {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '');
}

function indent(text, prefix = '    ') {
  return text
    .split('\n')
    .map((l) => prefix + l)
    .join('\n');
}

function portOpen(port, host = HOST, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Run a command, collecting output; resolves { code, output }. */
function run(cmd, args, { cwd = ROOT_DIR, env = process.env } = {}) {
  return new Promise((resolve, reject) => {
    let output = '';
    const append = (d) => {
      output += d.toString();
      if (output.length > 512 * 1024) output = output.slice(-256 * 1024);
    };
    let child;
    try {
      child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      reject(err);
      return;
    }
    child.stdout.on('data', append);
    child.stderr.on('data', append);
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), output: stripAnsi(output) }));
  });
}

// ---------------------------------------------------------------------------------------------
// Java

let javaInfoCache;
/** The java binary (EVT_CLUSTER_JAVA, else $JAVA_HOME/bin/java, else `java` on PATH), its home and major version. */
export function javaInfo() {
  if (javaInfoCache) return javaInfoCache;
  const bin =
    process.env.EVT_CLUSTER_JAVA || (process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java');
  const r = spawnSync(bin, ['-XshowSettings:properties', '-version'], { encoding: 'utf8' });
  if (r.error) throw new ClusterError(`Cannot run Java (${bin}): ${r.error.message}. Install a JDK 17+ or set JAVA_HOME / EVT_CLUSTER_JAVA.`);
  const out = `${r.stdout}${r.stderr}`;
  const home = /^\s*java\.home = (.+)$/m.exec(out)?.[1]?.trim();
  const spec = /^\s*java\.specification\.version = (.+)$/m.exec(out)?.[1]?.trim();
  const major = Number(spec);
  if (!home || !Number.isFinite(major)) throw new ClusterError(`Cannot determine the Java version of ${bin}:\n${out}`);
  if (major < 17) throw new ClusterError(`Kafka ${KAFKA_VERSION} and Apicurio ${REGISTRY_VERSION} need Java 17+, but ${bin} is Java ${spec}. Set JAVA_HOME or EVT_CLUSTER_JAVA.`);
  javaInfoCache = { bin, home, major, keytool: path.join(home, 'bin', 'keytool') };
  return javaInfoCache;
}

// ---------------------------------------------------------------------------------------------
// Downloads (cached in .cache/cluster/, so later starts are offline)

const kafkaHome = () => path.join(CACHE_DIR, `kafka-${KAFKA_VERSION}`);
const kafkaLibs = () => path.join(kafkaHome(), 'libs');
const registryHome = () => path.join(CACHE_DIR, `apicurio-registry-${REGISTRY_VERSION}`);
const registryJar = () => path.join(registryHome(), `apicurio-registry-app-${REGISTRY_VERSION}-runner.jar`);

async function mvn(args, what) {
  const cmd = process.env.EVT_CLUSTER_MVN || 'mvn';
  const extra = (process.env.EVT_CLUSTER_MVN_ARGS || '').split(/\s+/).filter(Boolean);
  let r;
  try {
    r = await run(cmd, ['-B', '-q', ...extra, ...args]);
  } catch (err) {
    if (err.code === 'ENOENT') {
      throw new ClusterError(`\`${cmd}\` was not found on PATH; it is needed once to download ${what} from Maven Central into ${rel(CACHE_DIR)} (install Maven 3.6+, or set EVT_CLUSTER_MVN).`);
    }
    throw err;
  }
  if (r.code !== 0) {
    throw new ClusterError(`Downloading ${what} with mvn failed (exit ${r.code}). Last lines of its output:\n${indent(r.output.trimEnd().split('\n').slice(-40).join('\n'))}`);
  }
}

async function ensureKafka(log) {
  const home = kafkaHome();
  if (fs.existsSync(path.join(home, '.complete'))) return;
  const t0 = Date.now();
  log(`Downloading Apache Kafka ${KAFKA_VERSION} jars with mvn into ${rel(home)} (first run only)...`);
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  const tmp = path.join(CACHE_DIR, `.tmp-kafka-${process.pid}`);
  fs.rmSync(tmp, { recursive: true, force: true });
  try {
    await fetchKafka(tmp);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  fs.rmSync(home, { recursive: true, force: true });
  fs.renameSync(tmp, home);
  log(`Kafka jars ready (${((Date.now() - t0) / 1000).toFixed(1)} s).`);
}

async function fetchKafka(tmp) {
  await mvn(
    [
      '-f', path.join(POM_DIR, 'kafka-pom.xml'),
      'dependency:copy-dependencies',
      '-DincludeScope=runtime',
      `-DoutputDirectory=${path.join(tmp, 'libs')}`,
      `-Dkafka.version=${KAFKA_VERSION}`,
      `-Dlog4j.version=${LOG4J_VERSION}`,
    ],
    `Apache Kafka ${KAFKA_VERSION}`,
  );
  if (!fs.existsSync(path.join(tmp, 'libs', `kafka_2.13-${KAFKA_VERSION}.jar`))) {
    throw new ClusterError(`mvn succeeded but ${rel(tmp)}/libs has no kafka_2.13-${KAFKA_VERSION}.jar`);
  }
  fs.writeFileSync(path.join(tmp, '.complete'), `${new Date().toISOString()}\n`);
}

async function ensureRegistry(log) {
  const home = registryHome();
  if (fs.existsSync(path.join(home, '.complete'))) return;
  const t0 = Date.now();
  log(`Downloading Apicurio Registry ${REGISTRY_VERSION} (~110 MB) with mvn into ${rel(home)} (first run only)...`);
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  const tmp = path.join(CACHE_DIR, `.tmp-registry-${process.pid}`);
  fs.rmSync(tmp, { recursive: true, force: true });
  try {
    await fetchRegistry(tmp);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  fs.rmSync(home, { recursive: true, force: true });
  fs.renameSync(tmp, home);
  log(`Apicurio Registry ready (${((Date.now() - t0) / 1000).toFixed(1)} s).`);
}

async function fetchRegistry(tmp) {
  const download = path.join(tmp, 'download');
  await mvn(
    [
      '-f', path.join(POM_DIR, 'registry-pom.xml'),
      'dependency:copy',
      `-Devt.registry.out=${download}`,
      `-Dapicurio.version=${REGISTRY_VERSION}`,
    ],
    `Apicurio Registry ${REGISTRY_VERSION}`,
  );
  const tarball = path.join(download, `apicurio-registry-app-${REGISTRY_VERSION}-all.tar.gz`);
  if (!fs.existsSync(tarball)) throw new ClusterError(`mvn succeeded but ${rel(tarball)} is missing`);
  // System tar: it understands the PAX long-name headers that the Maven unpacker truncates.
  const r = await run('tar', ['-xzf', tarball, '-C', tmp]);
  if (r.code !== 0) throw new ClusterError(`Unpacking ${rel(tarball)} failed:\n${indent(r.output)}`);
  fs.rmSync(download, { recursive: true, force: true });
  if (!fs.existsSync(path.join(tmp, path.basename(registryJar())))) {
    throw new ClusterError(`The Apicurio tarball did not contain ${path.basename(registryJar())}`);
  }
  fs.writeFileSync(path.join(tmp, '.complete'), `${new Date().toISOString()}\n`);
}

// ---------------------------------------------------------------------------------------------
// Processes (pid files in .cluster/pids/, each JVM tagged with -Devt.cluster.role=<name>)

const pidFile = (name) => path.join(PIDS_DIR, `${name}.pid`);
const brokerName = (n) => `broker-${n}`;
const roleTag = (name) => `-Devt.cluster.role=${name}`;
const dirTag = () => `-Devt.cluster.dir=${STATE_DIR}`;

function readPid(name) {
  try {
    const pid = Number(fs.readFileSync(pidFile(name), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function commandLine(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    if (fs.existsSync('/proc/self')) return ''; // Linux: gone or a zombie
    const r = spawnSync('ps', ['-p', String(pid), '-o', 'command='], { encoding: 'utf8' });
    return r.status === 0 ? r.stdout : '';
  }
}

/** True if pid is alive and is the JVM this script started for `name` (guards against pid reuse). */
function isOurs(pid, name) {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const cmd = commandLine(pid);
  return (cmd.includes(roleTag(name)) && cmd.includes(dirTag())) || (cmd.includes(`evt.cluster_role=${name}`) && cmd.includes(`evt.cluster_dir=${STATE_DIR}`));
}

function alivePid(name) {
  const pid = readPid(name);
  return isOurs(pid, name) ? pid : null;
}

function spawnDetached(name, args, { cwd, logFile, bin = javaInfo().bin, user }) {
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  fs.mkdirSync(PIDS_DIR, { recursive: true });
  const fd = fs.openSync(logFile, 'a');
  let child;
  try {
    child = spawn(bin, args, { cwd, detached: true, stdio: ['ignore', fd, fd], ...(user ? { uid: user.uid, gid: user.gid } : {}) });
  } finally {
    fs.closeSync(fd);
  }
  if (!child.pid) throw new ClusterError(`Could not start ${name} (${bin})`);
  child.on('error', () => {});
  child.unref();
  fs.writeFileSync(pidFile(name), `${child.pid}\n`);
  return child.pid;
}

function componentNames() {
  let names = [];
  try {
    names = fs.readdirSync(PIDS_DIR).filter((f) => f.endsWith('.pid')).map((f) => f.slice(0, -4));
  } catch {
    /* none */
  }
  return names;
}

/** SIGTERM, then SIGKILL after graceMs. Resolves with the names that were running. */
async function stopComponents(names, graceMs, log) {
  const running = names.map((name) => ({ name, pid: alivePid(name) })).filter((c) => c.pid);
  for (const c of running) {
    try {
      // PostgreSQL: SIGINT is its fast shutdown (SIGTERM waits for every client to leave)
      process.kill(c.pid, c.name === 'postgres' ? 'SIGINT' : 'SIGTERM');
    } catch {
      /* already gone */
    }
  }
  const deadline = Date.now() + graceMs;
  let left = running;
  while (left.length && Date.now() < deadline) {
    await sleep(200);
    left = left.filter((c) => isOurs(c.pid, c.name));
  }
  for (const c of left) {
    log(`${c.name} (pid ${c.pid}) did not stop within ${graceMs / 1000} s after SIGTERM; sending SIGKILL`);
    try {
      process.kill(c.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  const killDeadline = Date.now() + 10_000;
  while (left.length && Date.now() < killDeadline) {
    await sleep(100);
    left = left.filter((c) => isOurs(c.pid, c.name));
  }
  for (const c of running) fs.rmSync(pidFile(c.name), { force: true });
  return running.map((c) => c.name);
}

// ---------------------------------------------------------------------------------------------
// Lock (so `up`/`down` from a terminal and from a test's globalSetup do not race)

async function withLock(fn, timeoutMs) {
  fs.mkdirSync(STATE_DIR, { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      fs.writeFileSync(LOCK_FILE, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      const holder = Number(fs.readFileSync(LOCK_FILE, 'utf8').trim() || '0');
      let alive = false;
      try {
        if (holder > 0) {
          process.kill(holder, 0);
          alive = true;
        }
      } catch {
        /* stale */
      }
      if (!alive || holder === process.pid) {
        fs.rmSync(LOCK_FILE, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new ClusterError(`Another cluster command (pid ${holder}) holds ${rel(LOCK_FILE)}`);
      await sleep(250);
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(LOCK_FILE, { force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Configuration

function readState() {
  return readJson(STATE_FILE);
}

function writeState(state) {
  writeFileAtomic(STATE_FILE, `${JSON.stringify(state, null, 2)}\n`);
}

const nodeDir = (n) => path.join(STATE_DIR, `node-${n}`);
const brokerLog = (n) => path.join(LOGS_DIR, `broker-${n}.log`);
const brokerStdout = (n) => path.join(LOGS_DIR, `broker-${n}.stdout.log`);
const registryLog = () => path.join(LOGS_DIR, 'registry.log');
const caPath = () => path.join(TLS_DIR, 'ca.pem');
const log4jPath = () => path.join(STATE_DIR, 'log4j2.properties');

function newClusterId() {
  for (;;) {
    const id = crypto.randomBytes(16).toString('base64url'); // 22 chars, like kafka-storage random-uuid
    if (!id.startsWith('-')) return id; // an id starting with '-' would be parsed as a CLI flag
  }
}

function serverProperties(n, o) {
  const N = o.brokers;
  const rf = N;
  const minIsr = N >= 3 ? 2 : 1;
  const voters = Array.from({ length: N }, (_, i) => `${i + 1}@${HOST}:${controllerPort(i + 1)}`).join(',');
  const listeners = [`PLAINTEXT://${HOST}:${clientPort(n)}`, `CONTROLLER://${HOST}:${controllerPort(n)}`];
  const advertised = [`PLAINTEXT://${HOST}:${clientPort(n)}`];
  const protocolMap = ['CONTROLLER:PLAINTEXT', 'PLAINTEXT:PLAINTEXT'];
  if (o.saslSsl) {
    for (const [name, port] of [['SASL_SSL', saslSslPort(n)], ['MTLS', mtlsPort(n)], ['OAUTH', oauthPort(n)]]) {
      listeners.push(`${name}://${HOST}:${port}`);
      advertised.push(`${name}://${HOST}:${port}`);
    }
    protocolMap.push('SASL_SSL:SASL_SSL', 'MTLS:SSL', 'OAUTH:SASL_SSL');
  }
  const lines = [
    `# Generated by scripts/cluster.mjs for node ${n} of ${N}; regenerated on every fresh \`up\`.`,
    'process.roles=broker,controller',
    `node.id=${n}`,
    `controller.quorum.voters=${voters}`,
    `listeners=${listeners.join(',')}`,
    `advertised.listeners=${advertised.join(',')}`,
    `listener.security.protocol.map=${protocolMap.join(',')}`,
    'inter.broker.listener.name=PLAINTEXT',
    'controller.listener.names=CONTROLLER',
    `log.dirs=${path.join(nodeDir(n), 'data')}`,
    'num.partitions=1',
    `default.replication.factor=${rf}`,
    `min.insync.replicas=${minIsr}`,
    `offsets.topic.replication.factor=${rf}`,
    'offsets.topic.num.partitions=1',
    `transaction.state.log.replication.factor=${rf}`,
    `transaction.state.log.min.isr=${minIsr}`,
    'transaction.state.log.num.partitions=1',
    `share.coordinator.state.topic.replication.factor=${rf}`,
    `share.coordinator.state.topic.min.isr=${minIsr}`,
    `group.initial.rebalance.delay.ms=${o.rebalanceDelayMs}`,
    'auto.create.topics.enable=true',
    'delete.topic.enable=true',
    'num.network.threads=2',
    'num.io.threads=4',
    'num.recovery.threads.per.data.dir=1',
  ];
  if (o.saslSsl) {
    const jaas = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';
    lines.push(
      // every TLS listener presents the broker certificate signed by the local CA
      'ssl.keystore.type=PKCS12',
      `ssl.keystore.location=${path.join(TLS_DIR, 'broker.p12')}`,
      `ssl.keystore.password=${KEYSTORE_PASSWORD}`,
      `ssl.key.password=${KEYSTORE_PASSWORD}`,
      'ssl.client.auth=none',
      // SASL_SSL: SCRAM only (a client asking for OAUTHBEARER here is told the mechanism is not enabled)
      'sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512',
      'listener.name.sasl_ssl.sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512',
      `listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=${jaas}`,
      `listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=${jaas}`,
      // MTLS (SSL): a client certificate signed by the local CA is required (the truststore is ca.pem, PEM type: KIP-651)
      'listener.name.mtls.ssl.client.auth=required',
      'listener.name.mtls.ssl.truststore.type=PEM',
      `listener.name.mtls.ssl.truststore.location=${caPath()}`,
      // OAUTH (SASL_SSL): OAUTHBEARER with Kafka's unsecured JWT validator: any token {"alg":"none"} with sub and a future exp
      'listener.name.oauth.sasl.enabled.mechanisms=OAUTHBEARER',
      'listener.name.oauth.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="broker";',
      'listener.name.oauth.oauthbearer.sasl.server.callback.handler.class=org.apache.kafka.common.security.oauthbearer.internals.unsecured.OAuthBearerUnsecuredValidatorCallbackHandler',
    );
  }
  return `${lines.join('\n')}\n`;
}

const LOG4J2_PROPERTIES = `# Generated by scripts/cluster.mjs. Each broker JVM gets -Devt.log.file=<.cluster/logs/broker-N.log>.
status = warn
name = evt-local-kafka
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = \${sys:evt.log.file}
appender.file.append = true
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.request.name = kafka.request.logger
logger.request.level = WARN
`;

/**
 * CA + broker certificate (SAN DNS:localhost, IP:127.0.0.1) into .cluster/tls/: ca.pem (what clients trust) and
 * broker.p12 (the broker's PKCS12 keystore). Uses openssl when it is on PATH (fast), else keytool from the JDK.
 * EVT_CLUSTER_TLS_TOOL=openssl|keytool forces one.
 */
async function generateTls(log) {
  const t0 = Date.now();
  fs.mkdirSync(TLS_DIR, { recursive: true });
  const forced = process.env.EVT_CLUSTER_TLS_TOOL;
  let tool = forced || 'openssl';
  if (tool === 'openssl') {
    try {
      await generateTlsOpenssl();
    } catch (err) {
      if (forced) throw err;
      log(`openssl did not work (${err.message.split('\n')[0]}); using keytool instead.`);
      tool = 'keytool';
    }
  }
  if (tool === 'keytool') await generateTlsKeytool();
  else if (tool !== 'openssl') throw new ClusterError(`EVT_CLUSTER_TLS_TOOL must be openssl or keytool, got "${tool}"`);
  await generateClientTls(tool);
  log(`TLS material generated with ${tool} in ${rel(TLS_DIR)} (${((Date.now() - t0) / 1000).toFixed(1)} s).`);
}

async function generateTlsOpenssl() {
  const f = (name) => path.join(TLS_DIR, name);
  fs.writeFileSync(
    f('broker.ext'),
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n',
  );
  const steps = [
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', caPath(), '-days', '3650', '-subj', '/CN=evt local test CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('broker.key'), '-out', f('broker.csr'), '-subj', '/CN=localhost'],
    ['x509', '-req', '-in', f('broker.csr'), '-CA', caPath(), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('broker.crt'), '-days', '3650',
      '-extfile', f('broker.ext')],
    ['pkcs12', '-export', '-in', f('broker.crt'), '-inkey', f('broker.key'), '-certfile', caPath(), '-name', 'broker', '-out', f('broker.p12'),
      '-passout', `pass:${KEYSTORE_PASSWORD}`],
  ];
  for (const args of steps) {
    const r = await run('openssl', args);
    if (r.code !== 0) throw new ClusterError(`openssl ${args[0]} failed:\n${indent(r.output)}`);
  }
}

async function generateTlsKeytool() {
  const kt = javaInfo().keytool;
  const ca = path.join(TLS_DIR, 'ca.p12');
  const broker = path.join(TLS_DIR, 'broker.p12');
  const csr = path.join(TLS_DIR, 'broker.csr');
  const crt = path.join(TLS_DIR, 'broker.crt');
  const pw = ['-storepass', KEYSTORE_PASSWORD];
  for (const file of [ca, broker]) fs.rmSync(file, { force: true });
  const steps = [
    ['-genkeypair', '-alias', 'ca', '-keyalg', 'RSA', '-keysize', '2048', '-validity', '3650', '-dname', 'CN=evt local test CA', '-ext', 'bc:c', '-keystore', ca, '-storetype', 'PKCS12', ...pw],
    ['-exportcert', '-rfc', '-alias', 'ca', '-keystore', ca, ...pw, '-file', caPath()],
    ['-genkeypair', '-alias', 'broker', '-keyalg', 'RSA', '-keysize', '2048', '-validity', '3650', '-dname', 'CN=localhost', '-keystore', broker, '-storetype', 'PKCS12', ...pw],
    ['-certreq', '-alias', 'broker', '-keystore', broker, ...pw, '-file', csr],
    ['-gencert', '-alias', 'ca', '-keystore', ca, ...pw, '-infile', csr, '-outfile', crt, '-rfc', '-validity', '3650', '-ext', 'san=dns:localhost,ip:127.0.0.1', '-ext', 'eku=serverAuth', '-ext', 'ku:c=digitalSignature,keyEncipherment'],
    ['-importcert', '-noprompt', '-alias', 'ca', '-file', caPath(), '-keystore', broker, ...pw],
    ['-importcert', '-alias', 'broker', '-file', crt, '-keystore', broker, ...pw],
  ];
  for (const args of steps) {
    const r = await run(kt, args);
    if (r.code !== 0) throw new ClusterError(`keytool ${args[0]} failed:\n${indent(r.output)}`);
  }
}

/** Where the client TLS material for the MTLS listener lives (see generateClientTls). */
export const CLIENT_TLS = {
  /** Client certificate (PEM, CN=evt-client, EKU clientAuth) signed by the cluster CA: the MTLS listener accepts it. */
  cert: path.join(TLS_DIR, 'client.crt'),
  /** Its private key (PKCS#8 PEM, EC P-256, unencrypted). */
  key: path.join(TLS_DIR, 'client.key'),
  /** The same private key encrypted (PKCS#8, AES-256-CBC) with {@link CLIENT_KEY_PASSPHRASE}. */
  encryptedKey: path.join(TLS_DIR, 'client-encrypted.key'),
  /** A CA the broker does not trust. */
  untrustedCa: path.join(TLS_DIR, 'untrusted-ca.pem'),
  /** A client certificate (CN=evt-untrusted-client) signed by the untrusted CA: the MTLS listener refuses it. */
  untrustedCert: path.join(TLS_DIR, 'untrusted-client.crt'),
  /** Its private key (PKCS#8 PEM, unencrypted). */
  untrustedKey: path.join(TLS_DIR, 'untrusted-client.key'),
};
/** Passphrase of CLIENT_TLS.encryptedKey. */
export const CLIENT_KEY_PASSPHRASE = 'evt-client-key-secret';

/** DER (ITU-T X.690) length octets. */
function derLength(n) {
  if (n < 0x80) return Buffer.from([n]);
  const bytes = [];
  for (let x = n; x > 0; x = Math.floor(x / 256)) bytes.unshift(x & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
/** One DER TLV. */
const der = (tag, ...parts) => {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
};
/** A DER OBJECT IDENTIFIER from dotted notation. */
function derOid(dotted) {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const bytes = [40 * a + b];
  for (const v of rest) {
    const enc = [v & 0x7f];
    for (let x = Math.floor(v / 128); x > 0; x = Math.floor(x / 128)) enc.unshift(0x80 | (x & 0x7f));
    bytes.push(...enc);
  }
  return der(0x06, Buffer.from(bytes));
}
const pem = (label, buf) => `-----BEGIN ${label}-----\n${buf.toString('base64').match(/.{1,64}/g).join('\n')}\n-----END ${label}-----\n`;

/**
 * A PKCS#10 certificate signing request (RFC 2986) for subject CN=`cn`, signed with ecdsa-with-SHA256
 * by the EC key pair: node:crypto makes keys but not CSRs, and keytool cannot import a PEM key, so the
 * client keys are made here and only the signing is left to openssl or keytool.
 * @param {string} cn
 * @param {{publicKey: crypto.KeyObject, privateKey: crypto.KeyObject}} keys
 * @returns {string} PEM "CERTIFICATE REQUEST"
 */
export function certificateRequest(cn, { publicKey, privateKey }) {
  const subject = der(0x30, der(0x31, der(0x30, derOid('2.5.4.3'), der(0x0c, Buffer.from(cn, 'utf8')))));
  const info = der(0x30, der(0x02, Buffer.from([0])), subject, publicKey.export({ type: 'spki', format: 'der' }), der(0xa0));
  const signature = crypto.sign('sha256', info, privateKey); // DER ECDSA-Sig-Value
  const request = der(0x30, info, der(0x30, derOid('1.2.840.10045.4.3.2')), der(0x03, Buffer.from([0]), signature));
  return pem('CERTIFICATE REQUEST', request);
}

/**
 * Client TLS material for the MTLS listener (files in {@link CLIENT_TLS}): EC P-256 keys from node:crypto,
 * a client certificate signed by the cluster CA, and one signed by a second CA the broker does not trust.
 * Signing uses the tool that made the CA (openssl with ca.key, or keytool with ca.p12).
 */
async function generateClientTls(tool) {
  const f = (name) => path.join(TLS_DIR, name);
  const ec = () => crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const trusted = ec();
  const untrusted = ec();
  fs.writeFileSync(CLIENT_TLS.key, trusted.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  fs.writeFileSync(
    CLIENT_TLS.encryptedKey,
    trusted.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: CLIENT_KEY_PASSPHRASE }),
    { mode: 0o600 },
  );
  fs.writeFileSync(CLIENT_TLS.untrustedKey, untrusted.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  fs.writeFileSync(f('client.csr'), certificateRequest('evt-client', trusted));
  fs.writeFileSync(f('untrusted-client.csr'), certificateRequest('evt-untrusted-client', untrusted));
  const exec = async (cmd, args) => {
    const r = await run(cmd, args);
    if (r.code !== 0) throw new ClusterError(`${path.basename(cmd)} ${args[0]} failed:\n${indent(r.output)}`);
  };
  if (tool === 'openssl') {
    fs.writeFileSync(f('client.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n');
    const sign = (csr, ca, caKey, out) =>
      exec('openssl', ['x509', '-req', '-in', csr, '-CA', ca, '-CAkey', caKey, '-set_serial', `0x${crypto.randomBytes(8).toString('hex')}`, '-out', out, '-days', '3650', '-extfile', f('client.ext')]);
    await exec('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('untrusted-ca.key'), '-out', CLIENT_TLS.untrustedCa,
      '-days', '3650', '-subj', '/CN=evt untrusted test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    await sign(f('client.csr'), caPath(), f('ca.key'), CLIENT_TLS.cert);
    await sign(f('untrusted-client.csr'), CLIENT_TLS.untrustedCa, f('untrusted-ca.key'), CLIENT_TLS.untrustedCert);
  } else {
    const kt = javaInfo().keytool;
    const pw = ['-storepass', KEYSTORE_PASSWORD];
    const untrustedCa = f('untrusted-ca.p12');
    fs.rmSync(untrustedCa, { force: true });
    const sign = (store, csr, out) =>
      exec(kt, ['-gencert', '-alias', 'ca', '-keystore', store, ...pw, '-infile', csr, '-outfile', out, '-rfc', '-validity', '3650', '-ext', 'eku=clientAuth', '-ext', 'ku:c=digitalSignature']);
    await exec(kt, ['-genkeypair', '-alias', 'ca', '-keyalg', 'EC', '-groupname', 'secp256r1', '-validity', '3650', '-dname', 'CN=evt untrusted test CA', '-ext', 'bc:c', '-keystore', untrustedCa, '-storetype', 'PKCS12', ...pw]);
    await exec(kt, ['-exportcert', '-rfc', '-alias', 'ca', '-keystore', untrustedCa, ...pw, '-file', CLIENT_TLS.untrustedCa]);
    await sign(path.join(TLS_DIR, 'ca.p12'), f('client.csr'), CLIENT_TLS.cert);
    await sign(untrustedCa, f('untrusted-client.csr'), CLIENT_TLS.untrustedCert);
  }
}

async function formatNode(n, clusterId, o) {
  const props = path.join(nodeDir(n), 'server.properties');
  const args = [
    '-Xmx256m',
    `-Dlog4j2.configurationFile=${log4jPath()}`,
    `-Devt.log.file=${path.join(LOGS_DIR, `format-${n}.log`)}`,
    '-cp', path.join(kafkaLibs(), '*'),
    'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', props,
  ];
  if (o.saslSsl) {
    for (const mech of ['SCRAM-SHA-256', 'SCRAM-SHA-512']) {
      for (const u of SCRAM_USERS) args.push('--add-scram', `${mech}=[name=${u.username},password=${u.password}]`);
    }
  }
  const r = await run(javaInfo().bin, args);
  fs.appendFileSync(path.join(LOGS_DIR, `format-${n}.log`), r.output);
  if (r.code !== 0) throw new ClusterError(`Formatting the storage of node ${n} failed:\n${indent(r.output.trimEnd())}`);
}

/** Wipes .cluster/ (keeps the lock) and writes configs, TLS material and formatted storage. */
async function prepareFresh(o, log) {
  for (const entry of fs.existsSync(STATE_DIR) ? fs.readdirSync(STATE_DIR) : []) {
    if (entry !== 'lock') fs.rmSync(path.join(STATE_DIR, entry), { recursive: true, force: true });
  }
  fs.mkdirSync(LOGS_DIR, { recursive: true });
  fs.mkdirSync(PIDS_DIR, { recursive: true });
  fs.writeFileSync(log4jPath(), LOG4J2_PROPERTIES);
  if (o.saslSsl) await generateTls(log);
  const clusterId = newClusterId();
  for (let n = 1; n <= o.brokers; n++) {
    fs.mkdirSync(path.join(nodeDir(n), 'data'), { recursive: true });
    fs.writeFileSync(path.join(nodeDir(n), 'server.properties'), serverProperties(n, o));
  }
  const t0 = Date.now();
  await Promise.all(Array.from({ length: o.brokers }, (_, i) => formatNode(i + 1, clusterId, o)));
  log(`Formatted ${o.brokers} KRaft node(s), cluster id ${clusterId} (${((Date.now() - t0) / 1000).toFixed(1)} s).`);
  return clusterId;
}

function startBroker(n) {
  fs.appendFileSync(brokerStdout(n), `\n=== ${new Date().toISOString()} starting broker ${n}\n`);
  return spawnDetached(
    brokerName(n),
    [
      ...BROKER_JVM,
      `-Dlog4j2.configurationFile=${log4jPath()}`,
      `-Devt.log.file=${brokerLog(n)}`,
      dirTag(),
      roleTag(brokerName(n)),
      '-cp', path.join(kafkaLibs(), '*'),
      'kafka.Kafka',
      path.join(nodeDir(n), 'server.properties'),
    ],
    { cwd: nodeDir(n), logFile: brokerStdout(n) },
  );
}

function startRegistry() {
  const dir = path.join(STATE_DIR, 'registry');
  fs.mkdirSync(path.join(dir, 'tmp'), { recursive: true });
  fs.appendFileSync(registryLog(), `\n=== ${new Date().toISOString()} starting Apicurio Registry ${REGISTRY_VERSION}\n`);
  return spawnDetached(
    'registry',
    [
      ...REGISTRY_JVM,
      dirTag(),
      roleTag('registry'),
      `-Djava.io.tmpdir=${path.join(dir, 'tmp')}`,
      `-Dquarkus.http.host=${HOST}`,
      `-Dquarkus.http.port=${REGISTRY_PORT}`,
      '-Dapicurio.rules.global.compatibility=BACKWARD',
      '-jar', registryJar(),
    ],
    { cwd: dir, logFile: registryLog() },
  );
}

// ---------------------------------------------------------------------------------------------
// Readiness

async function loadKafkajs() {
  const mod = await import('kafkajs');
  return mod.default ?? mod;
}

function plaintextBrokers(N) {
  return Array.from({ length: N }, (_, i) => `${HOST}:${clientPort(i + 1)}`);
}

function saslSslBrokers(N) {
  return Array.from({ length: N }, (_, i) => `${HOST}:${saslSslPort(i + 1)}`);
}

/** kafkajs client settings for the SASL_SSL listener (CA from .cluster/tls/ca.pem). */
export function saslSslClientConfig({ brokers = 1, mechanism = 'scram-sha-256', username = SCRAM_USERS[0].username, password = SCRAM_USERS[0].password } = {}) {
  return {
    brokers: saslSslBrokers(brokers),
    ssl: { ca: [fs.readFileSync(caPath(), 'utf8')] }, // the certificate's SAN covers 127.0.0.1 and localhost
    sasl: { mechanism, username, password },
  };
}

function mtlsBrokers(N) {
  return Array.from({ length: N }, (_, i) => `${HOST}:${mtlsPort(i + 1)}`);
}

function oauthBrokers(N) {
  return Array.from({ length: N }, (_, i) => `${HOST}:${oauthPort(i + 1)}`);
}

/** kafkajs client settings for the MTLS listener: the CA plus the client certificate and key (default: the trusted ones). */
export function mtlsClientConfig({ brokers = 1, cert = CLIENT_TLS.cert, key = CLIENT_TLS.key } = {}) {
  return {
    brokers: mtlsBrokers(brokers),
    ssl: { ca: [fs.readFileSync(caPath(), 'utf8')], cert: fs.readFileSync(cert, 'utf8'), key: fs.readFileSync(key, 'utf8') },
  };
}

/**
 * An unsecured JWS (RFC 7515 compact serialization with `{"alg":"none"}` and an empty signature, RFC 7519 claims)
 * that Kafka's OAuthBearerUnsecuredValidatorCallbackHandler accepts while `exp` is in the future:
 * `base64url(header).base64url({sub, iat, exp}).`
 * @param {{sub?: string, lifetimeMs?: number, nowMs?: number}} [opts] `lifetimeMs` may be negative (an expired token).
 * @returns {string}
 */
export function unsecuredJwt({ sub = 'evt', lifetimeMs = 3_600_000, nowMs = Date.now() } = {}) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const iat = Math.floor(nowMs / 1000);
  return `${b64({ alg: 'none' })}.${b64({ sub, iat, exp: Math.floor((nowMs + lifetimeMs) / 1000) })}.`;
}

/** kafkajs client settings for the OAUTH listener (SASL_SSL, OAUTHBEARER) with an unsecured token. */
export function oauthClientConfig({ brokers = 1, token = unsecuredJwt() } = {}) {
  return {
    brokers: oauthBrokers(brokers),
    ssl: { ca: [fs.readFileSync(caPath(), 'utf8')] },
    sasl: { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: token }) },
  };
}

async function describeCluster(kafkaConfig, timeoutMs) {
  const { Kafka, logLevel } = await loadKafkajs();
  const kafka = new Kafka({
    clientId: 'evt-cluster-script',
    logLevel: logLevel.NOTHING,
    connectionTimeout: Math.min(3000, timeoutMs),
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
    ...kafkaConfig,
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    return await admin.describeCluster();
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

async function httpGet(url, timeoutMs = 2000) {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  await res.arrayBuffer();
  return res.status;
}

function startupFailure(what, logs) {
  return new ClusterError(
    `${what}\n${logs
      .map((f) => `  --- last lines of ${rel(f)}:\n${indent(tail(f, 15))}`)
      .join('\n')}\n  Logs: ${logs.map(rel).join(', ')}`,
  );
}

async function waitForBrokers(state, deadline) {
  const N = state.options.brokers;
  let last = 'no answer yet';
  for (;;) {
    for (let n = 1; n <= N; n++) {
      if (!alivePid(brokerName(n))) {
        throw startupFailure(`Broker ${n} exited during startup.`, [brokerStdout(n), brokerLog(n)]);
      }
    }
    // Every broker must answer by itself (a restarted broker may still be listed by the others).
    const answers = await Promise.all(
      plaintextBrokers(N).map((addr) =>
        describeCluster({ brokers: [addr] }, 3000).then(
          (d) => (d.brokers.length >= N ? null : `${addr}: ${d.brokers.length}/${N} brokers registered`),
          (err) => `${addr}: ${err.message}`,
        ),
      ),
    );
    const waiting = answers.filter(Boolean);
    if (waiting.length === 0) break;
    last = waiting.join('; ');
    if (Date.now() > deadline) {
      throw startupFailure(
        `Timed out waiting for ${N} Kafka broker(s) on ${plaintextBrokers(N).join(',')} (last: ${last}).`,
        Array.from({ length: N }, (_, i) => brokerLog(i + 1)),
      );
    }
    await sleep(500);
  }
  if (state.options.saslSsl) {
    const secured = [
      ['SASL_SSL', saslSslClientConfig({ brokers: N })],
      ['MTLS', mtlsClientConfig({ brokers: N })],
      ['OAUTH', oauthClientConfig({ brokers: N })],
    ];
    for (const [name, cfg] of secured) {
      for (;;) {
        try {
          const counts = await Promise.all(cfg.brokers.map((addr) => describeCluster({ ...cfg, brokers: [addr] }, 5000)));
          if (counts.every((d) => d.brokers.length >= N)) break;
          last = 'not all brokers registered';
        } catch (err) {
          last = err.message;
        }
        if (Date.now() > deadline) {
          throw startupFailure(`Timed out waiting for the ${name} listener(s) ${cfg.brokers.join(',')} (last: ${last}).`, [brokerLog(1)]);
        }
        await sleep(500);
      }
    }
  }
}

async function waitForRegistry(deadline) {
  const url = `http://${HOST}:${REGISTRY_PORT}${REGISTRY_PATH}`;
  let last = 'no answer yet';
  for (;;) {
    if (!alivePid('registry')) throw startupFailure('Apicurio Registry exited during startup.', [registryLog()]);
    try {
      const status = await httpGet(`${url}/subjects`);
      if (status === 200) break;
      last = `HTTP ${status}`;
    } catch (err) {
      last = err.cause?.code ?? err.message;
    }
    if (Date.now() > deadline) throw startupFailure(`Timed out waiting for Apicurio Registry at ${url} (last: ${last}).`, [registryLog()]);
    await sleep(500);
  }
  // Make GET /config answer BACKWARD like Confluent's default (the -D property only applies the rule).
  const res = await fetch(`${url}/config`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ compatibility: 'BACKWARD' }),
    signal: AbortSignal.timeout(5000),
  });
  await res.arrayBuffer();
  if (res.status !== 200) throw new ClusterError(`Setting the registry's global compatibility to BACKWARD failed: HTTP ${res.status}`);
}

// ---------------------------------------------------------------------------------------------
// Public API

/**
 * @typedef {object} ClusterInfo
 * @property {boolean} running
 * @property {{brokers: number, rebalanceDelayMs: number, registry: boolean, saslSsl: boolean}} options
 * @property {string} clusterId
 * @property {string[]} bootstrapServers PLAINTEXT listeners, e.g. ['127.0.0.1:9092']
 * @property {string | null} registryUrl e.g. 'http://127.0.0.1:8081/apis/ccompat/v7'
 * @property {{bootstrapServers: string[], caPath: string, mechanisms: string[], users: {username: string, password: string}[]} | null} saslSsl
 * @property {{bootstrapServers: string[], caPath: string, cert: string, key: string, encryptedKey: string, keyPassphrase: string, untrustedCa: string, untrustedCert: string, untrustedKey: string} | null} mtls
 *   SSL listeners that require a client certificate signed by the CA (with --sasl-ssl); file paths of the client material
 * @property {{bootstrapServers: string[], caPath: string, mechanism: 'OAUTHBEARER', validator: string} | null} oauth
 *   SASL_SSL listeners with OAUTHBEARER and Kafka's unsecured JWT validator (tokens: unsecuredJwt())
 * @property {Array<{nodeId: number, host: string, port: number, controllerPort: number, saslSslPort: number | null, mtlsPort: number | null, oauthPort: number | null, pid: number | null, alive: boolean, log: string, stdoutLog: string}>} brokers
 * @property {{pid: number | null, alive: boolean, port: number, url: string, log: string} | null} registry
 * @property {number | null} registeredBrokers brokers seen by describeCluster (status only)
 * @property {string} stateDir
 * @property {string} logsDir
 * @property {string} kafkaVersion
 * @property {string} registryVersion
 */

function info(state, extra = {}) {
  const o = state.options;
  const brokers = Array.from({ length: o.brokers }, (_, i) => {
    const n = i + 1;
    const pid = alivePid(brokerName(n));
    return {
      nodeId: n,
      host: HOST,
      port: clientPort(n),
      controllerPort: controllerPort(n),
      saslSslPort: o.saslSsl ? saslSslPort(n) : null,
      mtlsPort: o.saslSsl ? mtlsPort(n) : null,
      oauthPort: o.saslSsl ? oauthPort(n) : null,
      pid: pid ?? readPid(brokerName(n)),
      alive: Boolean(pid),
      log: brokerLog(n),
      stdoutLog: brokerStdout(n),
    };
  });
  const regPid = alivePid('registry');
  const registryUrl = `http://${HOST}:${REGISTRY_PORT}${REGISTRY_PATH}`;
  return {
    running: false,
    options: { brokers: o.brokers, rebalanceDelayMs: o.rebalanceDelayMs, registry: o.registry, saslSsl: o.saslSsl, postgres: Boolean(o.postgres), outbox: Boolean(o.outbox) },
    clusterId: state.clusterId,
    bootstrapServers: plaintextBrokers(o.brokers),
    registryUrl: o.registry ? registryUrl : null,
    saslSsl: o.saslSsl
      ? { bootstrapServers: saslSslBrokers(o.brokers), caPath: caPath(), mechanisms: SCRAM_MECHANISMS, users: SCRAM_USERS }
      : null,
    mtls: o.saslSsl ? { bootstrapServers: mtlsBrokers(o.brokers), caPath: caPath(), ...CLIENT_TLS, keyPassphrase: CLIENT_KEY_PASSPHRASE } : null,
    oauth: o.saslSsl ? { bootstrapServers: oauthBrokers(o.brokers), caPath: caPath(), mechanism: 'OAUTHBEARER', validator: 'unsecured JWT' } : null,
    brokers,
    registry: o.registry
      ? { pid: regPid ?? readPid('registry'), alive: Boolean(regPid), port: REGISTRY_PORT, url: registryUrl, log: registryLog() }
      : null,
    registeredBrokers: null,
    stateDir: STATE_DIR,
    logsDir: LOGS_DIR,
    kafkaVersion: KAFKA_VERSION,
    registryVersion: REGISTRY_VERSION,
    postgres: o.postgres ? { pid: alivePid('postgres') ?? readPid('postgres'), alive: Boolean(alivePid('postgres')), port: POSTGRES_PORT, url: POSTGRES_URL, log: postgresLog() } : null,
    outbox: o.outbox
      ? { pid: alivePid('connect') ?? readPid('connect'), alive: Boolean(alivePid('connect')), restUrl: `http://${HOST}:${CONNECT_PORT}`, connector: OUTBOX_CONNECTOR, table: OUTBOX_TABLE, topicPrefix: 'outbox.event.', log: connectLog() }
      : null,
    ...extra,
  };
}

/**
 * Starts (or reuses) the local cluster and resolves when it answers.
 * @param {ClusterOptions} [opts]
 * @returns {Promise<ClusterInfo>}
 */
export async function up(opts = {}) {
  const o = resolveOptions(opts);
  const log = opts.log ?? defaultLog;
  const t0 = Date.now();
  return withLock(async () => {
    let state = readState();
    const started = [];
    if (state) {
      const names = componentNames();
      const anyAlive = names.some((name) => alivePid(name));
      if (!compatible(state.options, o)) {
        if (anyAlive && !o.restart) {
          throw new ClusterError(
            `A local cluster is already running with ${describeOptions(state.options)},\n` +
              `but ${describeOptions(o)} was asked for. Run \`npm run kafka:down\` first, ` +
              'or pass --restart (EVT_CLUSTER_RESTART=1) to replace it (its topics and schemas are lost).',
          );
        }
        log(anyAlive ? `Replacing the running cluster (${describeOptions(state.options)}).` : 'Discarding the stopped cluster (other options).');
        await stopComponents(names, WIPE_STOP_GRACE_MS, log);
        state = null;
      }
    } else {
      // No state file: stop anything a previous, interrupted run may have left behind.
      await stopComponents(componentNames(), WIPE_STOP_GRACE_MS, log);
    }

    javaInfo();
    await ensureKafka(log);
    if (o.registry) await ensureRegistry(log);
    if (o.outbox) await ensureConnect(log);
    const pg = o.postgres ? postgresInstall() : null;

    const fresh = !state;
    if (fresh) {
      await checkPortsFree(o);
      const clusterId = await prepareFresh(o, log);
      state = { clusterId, options: { ...brokerShape(o), registry: o.registry }, createdAt: new Date().toISOString() };
    } else if (o.registry && !state.options.registry) {
      state.options.registry = true; // a registry can be added to a running cluster
    }
    // PostgreSQL and the outbox relay can be added to a running cluster too
    if (o.postgres) state.options.postgres = true;
    if (o.outbox) state.options.outbox = true;
    writeState(state);

    for (let n = 1; n <= state.options.brokers; n++) {
      if (alivePid(brokerName(n))) continue;
      await ensurePortFree(clientPort(n), `broker ${n}`);
      startBroker(n);
      started.push(brokerName(n));
    }
    if (state.options.registry && !alivePid('registry')) {
      await ensurePortFree(REGISTRY_PORT, 'the registry');
      startRegistry();
      started.push('registry');
    }
    if (state.options.postgres && !alivePid('postgres')) {
      await ensurePortFree(POSTGRES_PORT, 'PostgreSQL');
      await startPostgres(pg ?? postgresInstall(), log);
      started.push('postgres');
    }
    if (started.length) log(`Started ${started.join(', ')}; waiting until they answer...`);

    const deadline = Date.now() + o.timeoutMs;
    await Promise.all([
      waitForBrokers(state, deadline),
      state.options.registry ? waitForRegistry(deadline) : null,
      state.options.postgres ? waitForPostgres(deadline) : null,
    ]);
    if (state.options.outbox && !alivePid('connect')) {
      await ensurePortFree(CONNECT_PORT, 'Kafka Connect');
      await prepareOutbox();
      startConnect();
      started.push('connect');
      log('Started the outbox relay (Kafka Connect + Debezium); waiting until its connector runs...');
      await waitForConnect(deadline);
    }
    const seconds = ((Date.now() - t0) / 1000).toFixed(1);
    log(started.length ? `Cluster is up (${seconds} s).` : `Cluster was already up (${seconds} s).`);
    return info(state, { running: true, started });
  }, o.timeoutMs);
}

/**
 * Throws unless `port` is free. A JVM this script has just stopped (a cluster being replaced, a
 * killed broker) may hold its sockets for a few seconds after its pid is gone: wait up to 15 s
 * before calling the port taken by someone else.
 */
async function ensurePortFree(port, what) {
  for (let waited = 0; waited < 15_000 && (await portOpen(port)); waited += 250) await sleep(250);
  if (await portOpen(port)) {
    throw new ClusterError(
      `Port ${port} (for ${what}) is already in use by a process this script did not start. Stop it, or check \`npm run kafka:status\`.`,
    );
  }
}

async function checkPortsFree(o) {
  const ports = [];
  for (let n = 1; n <= o.brokers; n++) {
    ports.push([clientPort(n), `broker ${n}`], [controllerPort(n), `controller ${n}`]);
    if (o.saslSsl) ports.push([saslSslPort(n), `SASL_SSL listener ${n}`], [mtlsPort(n), `MTLS listener ${n}`], [oauthPort(n), `OAUTH listener ${n}`]);
  }
  if (o.registry) ports.push([REGISTRY_PORT, 'the registry']);
  for (const [port, what] of ports) await ensurePortFree(port, what);
}

/**
 * Stops the processes this script started (pid files; SIGTERM, SIGKILL after a grace period) and,
 * unless keepData, deletes .cluster/ except the logs.
 * @param {{keepData?: boolean, graceMs?: number, log?: (line: string) => void}} [opts]
 * @returns {Promise<{stopped: string[], keptData: boolean}>}
 */
export async function down(opts = {}) {
  const log = opts.log ?? defaultLog;
  const keepData = opts.keepData ?? envBool('EVT_CLUSTER_KEEP_DATA', process.env) ?? false;
  // Data that is deleted anyway needs no clean shutdown: a 3-node cluster whose controllers all stop at
  // once can spend 10+ s in controlled shutdown, so the grace period is shorter then.
  const graceMs = opts.graceMs ?? envInt('EVT_CLUSTER_STOP_GRACE_MS', process.env) ?? (keepData ? DEFAULT_STOP_GRACE_MS : WIPE_STOP_GRACE_MS);
  if (!fs.existsSync(STATE_DIR)) {
    log('Nothing to stop (no .cluster/ folder).');
    return { stopped: [], keptData: keepData };
  }
  return withLock(async () => {
    const t0 = Date.now();
    const stopped = await stopComponents(componentNames(), graceMs, log);
    if (!keepData) {
      for (const entry of fs.readdirSync(STATE_DIR)) {
        if (entry !== 'logs' && entry !== 'lock') fs.rmSync(path.join(STATE_DIR, entry), { recursive: true, force: true });
      }
    }
    const seconds = ((Date.now() - t0) / 1000).toFixed(1);
    log(
      `${stopped.length ? `Stopped ${stopped.join(', ')}` : 'Nothing was running'} (${seconds} s); ` +
        (keepData ? `data kept in ${rel(STATE_DIR)} (next \`up\` with the same options restarts on it).` : `data removed, logs kept in ${rel(LOGS_DIR)}.`),
    );
    return { stopped, keptData: keepData };
  }, 60_000);
}

/**
 * Reports what runs where. `running` is true when every broker (and the registry, if enabled) answers.
 * @returns {Promise<ClusterInfo | {running: false, stateDir: string}>}
 */
export async function status() {
  const state = readState();
  if (!state) return { running: false, stateDir: STATE_DIR, logsDir: LOGS_DIR, reason: 'no cluster state (never started, or `down` ran)' };
  const base = info(state);
  let registeredBrokers = null;
  const problems = [];
  for (const b of base.brokers) {
    if (!b.alive) problems.push(`broker ${b.nodeId} is not running`);
    else if (!(await portOpen(b.port))) problems.push(`broker ${b.nodeId} does not answer on ${b.port}`);
  }
  if (base.brokers.some((b) => b.alive)) {
    try {
      registeredBrokers = (await describeCluster({ brokers: base.bootstrapServers }, 5000)).brokers.length;
    } catch (err) {
      problems.push(`describeCluster failed: ${err.message}`);
    }
    if (registeredBrokers !== null && registeredBrokers < base.brokers.length) {
      problems.push(`only ${registeredBrokers}/${base.brokers.length} brokers registered`);
    }
  }
  if (base.registry) {
    if (!base.registry.alive) problems.push('the registry is not running');
    else {
      const code = await httpGet(`${base.registry.url}/subjects`).catch(() => null);
      if (code !== 200) problems.push(`the registry answers ${code ?? 'nothing'} on ${base.registry.url}/subjects`);
    }
  }
  if (base.postgres && !base.postgres.alive) problems.push('PostgreSQL is not running');
  if (base.outbox && !base.outbox.alive) problems.push('the outbox relay (Kafka Connect) is not running');
  return { ...base, running: problems.length === 0, registeredBrokers, problems };
}

/**
 * For failure tests: stops one broker (default SIGKILL). Call up() with the same options to restart it on its data.
 * @param {number} nodeId
 * @param {{signal?: NodeJS.Signals, waitMs?: number}} [opts]
 */
export async function stopBroker(nodeId, { signal = 'SIGKILL', waitMs = 30_000 } = {}) {
  const name = brokerName(nodeId);
  const pid = alivePid(name);
  if (!pid) return false;
  process.kill(pid, signal);
  const deadline = Date.now() + waitMs;
  while (isOurs(pid, name)) {
    if (Date.now() > deadline) throw new ClusterError(`${name} (pid ${pid}) still runs ${waitMs} ms after ${signal}`);
    await sleep(100);
  }
  return true;
}

/**
 * For failure tests: sends `signal` to one broker without waiting (SIGSTOP freezes it: the kernel
 * still accepts connections, nobody answers; SIGCONT thaws it).
 * @param {number} nodeId
 * @param {NodeJS.Signals} signal
 * @returns {boolean} false if that broker does not run
 */
export function signalBroker(nodeId, signal) {
  const pid = alivePid(brokerName(nodeId));
  if (!pid) return false;
  process.kill(pid, signal);
  return true;
}

/**
 * For failure tests: kills the schema registry (SIGKILL) and waits until it is gone. Call up()
 * with the same options to start it again.
 * @returns {Promise<boolean>} false if it was not running
 */
export async function stopRegistry({ waitMs = 30_000 } = {}) {
  const pid = alivePid('registry');
  if (!pid) return false;
  process.kill(pid, 'SIGKILL');
  const deadline = Date.now() + waitMs;
  while (isOurs(pid, 'registry')) {
    if (Date.now() > deadline) throw new ClusterError(`registry (pid ${pid}) still runs ${waitMs} ms after SIGKILL`);
    await sleep(100);
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL (--postgres, --outbox) and the outbox relay (--outbox)

const postgresDir = () => path.join(STATE_DIR, 'postgres');
const postgresLog = () => path.join(LOGS_DIR, 'postgres.log');
const connectHome = () => path.join(CACHE_DIR, `connect-${CONNECT_VERSION}-debezium-${DEBEZIUM_VERSION}`);
const connectLog = () => path.join(LOGS_DIR, 'connect.log');
const connectDir = () => path.join(STATE_DIR, 'connect');

/**
 * The PostgreSQL server binaries (Debian's postgresql package: /usr/lib/postgresql/<major>/bin, the
 * newest major first; else `postgres` on PATH) and, when this script runs as root, the user the
 * server runs as (PostgreSQL refuses root): `postgres`, which the package creates.
 * @returns {{bin: string, user: {uid: number, gid: number, name: string} | null}}
 */
function postgresInstall() {
  const candidates = [];
  const base = '/usr/lib/postgresql';
  if (fs.existsSync(base)) {
    for (const v of fs.readdirSync(base).sort((a, b) => Number(b) - Number(a))) candidates.push(path.join(base, v, 'bin'));
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) if (dir) candidates.push(dir);
  const bin = candidates.find((dir) => fs.existsSync(path.join(dir, 'postgres')) && fs.existsSync(path.join(dir, 'initdb')));
  if (!bin) {
    throw new ClusterError('PostgreSQL server binaries (postgres, initdb) were not found in /usr/lib/postgresql/*/bin or on PATH. Install Debian\'s postgresql package (apt-get install postgresql); .ci/run does.');
  }
  let user = null;
  if (process.getuid?.() === 0) {
    const line = fs.readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
    if (!line) throw new ClusterError('Running as root, PostgreSQL needs an unprivileged user: no `postgres` user exists (Debian\'s postgresql package creates it).');
    const [, , uid, gid] = line.split(':');
    user = { uid: Number(uid), gid: Number(gid), name: 'postgres' };
  }
  return { bin, user };
}

/** initdb on first start (trust auth, no fsync: test data), then the server with logical replication on. */
async function startPostgres({ bin, user }, log) {
  const dir = postgresDir();
  const data = path.join(dir, 'data');
  fs.mkdirSync(dir, { recursive: true });
  if (user) fs.chownSync(dir, user.uid, user.gid);
  if (!fs.existsSync(path.join(data, 'PG_VERSION'))) {
    const r = await new Promise((resolve) => {
      const child = spawn(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync'], {
        stdio: ['ignore', 'pipe', 'pipe'],
        ...(user ? { uid: user.uid, gid: user.gid } : {}),
      });
      let output = '';
      child.stdout.on('data', (d) => (output += d));
      child.stderr.on('data', (d) => (output += d));
      child.on('error', (err) => resolve({ code: -1, output: String(err) }));
      child.on('close', (code) => resolve({ code, output }));
    });
    fs.mkdirSync(LOGS_DIR, { recursive: true });
    fs.appendFileSync(postgresLog(), r.output);
    if (r.code !== 0) throw new ClusterError(`initdb failed:\n${indent(r.output.trimEnd().split('\n').slice(-15).join('\n'))}`);
    log(`Initialised PostgreSQL in ${rel(data)}.`);
  }
  fs.appendFileSync(postgresLog(), `\n=== ${new Date().toISOString()} starting PostgreSQL\n`);
  return spawnDetached(
    'postgres',
    [
      '-D', data,
      '-p', String(POSTGRES_PORT),
      '-c', `listen_addresses=${HOST}`,
      '-c', 'unix_socket_directories=',
      '-c', 'wal_level=logical',
      '-c', 'max_wal_senders=8',
      '-c', 'max_replication_slots=8',
      '-c', 'fsync=off',
      '-c', 'synchronous_commit=off',
      '-c', 'full_page_writes=off',
      '-c', `evt.cluster_role=postgres`,
      '-c', `evt.cluster_dir=${STATE_DIR}`,
    ],
    { cwd: dir, logFile: postgresLog(), bin: path.join(bin, 'postgres'), user },
  );
}

/** A `pg` client (loaded lazily) on database `db` of the local server. */
async function postgresClient(db = 'evt') {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ host: HOST, port: POSTGRES_PORT, user: 'postgres', database: db, connectionTimeoutMillis: 2000 });
  await client.connect();
  return client;
}

/** Waits until PostgreSQL answers, then creates database `evt` if it is missing. */
async function waitForPostgres(deadline) {
  let last = 'no answer yet';
  for (;;) {
    if (!alivePid('postgres')) throw startupFailure('PostgreSQL exited during startup.', [postgresLog()]);
    try {
      const admin = await postgresClient('postgres');
      try {
        const { rowCount } = await admin.query("SELECT 1 FROM pg_database WHERE datname = 'evt'");
        if (!rowCount) await admin.query('CREATE DATABASE evt');
      } finally {
        await admin.end().catch(() => {});
      }
      return;
    } catch (err) {
      last = err.message;
    }
    if (Date.now() > deadline) throw startupFailure(`PostgreSQL did not answer on ${HOST}:${POSTGRES_PORT} in time (${last}).`, [postgresLog()]);
    await sleep(250);
  }
}

/**
 * The outbox table in Debezium's default layout, plus the time the service wrote the row, which
 * `evt outbox check` compares with the records' timestamps.
 */
export const OUTBOX_TABLE_SQL = `CREATE TABLE IF NOT EXISTS ${OUTBOX_TABLE} (
  id uuid PRIMARY KEY,
  aggregatetype varchar(255) NOT NULL,
  aggregateid varchar(255) NOT NULL,
  type varchar(255) NOT NULL,
  payload jsonb,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp()
)`;

async function prepareOutbox() {
  const client = await postgresClient();
  try {
    await client.query(OUTBOX_TABLE_SQL);
  } finally {
    await client.end().catch(() => {});
  }
}

async function ensureConnect(log) {
  const home = connectHome();
  if (fs.existsSync(path.join(home, '.complete'))) return;
  const t0 = Date.now();
  log(`Downloading Kafka Connect ${CONNECT_VERSION} and Debezium ${DEBEZIUM_VERSION} with mvn into ${rel(home)} (first run only)...`);
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  const tmp = path.join(CACHE_DIR, `.tmp-connect-${process.pid}`);
  fs.rmSync(tmp, { recursive: true, force: true });
  try {
    await mvn(['-f', path.join(POM_DIR, 'connect-pom.xml'), 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${path.join(tmp, 'libs')}`,
      `-Dkafka.version=${CONNECT_VERSION}`, `-Dlog4j.version=${LOG4J_VERSION}`], `Kafka Connect ${CONNECT_VERSION}`);
    // the worker brings the Kafka client and Connect API jars; a second copy inside the plugin would only shadow them
    await mvn(['-f', path.join(POM_DIR, 'debezium-pom.xml'), 'dependency:copy-dependencies', '-DincludeScope=runtime', '-DexcludeGroupIds=org.apache.kafka',
      `-DoutputDirectory=${path.join(tmp, 'plugins', 'debezium-postgres')}`, `-Ddebezium.version=${DEBEZIUM_VERSION}`], `Debezium ${DEBEZIUM_VERSION}`);
    if (!fs.existsSync(path.join(tmp, 'libs', `connect-runtime-${CONNECT_VERSION}.jar`))) throw new ClusterError(`mvn succeeded but ${rel(tmp)}/libs has no connect-runtime-${CONNECT_VERSION}.jar`);
    fs.writeFileSync(path.join(tmp, '.complete'), `${new Date().toISOString()}\n`);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  fs.rmSync(home, { recursive: true, force: true });
  fs.renameSync(tmp, home);
  log(`Kafka Connect and Debezium ready (${((Date.now() - t0) / 1000).toFixed(1)} s).`);
}

/**
 * A standalone Connect worker with one connector: Debezium's PostgreSQL connector on table
 * `outbox` of database `evt` (pgoutput, slot evt_outbox), through the outbox event router: one
 * record per inserted row on `outbox.event.<aggregatetype>`, key = aggregateid, header `id` = the
 * row id, header `eventType` = type, value = the payload as JSON. Connect creates those topics with
 * the broker's defaults and `message.timestamp.type=LogAppendTime`.
 *
 * The worker records its position (offset.flush.interval.ms) every 60 s and when it stops
 * cleanly: a relay killed (SIGKILL) after publishing rows but before recording its position
 * publishes them again when it restarts, as a real relay does.
 */
function startConnect() {
  const dir = connectDir();
  fs.mkdirSync(dir, { recursive: true });
  const worker = path.join(dir, 'worker.properties');
  const connector = path.join(dir, 'outbox-connector.properties');
  fs.writeFileSync(worker, [
    `bootstrap.servers=${plaintextBrokers(readState()?.options.brokers ?? 1).join(',')}`,
    'key.converter=org.apache.kafka.connect.storage.StringConverter',
    'value.converter=org.apache.kafka.connect.json.JsonConverter',
    'value.converter.schemas.enable=false',
    `offset.storage.file.filename=${path.join(dir, 'offsets.dat')}`,
    'offset.flush.interval.ms=60000',
    `plugin.path=${path.join(connectHome(), 'plugins')}`,
    // Debezium's jars declare their connectors and transforms as services: loading those skips the
    // reflective scan of every class (tens of seconds)
    'plugin.discovery=service_load',
    `listeners=http://${HOST}:${CONNECT_PORT}`,
    'producer.enable.idempotence=true',
    '',
  ].join('\n'));
  fs.writeFileSync(connector, [
    `name=${OUTBOX_CONNECTOR}`,
    'connector.class=io.debezium.connector.postgresql.PostgresConnector',
    'tasks.max=1',
    'plugin.name=pgoutput',
    `database.hostname=${HOST}`,
    `database.port=${POSTGRES_PORT}`,
    'database.user=postgres',
    'database.password=postgres',
    'database.dbname=evt',
    'topic.prefix=evt-outbox',
    `table.include.list=public.${OUTBOX_TABLE}`,
    'slot.name=evt_outbox',
    'publication.name=evt_outbox',
    'publication.autocreate.mode=filtered',
    'snapshot.mode=no_data',
    'tombstones.on.delete=false',
    'transforms=outbox',
    'transforms.outbox.type=io.debezium.transforms.outbox.EventRouter',
    'transforms.outbox.table.expand.json.payload=true',
    'transforms.outbox.table.fields.additional.placement=type:header:eventType',
    'transforms.outbox.route.topic.replacement=outbox.event.${routedByValue}',
    // Connect creates the outbox topics, stamped by the broker when it appends: a record's timestamp is
    // then when it reached Kafka, and relay lag is exact (Debezium's own stamp is when it read the WAL,
    // before a paused or slow task hands the record over)
    'topic.creation.default.replication.factor=-1',
    'topic.creation.default.partitions=-1',
    'topic.creation.default.message.timestamp.type=LogAppendTime',
    '',
  ].join('\n'));
  fs.appendFileSync(connectLog(), `\n=== ${new Date().toISOString()} starting Kafka Connect ${CONNECT_VERSION}\n`);
  return spawnDetached(
    'connect',
    [
      '-Xms128m', '-Xmx384m', '-XX:+ExitOnOutOfMemoryError', '-Djava.awt.headless=true',
      `-Dlog4j2.configurationFile=${log4jPath()}`,
      `-Devt.log.file=${connectLog()}`,
      dirTag(),
      roleTag('connect'),
      '-cp', path.join(connectHome(), 'libs', '*'),
      'org.apache.kafka.connect.cli.ConnectStandalone',
      worker,
      connector,
    ],
    { cwd: dir, logFile: connectLog() },
  );
}

/** Waits until the outbox connector and its task run (Connect's REST API). */
async function waitForConnect(deadline) {
  let last = 'no answer yet';
  for (;;) {
    if (!alivePid('connect')) throw startupFailure('Kafka Connect exited during startup.', [connectLog()]);
    try {
      const res = await fetch(`http://${HOST}:${CONNECT_PORT}/connectors/${OUTBOX_CONNECTOR}/status`, { signal: AbortSignal.timeout(2000) });
      const body = await res.json();
      const task = body.tasks?.[0];
      if (body.connector?.state === 'RUNNING' && task?.state === 'RUNNING') return;
      if (task?.state === 'FAILED') throw startupFailure(`The outbox connector failed: ${String(task.trace ?? '').split('\n')[0]}`, [connectLog()]);
      last = `connector ${body.connector?.state ?? res.status}, task ${task?.state ?? 'none'}`;
    } catch (err) {
      if (err instanceof ClusterError) throw err;
      last = err.message;
    }
    if (Date.now() > deadline) throw startupFailure(`The outbox relay did not start in time (${last}).`, [connectLog()]);
    await sleep(500);
  }
}

/**
 * For outbox tests: stops the relay. SIGTERM stops it cleanly (it records its position first);
 * SIGKILL does not, so rows it published since its last flush are published again on restart.
 * Call up() with the same options to start it again.
 * @param {{signal?: NodeJS.Signals, waitMs?: number}} [opts]
 * @returns {Promise<boolean>} false if it was not running
 */
export async function stopRelay({ signal = 'SIGTERM', waitMs = 30_000 } = {}) {
  const pid = alivePid('connect');
  if (!pid) return false;
  process.kill(pid, signal);
  const deadline = Date.now() + waitMs;
  while (isOurs(pid, 'connect')) {
    if (Date.now() > deadline) throw new ClusterError(`connect (pid ${pid}) still runs ${waitMs} ms after ${signal}`);
    await sleep(100);
  }
  fs.rmSync(pidFile('connect'), { force: true });
  return true;
}

// ---------------------------------------------------------------------------------------------
// CLI

const USAGE = `Usage: node scripts/cluster.mjs <command> [options]

Commands:
  up       start (or reuse) a local Kafka ${KAFKA_VERSION} cluster + Apicurio Registry ${REGISTRY_VERSION}
  down     stop what \`up\` started and delete its data (logs are kept)
  status   show what runs where; exit 0 if everything answers, 1 if not

Options for up (each also as an environment variable):
  --brokers N            1..3 KRaft nodes                        EVT_CLUSTER_BROKERS (default 1)
  --rebalance-delay MS   group.initial.rebalance.delay.ms         EVT_CLUSTER_REBALANCE_DELAY_MS (default 0)
  --no-registry          do not start Apicurio Registry           EVT_CLUSTER_REGISTRY=0
  --postgres             also start PostgreSQL on :15432 (database evt, user postgres, trust)
                                                                  EVT_CLUSTER_POSTGRES=1
  --outbox               PostgreSQL with logical replication, an outbox table and a relay:
                         Kafka Connect ${CONNECT_VERSION} running Debezium ${DEBEZIUM_VERSION}'s
                         outbox event router (REST on :8083)       EVT_CLUSTER_OUTBOX=1
  --sasl-ssl             add the secured listeners: SASL_SSL (SCRAM-SHA-256/512),
                         MTLS (client certificates) and OAUTH (OAUTHBEARER)  EVT_CLUSTER_SASL_SSL=1
  --restart              replace a running cluster that has other options  EVT_CLUSTER_RESTART=1
  --timeout MS           readiness timeout                        EVT_CLUSTER_TIMEOUT_MS (default ${DEFAULT_TIMEOUT_MS})
  --json                 print the cluster description as JSON (up, status)
Options for down:
  --keep-data            keep .cluster/ data (next \`up\` restarts on it)  EVT_CLUSTER_KEEP_DATA=1

See docs/LOCAL-CLUSTER.md.`;

function parseCli(argv) {
  const [first, ...others] = argv;
  const [command, rest] = first?.startsWith('-') ? [undefined, argv] : [first, others];
  const opts = {};
  const flags = { json: false, help: false };
  const value = (name, i) => {
    const v = rest[i + 1];
    if (v === undefined || v.startsWith('--')) throw new ClusterError(`${name} needs a value`);
    return v;
  };
  const int = (name, v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new ClusterError(`${name} must be a non-negative integer, got "${v}"`);
    return n;
  };
  for (let i = 0; i < rest.length; i++) {
    let arg = rest[i];
    let inline;
    if (arg.startsWith('--') && arg.includes('=')) [arg, inline] = [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)];
    const take = () => (inline !== undefined ? inline : value(arg, i++));
    switch (arg) {
      case '--brokers': opts.brokers = int(arg, take()); break;
      case '--rebalance-delay': opts.rebalanceDelayMs = int(arg, take()); break;
      case '--timeout': opts.timeoutMs = int(arg, take()); break;
      case '--registry': opts.registry = true; break;
      case '--no-registry': opts.registry = false; break;
      case '--sasl-ssl': opts.saslSsl = true; break;
      case '--postgres': opts.postgres = true; break;
      case '--outbox': opts.outbox = true; break;
      case '--no-sasl-ssl': opts.saslSsl = false; break;
      case '--no-postgres': opts.postgres = false; break;
      case '--restart': opts.restart = true; break;
      case '--keep-data': opts.keepData = true; break;
      case '--json': flags.json = true; break;
      case '-h': case '--help': flags.help = true; break;
      default: throw new ClusterError(`Unknown option ${rest[i]}\n\n${USAGE}`);
    }
  }
  return { command, opts, flags };
}

function printInfo(i) {
  const out = [];
  const o = i.options;
  out.push(`Kafka ${i.kafkaVersion} (KRaft, ${o.brokers} combined node${o.brokers > 1 ? 's' : ''}), cluster id ${i.clusterId}`);
  out.push(`  options: ${describeOptions(o)}`);
  out.push(`  bootstrap (PLAINTEXT): ${i.bootstrapServers.join(',')}`);
  for (const b of i.brokers) {
    out.push(
      `  node ${b.nodeId}: ${b.alive ? `pid ${b.pid}` : 'NOT RUNNING'}, client ${b.host}:${b.port}, controller ${b.host}:${b.controllerPort}` +
        `${b.saslSslPort ? `, SASL_SSL ${b.host}:${b.saslSslPort}, MTLS ${b.host}:${b.mtlsPort}, OAUTH ${b.host}:${b.oauthPort}` : ''}\n           log ${rel(b.log)} (stdout: ${rel(b.stdoutLog)})`,
    );
  }
  if (i.registeredBrokers !== null && i.registeredBrokers !== undefined) out.push(`  registered brokers (describeCluster): ${i.registeredBrokers}`);
  if (i.saslSsl) {
    const u = i.saslSsl.users[0];
    out.push(`  SASL_SSL: ${i.saslSsl.bootstrapServers.join(',')}  mechanisms ${i.saslSsl.mechanisms.join(', ')}  user ${u.username} / ${u.password}`);
    out.push(`    CA certificate (trust this): ${i.saslSsl.caPath}`);
    out.push(
      `    kcat: kcat -b ${i.saslSsl.bootstrapServers[0]} -X security.protocol=SASL_SSL -X sasl.mechanisms=SCRAM-SHA-256 ` +
        `-X sasl.username=${u.username} -X sasl.password=${u.password} -X ssl.ca.location=${rel(i.saslSsl.caPath)} -L`,
    );
  }
  if (i.mtls) {
    out.push(`  MTLS (SSL, client certificate required): ${i.mtls.bootstrapServers.join(',')}`);
    out.push(`    client certificate ${rel(i.mtls.cert)}, key ${rel(i.mtls.key)} (or ${rel(i.mtls.encryptedKey)}, passphrase ${i.mtls.keyPassphrase})`);
    out.push(`    refused: ${rel(i.mtls.untrustedCert)} + ${rel(i.mtls.untrustedKey)} (signed by an untrusted CA)`);
  }
  if (i.oauth) {
    out.push(`  OAUTH (SASL_SSL, OAUTHBEARER, unsecured JWT validator): ${i.oauth.bootstrapServers.join(',')}  token: {"alg":"none"} JWS with sub and a future exp`);
    out.push(
      `    kcat: kcat -b ${i.oauth.bootstrapServers[0]} -X security.protocol=SASL_SSL -X sasl.mechanisms=OAUTHBEARER ` +
        `-X enable.sasl.oauthbearer.unsecure.jwt=true -X sasl.oauthbearer.config=principal=evt -X ssl.ca.location=${rel(i.oauth.caPath)} -L`,
    );
  }
  if (i.registry) {
    out.push(`Apicurio Registry ${i.registryVersion}: ${i.registry.url}  (${i.registry.alive ? `pid ${i.registry.pid}` : 'NOT RUNNING'})`);
    out.push(`  log ${rel(i.registry.log)}`);
  } else out.push('Registry: off');
  if (i.postgres) out.push(`PostgreSQL: ${i.postgres.url}  (${i.postgres.alive ? `pid ${i.postgres.pid}` : 'NOT RUNNING'})  log ${rel(i.postgres.log)}`);
  if (i.outbox) {
    out.push(`Outbox relay: Kafka Connect ${CONNECT_VERSION} + Debezium ${DEBEZIUM_VERSION}, connector ${i.outbox.connector} on table ${i.outbox.table} → ${i.outbox.topicPrefix}<aggregatetype>  (${i.outbox.alive ? `pid ${i.outbox.pid}` : 'NOT RUNNING'})`);
    out.push(`  REST ${i.outbox.restUrl}  log ${rel(i.outbox.log)}`);
  }
  out.push(`State: ${rel(i.stateDir)}  Logs: ${rel(i.logsDir)}`);
  if (i.problems?.length) out.push(`Problems: ${i.problems.join('; ')}`);
  return out.join('\n');
}

async function main(argv) {
  const { command, opts, flags } = parseCli(argv);
  if (flags.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return command || flags.help ? 0 : 2;
  }
  switch (command) {
    case 'up': {
      const i = await up(opts);
      process.stdout.write(flags.json ? `${JSON.stringify(i, null, 2)}\n` : `${printInfo(i)}\n`);
      return 0;
    }
    case 'down':
      await down(opts);
      return 0;
    case 'status': {
      const s = await status();
      if (flags.json) process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
      else if (!s.options) process.stdout.write(`Local cluster: not running (${s.reason}).\n`);
      else process.stdout.write(`Local cluster: ${s.running ? 'UP' : 'NOT OK'}\n${printInfo(s)}\n`);
      return s.running ? 0 : 1;
    }
    default:
      throw new ClusterError(`Unknown command "${command}"\n\n${USAGE}`);
  }
}

function isEntryPoint() {
  if (!process.argv[1]) return false;
  try {
    return import.meta.url === pathToFileURL(fs.realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  // kafkajs 2.2.4 on Node 24 emits a harmless TimeoutNegativeWarning (tulios/kafkajs#1751); hide only that one.
  process.removeAllListeners('warning');
  process.on('warning', (w) => {
    if (w.name !== 'TimeoutNegativeWarning') process.stderr.write(`(node:${process.pid}) ${w.name}: ${w.message}\n`);
  });
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(err instanceof ClusterError ? `cluster: ${err.message}\n` : `${err.stack ?? err}\n`);
      process.exit(1);
    },
  );
}
