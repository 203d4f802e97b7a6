import type { Feature } from '@pigeon/protocol';
import { vi } from 'vitest';
import {
  type AttachmentStore,
  type BlobLike,
  CLIENT_FEATURES,
  type ClientFeature,
  type ClientOptions,
  type KeyValueStorage,
  memoryStorage,
} from '../src/index.js';
import { fakeFileServer } from './fake-file-server.js';
import { FakeSocket } from './fake-socket.js';
import { startedClient, tick } from './harness.js';

// Shared set-up of the attachment tests (uploads*.test.ts, downloads.test.ts): a whole client
// with every feature, a fake upload API (fake-file-server.ts) and an in-memory attachment store.

export const ALL: ClientFeature[] = [...CLIENT_FEATURES];

export function attachments(): AttachmentStore & { map: Map<string, BlobLike> } {
  const map = new Map<string, BlobLike>();
  return {
    map,
    put: async (k, b) => {
      map.set(k, b);
    },
    get: async (k) => map.get(k) ?? null,
    remove: async (k) => {
      map.delete(k);
    },
  };
}

export async function online(features: Feature[] = ALL) {
  const sock = FakeSocket.last();
  sock.open();
  sock.push({ t: 'welcome', v: 1, user: 'alice', head: null, features });
  sock.push({ t: 'synced', head: null, gap: false });
  await tick();
  return sock;
}

/** Lets the upload's promise chains run (no real time passes). */
export async function until(cond: () => boolean, what: string) {
  for (let i = 0; i < 200 && !cond(); i++) await vi.advanceTimersByTimeAsync(0);
  if (!cond()) throw new Error(`never: ${what}`);
}

export async function setUp(extra: Partial<ClientOptions> = {}, storage: KeyValueStorage = memoryStorage()) {
  const server = extra.transport ? null : fakeFileServer();
  const store = attachments();
  const client = await startedClient(
    {
      features: ALL,
      uploadChunkBytes: 4,
      attachments: store,
      ...(server ? { transport: server.transport } : {}),
      ...extra,
    },
    storage,
  );
  return { client, server: server ?? fakeFileServer(), store, storage };
}
