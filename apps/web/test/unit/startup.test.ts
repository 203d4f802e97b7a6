import { DEFAULTS } from '@pigeon/client';
import { beforeEach, describe, expect, it, vi } from 'vitest';

/**
 * The page's start without the client in the entry script: whether the sign-in page shows at
 * once is decided from the stored session key alone. (jsdom has no IndexedDB, so the storage
 * falls back to localStorage, where these tests put the key.)
 */
const holder = vi.hoisted(() => ({ restore: vi.fn(), created: 0 }));
vi.mock('@pigeon/client', async (importOriginal) => {
  const real = await importOriginal<typeof import('@pigeon/client')>();
  return {
    ...real,
    createClient: () => {
      holder.created++;
      return {
        restore: holder.restore,
        on: () => () => undefined,
        setNetwork: () => undefined,
        status: { get: () => ({ state: 'offline' }), subscribe: () => () => undefined },
        features: { get: () => [], subscribe: () => () => undefined },
        readStates: { get: () => ({}), subscribe: () => () => undefined },
        settings: { get: () => ({ readReceipts: null, blocked: null }), subscribe: () => () => undefined },
      };
    },
  };
});

async function freshStartup() {
  vi.resetModules();
  holder.restore.mockReset();
  holder.restore.mockResolvedValue(null);
  holder.created = 0;
  const startup = await import('../../src/store/startup');
  const { useChatStore } = await import('../../src/store/chat-store');
  return { startup, state: () => useChatStore.getState() };
}

beforeEach(() => localStorage.clear());

describe('startup', () => {
  it('peeks at the key the client keeps its session under', async () => {
    const { SESSION_KEY } = await import('../../src/store/page-storage');
    expect(SESSION_KEY).toBe(`${DEFAULTS.storagePrefix}session`);
  });

  it('without a stored session shows the sign-in page and never asks the client to restore one', async () => {
    const { startup, state } = await freshStartup();
    await startup.boot();
    expect(state().auth).toBe('signed-out');
    expect(holder.restore).not.toHaveBeenCalled();
    // The client exists all the same (network hints, ready for the sign-in form).
    expect(holder.created).toBe(1);
  });

  it('with a stored session keeps the splash until the client has restored it', async () => {
    localStorage.setItem('pigeon:session', '{"user":"alice"}');
    const { startup, state } = await freshStartup();
    let answer: (v: null) => void = () => undefined;
    holder.restore.mockReturnValueOnce(new Promise((r) => (answer = r)));
    const booting = startup.boot();
    await vi.waitFor(() => expect(holder.restore).toHaveBeenCalledOnce());
    expect(state().auth).toBe('restoring');
    answer(null);
    await booting;
    // The client found nothing usable: the sign-in page.
    expect(state().auth).toBe('signed-out');
  });
});
