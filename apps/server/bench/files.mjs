// `node bench/files.mjs` (after building the server): the file stores of issue 12 side by
// side. One server on SQLite with the local directory (the embedded default), one on
// PostgreSQL with large objects (the cluster's shared store); each gets the same uploads
// over HTTP (creation + one PATCH each) and the same downloads. Prints a table and writes
// bench/results/files.json. Figures depend on the disk and the load of the machine: take
// them on a quiet one (README "Files: stores measured").
//
// Options: --main=PATH/TO/main.js   --out=PATH   --rounds=N (files per size, default 3)
import { spawn } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { children, cleanup, clusterMissing, dirs, startPostgres, stop } from './cluster-engines.mjs';
import { freePort, HOST } from './processes.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const m = /^--([^=]+)=(.*)$/.exec(a);
    if (!m) throw new Error(`unknown argument ${a} (expected --name=value)`);
    return [m[1], m[2]];
  }),
);
const MAIN = resolve(args.main ?? join(HERE, '..', 'dist', 'main.js'));
const OUT = resolve(args.out ?? join(HERE, 'results', 'files.json'));
const ROUNDS = Number(args.rounds ?? 3);
const SECRET = randomBytes(32).toString('hex');
/** Sizes uploaded, each ROUNDS times (the largest is PIGEON_FILE_MAX). */
const SIZES = [100_000, 1_000_000, 25_000_000];

function jwt(sub) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const iat = Math.floor(Date.now() / 1000);
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub, iat, exp: iat + 3600 })}`;
  return `${head}.${createHmac('sha256', SECRET).update(head).digest('base64url')}`;
}

async function startServer(env) {
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH,
      HOST,
      PORT: String(port),
      LOG_LEVEL: 'warn',
      PIGEON_JWT_SECRET: SECRET,
      PIGEON_UPLOAD_RATE: '1000000',
      PIGEON_FILE_QUOTA: String(10 ** 12),
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.add(child);
  const proc = { child, exited: new Promise((r) => child.once('exit', r)) };
  const url = `http://${HOST}:${port}`;
  for (const deadline = Date.now() + 30_000; ; ) {
    try {
      if ((await fetch(`${url}/healthz`)).status === 200) break;
    } catch {}
    if (Date.now() > deadline) throw new Error('server did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url, proc, pid: child.pid };
}

/** CPU seconds a process used so far (user + system, from /proc; Linux ticks are 1/100 s). */
function cpuSeconds(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After "pid (comm) ": state is field 3, utime field 14, stime field 15.
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

async function upload(url, token, data) {
  const auth = { authorization: `Bearer ${token}` };
  const created = await fetch(`${url}/api/uploads`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'b.bin', type: 'application/octet-stream', size: data.length }),
  });
  if (created.status !== 201) throw new Error(`create: ${created.status} ${await created.text()}`);
  const { id } = await created.json();
  const done = await fetch(`${url}/api/uploads/${id}`, {
    method: 'PATCH',
    headers: { ...auth, 'content-type': 'application/offset+octet-stream', 'upload-offset': '0' },
    body: data,
  });
  if (done.status !== 200) throw new Error(`patch: ${done.status} ${await done.text()}`);
  return id;
}

async function measure(label, server) {
  const token = jwt(`bench${randomBytes(3).toString('hex')}`);
  const rows = [];
  for (const size of SIZES) {
    const files = Array.from({ length: ROUNDS }, () => randomBytes(size));
    const cpu0 = cpuSeconds(server.pid);
    const t0 = performance.now();
    const ids = [];
    for (const f of files) ids.push(await upload(server.url, token, f));
    const upMs = performance.now() - t0;
    const cpu1 = cpuSeconds(server.pid);
    const t1 = performance.now();
    for (let i = 0; i < ids.length; i++) {
      const r = await fetch(`${server.url}/api/files/${ids[i]}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const body = Buffer.from(await r.arrayBuffer());
      if (
        createHash('sha256').update(body).digest('hex') !==
        createHash('sha256').update(files[i]).digest('hex')
      ) {
        throw new Error('downloaded bytes differ');
      }
    }
    const downMs = performance.now() - t1;
    const cpu2 = cpuSeconds(server.pid);
    const mb = (size * ROUNDS) / 1e6;
    rows.push({
      store: label,
      size,
      uploadMBs: +(mb / (upMs / 1000)).toFixed(1),
      uploadMsEach: +(upMs / ROUNDS).toFixed(1),
      nodeCpuMsPerMBUp: +(((cpu1 - cpu0) * 1000) / mb).toFixed(1),
      downloadMBs: +(mb / (downMs / 1000)).toFixed(1),
      nodeCpuMsPerMBDown: +(((cpu2 - cpu1) * 1000) / mb).toFixed(1),
    });
  }
  return rows;
}

async function main() {
  const results = [];
  const dir = mkdtempSync(join(os.tmpdir(), 'pigeon-bench-files-'));
  dirs.add(dir);
  const local = await startServer({ PIGEON_DB: join(dir, 'pigeon.db') });
  results.push(...(await measure('sqlite + directory', local)));
  await stop(local.proc);
  const missing = clusterMissing();
  if (missing) {
    console.log(`PostgreSQL rows skipped: ${missing}`);
  } else {
    const pg = await startPostgres();
    const databaseUrl = pg.createDatabase('files');
    const onPg = await startServer({ PIGEON_DATABASE_URL: databaseUrl });
    results.push(...(await measure('postgres large objects', onPg)));
    await stop(onPg.proc);
    await stop(pg);
  }
  console.table(results);
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(
    OUT,
    `${JSON.stringify({ at: new Date().toISOString(), cpus: os.cpus().length, results }, null, 2)}\n`,
  );
  console.log(`written to ${OUT}`);
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(cleanup);
