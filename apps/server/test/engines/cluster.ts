import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type PostgresEngine, requirePostgres, startPostgres, uniqueDatabase } from './postgres.js';
import { RedisServer, redisAvailable } from './redis.js';

/**
 * A real cluster for the cross-node tests: one PostgreSQL, one redis-server and N server
 * nodes, each `node dist/main.js` in a process of its own (so a test can kill -9 one),
 * all on the same database and Redis. No proxy: tests pick each connection's node.
 */
export interface ClusterOptions {
  nodes?: number;
  /** Extra environment for every node (PIGEON_RATE, PIGEON_AUTH_RATE, …). */
  env?: Record<string, string>;
}

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/main.js');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * One node: `node dist/main.js` (built by the global setup) on a port of its own that it
 * keeps across restarts, so a test can kill -9 it and start it again where clients expect it.
 */
export class NodeProcess {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  port = 0;
  log = '';

  constructor(private readonly env: Record<string, string>) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts it and resolves once /healthz answers 200. */
  async start(): Promise<void> {
    if (this.port === 0) this.port = await freePort();
    const child = spawn(process.execPath, [MAIN], {
      env: { ...process.env, HOST: '127.0.0.1', ...this.env, PORT: String(this.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const collect = (d: Buffer): void => {
      this.log = (this.log + d.toString()).slice(-20_000);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (!this.running) throw new Error(`node exited at start:\n${this.log}`);
      try {
        if ((await fetch(`${this.url}/healthz`)).status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`node not healthy within 30 s:\n${this.log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGTERM (drains: clients see 1001) or SIGKILL (a crash); resolves once it exited. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    child.kill(signal);
    const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(force);
    this.child = null;
  }
}

/** Node liveness in the tests: a killed node's users go offline within this + 1 s. */
export const TEST_NODE_TTL_MS = 2000;

/** True when the cluster tests can run (PostgreSQL and redis-server installed); see the engines' helpers. */
export function clusterAvailable(what: string): boolean {
  const pg = requirePostgres(what);
  const redis = redisAvailable(what);
  return pg && redis;
}

export class Cluster {
  private constructor(
    readonly pg: PostgresEngine,
    readonly databaseUrl: string,
    readonly redis: RedisServer,
    readonly nodes: NodeProcess[],
  ) {}

  static async start(opts: ClusterOptions = {}): Promise<Cluster> {
    const pg = await startPostgres();
    let redis: RedisServer | null = null;
    try {
      redis = await RedisServer.start();
      const databaseUrl = await pg.createDatabase(uniqueDatabase('cluster'));
      const nodes = Array.from(
        { length: opts.nodes ?? 3 },
        () =>
          new NodeProcess({
            PIGEON_DATABASE_URL: databaseUrl,
            PIGEON_REDIS_URL: redis!.url,
            // No PIGEON_SECRET: the token secret is the one kept in the database, shared by all.
            PIGEON_NODE_TTL_MS: String(TEST_NODE_TTL_MS),
            PIGEON_AUTH_RATE: '100000',
            LOG_LEVEL: process.env.TEST_LOG ?? 'warn',
            ...opts.env,
          }),
      );
      const cluster = new Cluster(pg, databaseUrl, redis, nodes);
      try {
        // All at once: they race for the migration lock, as a real rollout would.
        await Promise.all(nodes.map((n) => n.start()));
      } catch (err) {
        await cluster.stop();
        throw err;
      }
      return cluster;
    } catch (err) {
      // Whatever failed, nothing this started may outlive the test run.
      await redis?.stop().catch(() => {});
      await pg.destroy().catch(() => {});
      throw err;
    }
  }

  url(i: number): string {
    return this.node(i).url;
  }

  wsUrl(i: number): string {
    return this.node(i).url.replace(/^http/, 'ws');
  }

  node(i: number): NodeProcess {
    const n = this.nodes[i];
    if (!n) throw new Error(`no node ${i}`);
    return n;
  }

  async stop(): Promise<void> {
    this.redis.signal('SIGCONT');
    await Promise.all(this.nodes.map((n) => n.stop('SIGKILL').catch(() => {})));
    await this.redis.stop().catch(() => {});
    await this.pg.destroy().catch(() => {});
  }
}
