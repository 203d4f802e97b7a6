import { execFile, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

/**
 * A real PostgreSQL for tests: `initdb` + `pg_ctl` from Debian's packages in a fresh temp
 * directory, listening on 127.0.0.1 on a free port, stopped and removed by `destroy()`.
 * initdb and the postmaster refuse to run as root, so as root they run as the `postgres`
 * user (`runuser -u postgres --`) in a directory that user owns; as anyone else they run as
 * that user.
 *
 * `fsync` is off by default: the tests simulate process crashes (kill -9, `pg_ctl stop -m
 * immediate`), which the OS page cache survives, and fsync on a 2-core machine shared by
 * every test would only make them slow. `synchronous_commit` is what makes a commit wait
 * for its WAL write and the store sets it on for its own sessions (see pg-client.ts).
 */

const run = promisify(execFile);

export interface PostgresEngine {
  readonly port: number;
  readonly dir: string;
  /** Connection URL of `database` (default `postgres`). */
  url(database?: string): string;
  /** Creates a database (if it does not exist) and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stops the server: `fast` ends sessions cleanly, `immediate` is a crash (recovery at the next start). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Starts it again (same directory, same port). */
  start(): Promise<void>;
  /** Stops it (immediately) and removes its directory. */
  destroy(): Promise<void>;
}

export interface PostgresOptions {
  fsync?: boolean;
}

/** Where Debian keeps the server binaries (pg_dump, pg_restore too); the highest version wins. */
export function findBinDir(): string | null {
  const override = process.env.PIGEON_PG_BIN;
  if (override) return fs.existsSync(path.join(override, 'pg_ctl')) ? override : null;
  const base = '/usr/lib/postgresql';
  let versions: string[];
  try {
    versions = fs.readdirSync(base);
  } catch {
    return null;
  }
  const found = versions
    .filter((v) => fs.existsSync(path.join(base, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return found[0] ? path.join(base, found[0], 'bin') : null;
}

const isRoot = process.getuid?.() === 0;

function postgresIds(): { uid: number; gid: number } | null {
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    return null;
  }
}

/**
 * Whether this machine can run PostgreSQL for tests, and if not, what to install. With
 * `CI=true` a missing engine is an error (the suite must not pass by skipping).
 */
function postgresAvailability(): { ok: true } | { ok: false; why: string } {
  const bin = findBinDir();
  if (!bin) return { ok: false, why: 'PostgreSQL server binaries not found: apt-get install postgresql' };
  if (isRoot && !postgresIds()) return { ok: false, why: 'no `postgres` user to run PostgreSQL as root' };
  return { ok: true };
}

/**
 * True when tests can use PostgreSQL. Otherwise throws under CI=true, and elsewhere prints
 * loudly why the PostgreSQL tests are skipped. Call it at a test file's top level.
 */
export function requirePostgres(what: string): boolean {
  const a = postgresAvailability();
  if (a.ok) return true;
  const message = `${what}: ${a.why}`;
  if (process.env.CI === 'true') throw new Error(`CI=true and PostgreSQL is missing. ${message}`);
  console.warn(`\n*** SKIPPED ${message} ***\n`);
  return false;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Starts a fresh PostgreSQL cluster; throws when that fails (see `requirePostgres`). */
export async function startPostgres(opts: PostgresOptions = {}): Promise<PostgresEngine> {
  const bin = findBinDir();
  if (!bin) throw new Error('PostgreSQL server binaries not found: apt-get install postgresql');
  // Not under PIGEON_TEST_TMP: that root is private to root (0700) and postgres could not
  // reach a directory inside it.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pigeon-pg-'));
  const data = path.join(dir, 'data');
  const ids = isRoot ? postgresIds() : null;
  if (isRoot) {
    if (!ids) throw new Error('no `postgres` user to run PostgreSQL as root');
    fs.chownSync(dir, ids.uid, ids.gid);
  }
  const as = async (cmd: string, args: string[]): Promise<void> => {
    const file = path.join(bin, cmd);
    const [exe, argv] = isRoot ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
    try {
      await run(exe, argv, { cwd: dir, timeout: 60_000 });
    } catch (err) {
      const e = err as Error & { stderr?: string; stdout?: string };
      let log = '';
      try {
        log = fs.readFileSync(path.join(dir, 'log'), 'utf8').slice(-2000);
      } catch {
        // no log yet
      }
      throw new Error(
        `${cmd} ${args.join(' ')} failed: ${e.message}\n${e.stderr ?? ''}${e.stdout ?? ''}\n${log}`,
      );
    }
  };
  await as('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  const port = await freePort();
  // Settings in postgresql.conf (not on the pg_ctl command line) so a restart keeps them.
  fs.appendFileSync(
    path.join(data, 'postgresql.conf'),
    [
      `port = ${port}`,
      "listen_addresses = '127.0.0.1'",
      `unix_socket_directories = '${dir}'`,
      `fsync = ${opts.fsync ? 'on' : 'off'}`,
      'full_page_writes = off',
      'max_connections = 300',
      'shared_buffers = 32MB',
      '',
    ].join('\n'),
  );
  const start = () => as('pg_ctl', ['-D', data, '-l', path.join(dir, 'log'), '-w', '-t', '60', 'start']);
  const stop = (mode: 'fast' | 'immediate' = 'fast') =>
    as('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '60', 'stop']);
  await start();
  let running = true;
  // A test that times out never reaches its destroy(): stop the server when this process
  // exits anyway, so no postmaster outlives the run (pg_ctl daemonizes it).
  const onExit = () => {
    const argv = ['-D', data, '-m', 'immediate', '-w', 'stop'];
    try {
      if (isRoot)
        execFileSync('runuser', ['-u', 'postgres', '--', path.join(bin, 'pg_ctl'), ...argv], {
          stdio: 'ignore',
        });
      else execFileSync(path.join(bin, 'pg_ctl'), argv, { stdio: 'ignore' });
    } catch {
      // already stopped
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  const url = (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`;
  return {
    port,
    dir,
    url,
    async createDatabase(name) {
      await createDatabaseAt(url(), name);
      return url(name);
    },
    async stop(mode) {
      await stop(mode);
      running = false;
    },
    async start() {
      await start();
      running = true;
    },
    async destroy() {
      process.off('exit', onExit);
      if (running) await stop('immediate').catch(() => {});
      running = false;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs `fn` on a connection of its own to `url` (administration in tests). */
export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates database `name` through `adminUrl` unless it exists (several workers may race). */
export async function createDatabaseAt(adminUrl: string, name: string): Promise<void> {
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`not a plain database name: ${name}`);
  await withClient(adminUrl, async (c) => {
    const exists = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) {
      try {
        await c.query(`CREATE DATABASE ${name}`);
      } catch (err) {
        // Created meanwhile by someone else: fine.
        if ((err as { code?: string }).code !== '42P04') throw err;
      }
    }
  });
}

/** A database name unique to this run (lower case: unquoted identifiers fold to it). */
export function uniqueDatabase(prefix = 't'): string {
  return `${prefix}_${crypto.randomBytes(6).toString('hex')}`;
}
