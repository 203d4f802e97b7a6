import pg from 'pg';
import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * The PostgreSQL connection pool, with the session settings durability depends on, the
 * probe behind `/healthz`, and metrics of the connections.
 *
 * Client: `pg` (node-postgres) with `pipeline: true`. Queries issued on one connection
 * without waiting for each other go out back to back, so a group commit costs two round
 * trips whatever its size (see pg-commit.ts). node-postgres is the most used PostgreSQL
 * client for Node, pure JavaScript, and its pool reports connection errors as events
 * instead of crashing. We first used `postgres` (postgres.js, pipelined by default) and
 * dropped it: in 3.4.9 a connection that closes while a small write is pending throws
 * from a `setImmediate` (`socket.write` on null), an uncaught exception that takes the
 * node down when PostgreSQL restarts; our fault test reproduced it (upstream issues
 * #1066, #1154, #1208, fix unreleased).
 */

/** One statement: `name` makes it a prepared statement on each connection (hot paths). */
export interface Statement {
  name?: string;
  text: string;
  values?: unknown[];
}

export type PgConn = pg.PoolClient;

/** An open transaction (see PgClient.transaction). */
export interface Tx {
  readonly conn: PgConn;
  /** Resolves once BEGIN succeeded; await it before the first write. */
  readonly begun: Promise<void>;
  /** Sends COMMIT (pipelined behind what is in flight); rejects when it did not commit. */
  commit(): Promise<void>;
}

export interface PgClientOptions {
  url: string;
  /** Connections in the pool. */
  max: number;
  /** Prometheus registry for the connection metrics (none when absent). */
  registry?: Registry;
  /** Told about connection errors the pool saw on idle connections (the node logs them). */
  onError?: (err: Error) => void;
}

/** Milliseconds a query may wait for a connection (and a new connection may take). */
const CONNECT_TIMEOUT_MS = 5000;
/**
 * Milliseconds a query may take before its connection is dropped: bounds what a hung
 * server (SIGSTOP, a network black hole) can hold up. A commit that times out is answered
 * `internal`; if it committed after all, the client's resend is answered `sent` as a
 * duplicate.
 */
const QUERY_TIMEOUT_MS = 30_000;
/** A health probe that takes longer than this counts as unreachable. */
const PROBE_TIMEOUT_MS = 2000;
/** A good health result is reused for this long, so a busy `/healthz` costs one query a second. */
const PROBE_FRESH_MS = 1000;

/** int8 (sequences, timestamps, counts) as numbers: every one we store stays below 2^53. */
const INT8_OID = 20;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID
      ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export class PgClient {
  private readonly pool: pg.Pool;
  private probe: Promise<boolean> | null = null;
  private lastGood = 0;
  private readonly up: Gauge;
  /**
   * The health probe's own connection, outside the pool: a pool busy with replays and
   * commits must not make a working node look dead to its load balancer.
   */
  private probeConn: pg.Client | null = null;
  private closed = false;
  private readonly url: string;

  constructor(opts: PgClientOptions) {
    this.url = opts.url;
    const registers = opts.registry ? [opts.registry] : [];
    this.pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.max,
      pipeline: true,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      query_timeout: QUERY_TIMEOUT_MS,
      keepAlive: true,
      application_name: 'pigeon',
      // `sent` means committed: no server, database or role default may turn the WAL flush
      // off for our sessions. UTC and quiet notices make every node behave alike.
      options: '-c synchronous_commit=on -c TimeZone=UTC -c client_min_messages=warning',
      types,
    });
    const errors = new Counter({
      name: 'pigeon_db_connection_errors_total',
      help: 'PostgreSQL connections that failed or broke (server restart, network)',
      registers,
    });
    // Without a listener an idle connection's error would be an uncaught 'error' event.
    this.pool.on('error', (err) => {
      errors.inc();
      opts.onError?.(err);
    });
    const self = this;
    this.up = new Gauge({
      name: 'pigeon_db_up',
      help: 'PostgreSQL answers the health probe (1) or not (0); a scrape probes when the last answer is over a second old',
      registers,
      async collect() {
        await self.healthy();
      },
    });
    const pool = this.pool;
    new Gauge({
      name: 'pigeon_db_pool_connections',
      help: 'PostgreSQL connections of this node, by state',
      labelNames: ['state'],
      registers,
      collect() {
        this.set({ state: 'idle' }, pool.idleCount);
        this.set({ state: 'busy' }, pool.totalCount - pool.idleCount);
      },
    });
    new Gauge({
      name: 'pigeon_db_pool_waiting',
      help: 'Queries waiting for a free PostgreSQL connection',
      registers,
      collect() {
        this.set(pool.waitingCount);
      },
    });
    new Gauge({
      name: 'pigeon_db_pool_max',
      help: 'PostgreSQL connections this node may open',
      registers,
    }).set(opts.max);
  }

  /** Runs one statement on any connection; resolves with its rows. */
  async query<R>(statement: Statement): Promise<R[]> {
    const result = await this.pool.query(statement as pg.QueryConfig);
    return result.rows as R[];
  }

  /**
   * Runs `fn` on one connection of its own (a transaction, a session advisory lock). A
   * connection that broke meanwhile, or that `fn` failed on, is dropped instead of going
   * back to the pool, so no half-finished transaction is ever handed to someone else.
   */
  async withConnection<T>(fn: (conn: PgConn) => Promise<T>): Promise<T> {
    const conn = await this.pool.connect();
    let broken: Error | undefined;
    // A checked-out connection has no listener of the pool's: without ours, a server
    // restart would be an uncaught 'error' event. The failing query rejects as well.
    const onError = (err: Error) => {
      broken = err;
    };
    conn.on('error', onError);
    try {
      return await fn(conn);
    } catch (err) {
      broken ??= err instanceof Error ? err : new Error(String(err));
      throw err;
    } finally {
      conn.removeListener('error', onError);
      conn.release(broken);
    }
  }

  /**
   * Runs `fn` between BEGIN and COMMIT on one connection, in as few round trips as the
   * statements allow: BEGIN goes out with the first statements `fn` sends (which must
   * await `tx.begun` with their results before writing anything), and `tx.commit()`,
   * called with the last statements still in flight, goes out right behind them. A failure
   * anywhere rolls back.
   */
  async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.withConnection(async (conn) => {
      let committed = false;
      const begun = conn.query('BEGIN').then(() => undefined);
      // Awaited by fn; this keeps an early failure of fn from leaving it unhandled.
      begun.catch(() => {});
      const tx: Tx = {
        conn,
        begun,
        async commit() {
          committed = true;
          const r = await conn.query('COMMIT');
          // COMMIT of a transaction an earlier statement aborted answers ROLLBACK, not an error.
          if (r.command !== 'COMMIT') throw new Error(`transaction rolled back (${r.command})`);
        },
      };
      try {
        const result = await fn(tx);
        if (!committed) await tx.commit();
        return result;
      } catch (err) {
        if (!committed) await conn.query('ROLLBACK').catch(() => {});
        throw err;
      }
    });
  }

  /** True when PostgreSQL answered a query within the probe timeout (a good answer is reused for a second). */
  healthy(): Promise<boolean> {
    if (Date.now() - this.lastGood < PROBE_FRESH_MS) return Promise.resolve(true);
    this.probe ??= this.check().finally(() => {
      this.probe = null;
    });
    return this.probe;
  }

  private async check(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), PROBE_TIMEOUT_MS);
    });
    // A kept connection may have died with a server restart since the last probe: one
    // retry on a fresh connection tells that apart from PostgreSQL being down.
    const reused = this.probeConn !== null;
    const query = this.probeQuery()
      .catch((err: unknown) => {
        if (!reused) throw err;
        this.dropProbeConn();
        return this.probeQuery();
      })
      .then(
        () => true,
        () => false,
      );
    const ok = await Promise.race([query, timeout]);
    clearTimeout(timer);
    // A connection that failed or hung is dropped; the next probe opens a new one.
    if (!ok) this.dropProbeConn();
    this.up.set(ok ? 1 : 0);
    if (ok) this.lastGood = Date.now();
    return ok;
  }

  private async probeQuery(): Promise<void> {
    if (this.closed) throw new Error('closed');
    if (!this.probeConn) {
      const conn = new pg.Client({
        connectionString: this.url,
        connectionTimeoutMillis: PROBE_TIMEOUT_MS,
        application_name: 'pigeon-health',
      });
      // Errors surface through the failing query; without a listener they would be uncaught.
      conn.on('error', () => {});
      this.probeConn = conn;
      await conn.connect();
    }
    await this.probeConn.query('SELECT 1');
  }

  private dropProbeConn(): void {
    const conn = this.probeConn;
    this.probeConn = null;
    conn?.end().catch(() => {});
  }

  async close(): Promise<void> {
    this.closed = true;
    this.dropProbeConn();
    await this.pool.end();
  }
}
