// PostgreSQL for `npm run cluster` (run.mjs): Debian's binaries run as a foreground child,
// as the postgres user when we are root (initdb and postgres refuse root), its data kept
// between runs.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, say, which } from './processes.mjs';

const isRoot = process.getuid?.() === 0;

/** The bin directory of the newest PostgreSQL under /usr/lib/postgresql, or null. */
export function findPgBin() {
  const base = '/usr/lib/postgresql';
  try {
    const versions = fs
      .readdirSync(base)
      .filter((v) => fs.existsSync(path.join(base, v, 'bin/postgres')))
      .sort((a, b) => Number(b) - Number(a));
    return versions[0] ? path.join(base, versions[0], 'bin') : null;
  } catch {
    return null;
  }
}

/** As root, PostgreSQL must run as `postgres` (initdb and postgres refuse root). */
function asPg(file, args) {
  return isRoot ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
}

function postgresIds() {
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
  return { uid, gid };
}

/** True when the postgres user can write `dir` (every parent must let it through). */
function postgresCanWrite(dir) {
  try {
    execFileSync('runuser', ['-u', 'postgres', '--', 'test', '-w', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * PostgreSQL's directory: `<data>/pg`, owned by the postgres user when we are root. A
 * checkout under a private home (/root is 0700 on Debian) is out of that user's reach:
 * then the data goes to /var/tmp/pigeon-cluster-<hash of the data path>, said out loud.
 */
function postgresDir(data, ids) {
  const dir = path.join(data, 'pg');
  fs.mkdirSync(dir, { recursive: true });
  if (!ids) return dir;
  execFileSync('chown', ['-R', `${ids.uid}:${ids.gid}`, dir]);
  if (postgresCanWrite(dir)) return dir;
  const hash = createHash('sha256').update(data).digest('hex').slice(0, 12);
  const outside = `/var/tmp/pigeon-cluster-${hash}/pg`;
  fs.mkdirSync(outside, { recursive: true, mode: 0o755 });
  fs.chmodSync(path.dirname(outside), 0o755);
  execFileSync('chown', ['-R', `${ids.uid}:${ids.gid}`, outside]);
  say(`   the postgres user cannot reach ${dir} (a parent directory is private):`);
  say(`   PostgreSQL's data goes to ${outside} instead (set CLUSTER_DATA to choose)`);
  if (!postgresCanWrite(outside)) throw new Error(`the postgres user cannot write ${outside} either`);
  return outside;
}

/**
 * Starts PostgreSQL as a child of `children` (a Children), creating the cluster on the
 * first run and the `pigeon` database when missing; resolves with its URL, port and data
 * directory once it answers.
 */
export async function startPostgres(children, { bin, data, logDir }) {
  const ids = isRoot ? postgresIds() : null;
  const dir = postgresDir(data, ids);
  const pgData = path.join(dir, 'data');
  if (!fs.existsSync(path.join(pgData, 'PG_VERSION'))) {
    say('   initdb (first run)…');
    const [file, args] = asPg(path.join(bin, 'initdb'), [
      '-D',
      pgData,
      '-U',
      'pigeon',
      '-A',
      'trust',
      '-E',
      'UTF8',
      '--locale=C',
    ]);
    execFileSync(file, args, { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const port = await freePort();
  // Durability settings spelled out (they are PostgreSQL's defaults): a commit returns only
  // after its WAL is flushed, which is when a node answers `sent`.
  // The postmaster runs as our direct child (as root: with the postgres user's ids) rather
  // than under runuser, so the stop signal reaches it and its exit is the cluster's to see.
  children.start(
    'PostgreSQL',
    path.join(bin, 'postgres'),
    [
      '-D',
      pgData,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${dir}`,
      '-c',
      'fsync=on',
      '-c',
      'synchronous_commit=on',
      '-c',
      'max_connections=200',
    ],
    {
      cwd: dir,
      log: path.join(logDir, 'postgres.log'),
      critical: true,
      // The postmaster's fast shutdown: sessions end, the checkpoint is written.
      stop: 'SIGINT',
      user: ids ?? undefined,
    },
  );
  const psql = which('psql', ['/usr/bin/psql', path.join(bin, 'psql')]);
  const url = (db) => `postgres://pigeon@127.0.0.1:${port}/${db}`;
  await children.waitFor('PostgreSQL', async () => {
    execFileSync(psql, [url('postgres'), '-Atqc', 'SELECT 1'], { stdio: 'ignore' });
    return true;
  });
  const exists = execFileSync(
    psql,
    [url('postgres'), '-Atqc', "SELECT 1 FROM pg_database WHERE datname = 'pigeon'"],
    {
      encoding: 'utf8',
    },
  ).trim();
  if (exists !== '1')
    execFileSync(psql, [url('postgres'), '-qc', 'CREATE DATABASE pigeon'], { stdio: 'ignore' });
  return { url: url('pigeon'), port, dir: pgData };
}
