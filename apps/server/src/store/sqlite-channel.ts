import { Worker } from 'node:worker_threads';
import type { FromWorker, ToWorker, WorkerConfig } from './sqlite-protocol.js';

/**
 * The worker threads' script. Built, it sits beside this file; when this file runs from
 * source (vitest), the worker still runs from the build, which `npm test` makes first.
 */
function workerUrl(): URL {
  const here = new URL(import.meta.url);
  return here.pathname.endsWith('.ts')
    ? new URL('../../dist/store/sqlite-worker.js', here)
    : new URL('./sqlite-worker.js', here);
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

/** One worker thread and the calls waiting for its answers. */
export class Channel {
  readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failure: Error | null = null;
  readonly ready: Promise<void>;
  readonly exited: Promise<void>;

  constructor(
    config: WorkerConfig,
    private readonly onMessage: (m: FromWorker, channel: Channel) => void,
  ) {
    this.worker = new Worker(workerUrl(), { workerData: config });
    this.ready = new Promise((resolve, reject) => {
      this.worker.once('message', (m: FromWorker) =>
        m.t === 'ready' ? resolve() : reject(new Error(`unexpected ${m.t}`)),
      );
      this.worker.once('error', reject);
    });
    // A store that failed to open rejects `ready`; nothing else may be left unhandled.
    this.ready.catch(() => {});
    this.worker.on('message', (m: FromWorker) => this.receive(m));
    this.worker.on('error', (err) => this.fail(err));
    this.exited = new Promise((resolve) =>
      this.worker.once('exit', (code) => {
        this.fail(new Error(`the SQLite ${config.role} thread exited (${code})`));
        resolve();
      }),
    );
  }

  private receive(m: FromWorker): void {
    if (m.t === 'done' || m.t === 'fail') {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.t === 'done') p.resolve(m.value);
      else p.reject(new Error(m.error));
      return;
    }
    this.onMessage(m, this);
  }

  /** Every call waiting now, and every later one, rejects with `err`. */
  private fail(err: Error): void {
    this.failure ??= err;
    for (const p of this.pending.values()) p.reject(this.failure);
    this.pending.clear();
  }

  /** Posts at once (the thread must be ready): messages reach the thread in call order. */
  requestNow<T>(message: (id: number) => ToWorker): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage(message(id));
    });
  }

  async call<T>(method: string, ...args: unknown[]): Promise<T> {
    await this.ready;
    return this.requestNow<T>((id) => ({ t: 'call', id, method, args }));
  }

  post(message: ToWorker): void {
    this.worker.postMessage(message);
  }
}
