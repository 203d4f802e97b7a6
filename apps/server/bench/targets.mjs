// The servers `npm run bench` measures and their users: the Pigeon server (every rate limit
// lifted, so the limits are not what is measured) and the two relays that store nothing
// (baseline-relay.mjs, socketio-relay.mjs); accounts registered over HTTP or host JWTs.
import { createHmac, randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, HOST, sleep, startNode, stopNode } from './processes.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));

const SECRET = randomBytes(32).toString('hex');
const JWT_SECRET = randomBytes(32).toString('hex');

function serverEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PIGEON_')) env[k] = v;
  return { ...env, HOST, LOG_LEVEL: 'warn', NODE_ENV: 'production', ...extra };
}

/**
 * Starts the Pigeon server `o.main` on a database in `dbDir`; `o.serverRate` lifts every rate
 * limit out of the way, `o.extraEnv` adds variables (experiments). Resolves once /healthz is 200.
 */
export async function startPigeon(o, dbDir, nodeArgs = [], cpu = 0) {
  const port = await freePort();
  const env = serverEnv({
    PORT: String(port),
    PIGEON_DB: join(dbDir, 'pigeon.db'),
    PIGEON_SECRET: SECRET,
    PIGEON_JWT_SECRET: JWT_SECRET,
    PIGEON_RATE: String(o.serverRate),
    PIGEON_AUTH_RATE: String(o.serverRate),
    // The abuse bounds (issue 9) are not what is measured either: every connection comes
    // from one address, and the load generator's users send and connect far faster than
    // a person.
    PIGEON_FRAME_RATE: String(o.serverRate),
    PIGEON_READ_RATE: String(o.serverRate),
    PIGEON_HELLO_RATE: String(o.serverRate),
    PIGEON_HELLO_RATE_IP: String(o.serverRate),
    PIGEON_MAX_CONNS_PER_IP: String(o.serverRate),
    PIGEON_MAX_CONNS_PER_USER: String(o.serverRate),
    ...o.extraEnv,
  });
  const p = startNode('pigeon', o.main, [], env, cpu, nodeArgs);
  const url = `http://${HOST}:${port}`;
  const t0 = Date.now();
  while (Date.now() - t0 < 20_000) {
    if (!p.isRunning()) throw new Error(`pigeon server exited at start:\n${p.tail.join('\n')}`);
    try {
      const r = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (r.status === 200) return { ...p, url: `ws://${HOST}:${port}`, httpUrl: url };
    } catch {}
    await sleep(50);
  }
  await stopNode(p);
  throw new Error(`pigeon server not healthy within 20 s:\n${p.tail.join('\n')}`);
}

/** One of the two relays that store nothing: `baseline` (bare ws) or `socketio`. */
export async function startRelay(kind, nodeArgs = [], cpu = 0) {
  const port = await freePort();
  const script = kind === 'socketio' ? 'socketio-relay.mjs' : 'baseline-relay.mjs';
  const p = startNode(kind, join(HERE, script), [], serverEnv({ PORT: String(port) }), cpu, nodeArgs);
  await new Promise((res, rej) => {
    const timer = setTimeout(
      () => rej(new Error(`${kind} relay not listening within 10 s:\n${p.tail.join('\n')}`)),
      10_000,
    );
    p.listeners.add((line) => {
      if (line.includes('"listening"')) {
        clearTimeout(timer);
        res();
      }
    });
    void p.exited.then(() => rej(new Error(`${kind} relay exited at start:\n${p.tail.join('\n')}`)));
  });
  return { ...p, url: `ws://${HOST}:${port}` };
}

/** Names users of this run apart from any earlier run on the same database. */
export const RUN = randomBytes(3).toString('hex');
const PASSWORD = 'bench-password-1';
const b64url = (s) => Buffer.from(s).toString('base64url');
export function jwtFor(sub) {
  const iat = Math.floor(Date.now() / 1000);
  const head = `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify({ sub, iat, exp: iat + 3600 }))}`;
  return `${head}.${createHmac('sha256', JWT_SECRET).update(head).digest('base64url')}`;
}

async function register(httpUrl, user) {
  for (let attempt = 0; attempt < 5; attempt++) {
    const r = await fetch(`${httpUrl}/api/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user, password: PASSWORD }),
      signal: AbortSignal.timeout(15_000),
    });
    const body = await r.json().catch(() => ({}));
    if (r.status === 201 && typeof body.token === 'string')
      return { user: body.user ?? user, token: body.token };
    if (r.status !== 429) throw new Error(`register ${user}: HTTP ${r.status} ${JSON.stringify(body)}`);
    await sleep(Math.min(2000, Number(r.headers.get('retry-after') ?? 1) * 1000));
  }
  throw new Error(`register ${user}: still rate limited`);
}

export async function registerAll(httpUrl, names, concurrency = 8) {
  const out = new Array(names.length);
  let next = 0;
  const worker = async () => {
    while (next < names.length) {
      const i = next++;
      out[i] = await register(httpUrl, names[i]);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
}
