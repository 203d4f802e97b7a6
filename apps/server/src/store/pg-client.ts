import postgres from 'postgres';
import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * The PostgreSQL connection pool, with the session settings durability depends on, and the
 * probe behind `/healthz`.
 *
 * Client: `postgres` (postgres.js). It pipelines: queries issued without waiting for each
 * other go out back to back on one connection, so a group commit costs two round trips
 * whatever its size (see pg-store.ts). It prepares each statement once per connection,
 * reconnects by itself after the server restarts, has no native parts and no dependencies.
 */
export type Sql = postgres.Sql<{ bigint: number }>;

export interface PgClientOptions {
  url: string;
  /** Connections in the pool. */
  max: number;
  /** Prometheus registry for the connection metrics (none when absent). */
  registry?: Registry;
}

/** Seconds a new connection may take; a send waits at most this long for a connection. */
const CONNECT_TIMEOUT_S = 5;
/** A health probe that takes longer than this counts as unreachable. */
const PROBE_TIMEOUT_MS = 2000;
/** A health result is reused for this long, so a busy `/healthz` costs one query a second. */
const PROBE_FRESH_MS = 1000;

export interface PgClient {
  readonly sql: Sql;
  /** True when PostgreSQL answered a query within the probe timeout (cached for a second). */
  healthy(): Promise<boolean>;
  close(): Promise<void>;
}

export function createPgClient(opts: PgClientOptions): PgClient {
  const registers = opts.registry ? [opts.registry] : [];
  const up = new Gauge({
    name: 'pigeon_db_up',
    help: 'PostgreSQL answered the last health probe (1) or not (0)',
    registers,
  });
  const poolMax = new Gauge({
    name: 'pigeon_db_pool_max',
    help: 'Connections the PostgreSQL pool may open',
    registers,
  });
  const closed = new Counter({
    name: 'pigeon_db_connections_closed_total',
    help: 'PostgreSQL connections that closed (server restart, network, idle end)',
    registers,
  });
  poolMax.set(opts.max);
  const sql: Sql = postgres(opts.url, {
    max: opts.max,
    connect_timeout: CONNECT_TIMEOUT_S,
    // `sent` means committed: make sure no server or role default turned the WAL flush off
    // for our sessions. The rest keep behaviour identical whatever the server's defaults.
    connection: {
      synchronous_commit: 'on',
      application_name: 'pigeon',
      client_min_messages: 'warning',
      TimeZone: 'UTC',
    },
    // Sequences, timestamps and counts are int8; every one we store stays below 2^53.
    types: {
      bigint: {
        to: 20,
        from: [20],
        serialize: (x: number) => String(x),
        parse: (x: string) => Number(x),
      },
    },
    onnotice: () => {},
    onclose: () => closed.inc(),
  });

  let probe: Promise<boolean> | null = null;
  let last = { at: 0, ok: false };
  const check = async (): Promise<boolean> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), PROBE_TIMEOUT_MS);
    });
    const query = sql`SELECT 1 AS ok`.then(
      () => true,
      () => false,
    );
    const ok = await Promise.race([query, timeout]);
    clearTimeout(timer);
    up.set(ok ? 1 : 0);
    last = { at: Date.now(), ok };
    return ok;
  };

  return {
    sql,
    healthy() {
      if (Date.now() - last.at < PROBE_FRESH_MS) return Promise.resolve(last.ok);
      probe ??= check().finally(() => {
        probe = null;
      });
      return probe;
    },
    async close() {
      await sql.end({ timeout: 5 });
    },
  };
}
