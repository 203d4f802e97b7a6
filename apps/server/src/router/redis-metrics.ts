import { Counter, Gauge, type Registry } from 'prom-client';

/** Metrics of the Redis parts (link, router, presence, limiter), in the server's registry. */
export class RedisMetrics {
  readonly up: Gauge<'connection'>;
  readonly reconnects: Counter<'connection'>;
  readonly published: Counter<'kind'>;
  readonly publishFailures: Counter;
  readonly received: Counter<'kind'>;
  readonly badMessages: Counter;
  readonly repeats: Counter;
  readonly storeReads: Counter<'reason'>;
  readonly entriesFromStore: Counter;
  readonly limiterFallbacks: Counter<'limiter'>;
  readonly nodesReaped: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.up = new Gauge({
      name: 'pigeon_redis_up',
      help: '1 while the Redis connection is ready (cmd: commands and publishes, sub: subscriptions)',
      labelNames: ['connection'],
      registers,
    });
    this.reconnects = new Counter({
      name: 'pigeon_redis_reconnects_total',
      help: 'Times a Redis connection became ready again after it was lost',
      labelNames: ['connection'],
      registers,
    });
    this.published = new Counter({
      name: 'pigeon_redis_published_total',
      help: 'Items published to Redis (one publication per user per event-loop turn), by kind: entry, receipt, typing, poke',
      labelNames: ['kind'],
      registers,
    });
    this.publishFailures = new Counter({
      name: 'pigeon_redis_publish_failures_total',
      help: 'Publishes that failed (their mailboxes are poked once Redis is back)',
      registers,
    });
    this.received = new Counter({
      name: 'pigeon_redis_received_total',
      help: 'Items received from other nodes, by kind: entry, receipt, typing, poke',
      labelNames: ['kind'],
      registers,
    });
    this.badMessages = new Counter({
      name: 'pigeon_redis_bad_messages_total',
      help: 'Messages on a Pigeon channel that did not decode (dropped)',
      registers,
    });
    this.repeats = new Counter({
      name: 'pigeon_router_repeats_total',
      help: 'Entries dropped because this node had already handed them out',
      registers,
    });
    this.storeReads = new Counter({
      name: 'pigeon_router_store_reads_total',
      help: 'Store reads by the router to fill a gap or catch up, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.entriesFromStore = new Counter({
      name: 'pigeon_router_entries_from_store_total',
      help: 'Entries handed out from a store read instead of a publication',
      registers,
    });
    this.limiterFallbacks = new Counter({
      name: 'pigeon_limiter_fallbacks_total',
      help: 'Rate-limit decisions taken by the node-local bucket because Redis did not answer in time',
      labelNames: ['limiter'],
      registers,
    });
    this.nodesReaped = new Counter({
      name: 'pigeon_presence_nodes_reaped_total',
      help: 'Dead nodes whose users this node took offline',
      registers,
    });
  }
}
