import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The server's Prometheus metrics, in a registry of its own (several servers can share a process). */
export class Metrics {
  readonly registry = new Registry();
  readonly connectionsOpen: Gauge<'kind'>;
  readonly framesIn: Counter<'type'>;
  readonly framesOut: Counter<'type'>;
  readonly messagesStored: Counter;
  readonly commitSeconds: Histogram;
  readonly commitBatchSize: Histogram;
  readonly errors: Counter<'code'>;
  readonly replayEntries: Histogram;
  readonly closes: Counter<'code'>;
  readonly httpRequests: Counter<'route' | 'status'>;
  readonly limitHits: Counter<'limit'>;
  readonly limitValue: Gauge<'limit'>;
  /*
   * Counts the hot path adds to between scrapes, handed to their counters when /metrics is
   * read (`collect`): a prom-client `inc` hashes its labels on every call, and these run
   * three or four times per message.
   */
  private readonly outByType = new Map<string, number>();
  private readonly inByType = new Map<string, number>();
  private storedSince = 0;

  constructor(withDefaults = true) {
    const registers = [this.registry];
    if (withDefaults) collectDefaultMetrics({ register: this.registry, prefix: 'pigeon_process_' });
    this.connectionsOpen = new Gauge({
      name: 'pigeon_connections_open',
      help: 'Open WebSocket connections (after hello for /ws)',
      labelNames: ['kind'],
      registers,
    });
    const inByType = this.inByType;
    const outByType = this.outByType;
    this.framesIn = new Counter({
      name: 'pigeon_frames_in_total',
      help: 'Frames received, by type',
      labelNames: ['type'],
      registers,
      collect() {
        handOver(this, inByType);
      },
    });
    this.framesOut = new Counter({
      name: 'pigeon_frames_out_total',
      help: 'Frames sent, by type',
      labelNames: ['type'],
      registers,
      collect() {
        handOver(this, outByType);
      },
    });
    const stored = (): number => {
      const n = this.storedSince;
      this.storedSince = 0;
      return n;
    };
    this.messagesStored = new Counter({
      name: 'pigeon_messages_stored_total',
      help: 'Messages stored (each once, however many entries it makes)',
      registers,
      collect() {
        const n = stored();
        if (n > 0) this.inc(n);
      },
    });
    this.commitSeconds = new Histogram({
      name: 'pigeon_store_commit_seconds',
      help: 'Latency of one group-commit transaction',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.commitBatchSize = new Histogram({
      name: 'pigeon_store_commit_batch_size',
      help: 'Operations (sends and acks) in one group commit',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
      registers,
    });
    this.errors = new Counter({
      name: 'pigeon_errors_total',
      help: 'Error frames and HTTP errors sent, by code',
      labelNames: ['code'],
      registers,
    });
    this.replayEntries = new Histogram({
      name: 'pigeon_backlog_replay_entries',
      help: 'Entries replayed to a connection between welcome and synced',
      buckets: [0, 1, 10, 100, 1000, 10_000, 100_000],
      registers,
    });
    this.closes = new Counter({
      name: 'pigeon_connection_closes_total',
      help: 'Closed connections, by close code',
      labelNames: ['code'],
      registers,
    });
    this.limitHits = new Counter({
      name: 'pigeon_limit_hits_total',
      help: 'Times a limit refused, dropped or deferred something, by limit',
      labelNames: ['limit'],
      registers,
    });
    this.limitValue = new Gauge({
      name: 'pigeon_limit_value',
      help: 'The configured value of each limit (its unit is in the README)',
      labelNames: ['limit'],
      registers,
    });
    this.httpRequests = new Counter({
      name: 'pigeon_http_requests_total',
      help: 'HTTP requests, by route and status',
      labelNames: ['route', 'status'],
      registers,
    });
  }

  frameOut(type: string): void {
    this.outByType.set(type, (this.outByType.get(type) ?? 0) + 1);
  }

  frameIn(type: string): void {
    this.inByType.set(type, (this.inByType.get(type) ?? 0) + 1);
  }

  messageStored(): void {
    this.storedSince++;
  }
}

/** Adds the counts gathered since the last scrape to `counter`, by type, and starts over. */
function handOver(counter: Counter<'type'>, counts: Map<string, number>): void {
  for (const [type, n] of counts) if (n > 0) counter.inc({ type }, n);
  counts.clear();
}
