import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { memoryStorage } from '../../src/index.js';
import { bytesBlob } from '../fake-file-server.js';
import { FakeSocket } from '../fake-socket.js';
import { startedClient } from '../harness.js';
import { ALL, attachments, online, setUp, until } from '../upload-harness.js';

// Uploads refused by the server's rate limit (Retry-After honoured at its boundary) or made
// impossible by the attachment store (bytes it could not keep, or lost across a restart).

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
  FakeSocket.reset();
});
afterEach(() => vi.useRealTimers());

describe('when the bytes or the server say no', () => {
  it('rate_limited waits Retry-After (longer than the backoff) before creating the upload again', async () => {
    const { client, server } = await setUp();
    await online();
    server.faults.rateLimited = 1;
    client.send('bob', '', {
      files: [{ blob: bytesBlob(2), name: 'r.bin', type: 'application/octet-stream' }],
    });
    await until(() => server.log.length === 1, 'the refused creation');
    await vi.advanceTimersByTimeAsync(1999);
    expect(server.log).toEqual(['POST /api/uploads']);
    await vi.advanceTimersByTimeAsync(1);
    await until(() => server.files.size === 1, 'uploaded after the wait');
  });

  it('an attachment store that cannot keep the bytes, or lost them, fails the message attachment_missing', async () => {
    const broken = attachments();
    broken.put = async () => {
      throw new Error('QuotaExceededError');
    };
    const { client, server } = await setUp({ attachments: broken });
    await online();
    const item = client.send('bob', '', {
      files: [{ blob: bytesBlob(2), name: 'q.bin', type: 'application/octet-stream' }],
    });
    await until(() => client.outbox()[0]?.state === 'failed', 'failed');
    expect(client.outbox()[0]).toMatchObject({ id: item.id, error: 'attachment_missing' });
    expect(server.log).toEqual([]);

    // Restarted with an empty store (a browser that cleared its site data): nothing to upload.
    const storage = memoryStorage();
    const store = attachments();
    const first = await startedClient(
      { features: ALL, attachments: store, transport: server.transport },
      storage,
    );
    first.send('bob', '', {
      files: [{ blob: bytesBlob(2), name: 'gone.bin', type: 'application/octet-stream' }],
    });
    await first.persisted();
    first.stop();
    const second = await startedClient(
      { features: ALL, attachments: attachments(), transport: server.transport },
      storage,
    );
    await online();
    await until(() => second.outbox()[0]?.state === 'failed', 'failed after the restart');
    expect(second.outbox()[0]?.error).toBe('attachment_missing');
  });
});
