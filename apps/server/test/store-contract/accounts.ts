import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cursorSeq, encodeCursor } from '../../src/store/cursor.js';
import { makeContext, type StoreFactory, send, storeAll } from './harness.js';

export function accountsContract(factory: StoreFactory): void {
  describe('accounts and mailboxes', () => {
    const ctx = makeContext(factory, {}, { beforeEach, afterEach });

    it('creates an account once; getUser answers it with epoch 0, null for nobody', async () => {
      const { store } = ctx;
      expect(await store.createUser('alice', 'hash-1')).toBe(true);
      expect(await store.createUser('alice', 'hash-2')).toBe(false);
      expect(await store.getUser('alice')).toEqual({ id: 'alice', passwordHash: 'hash-1', tokenEpoch: 0 });
      expect(await store.getUser('nobody')).toBeNull();
      expect(await store.createUser('bot', null)).toBe(true);
      expect(await store.getUser('bot')).toEqual({ id: 'bot', passwordHash: null, tokenEpoch: 0 });
    });

    it('ensureUser creates a passwordless account once and never touches an existing one', async () => {
      const { store } = ctx;
      await store.ensureUser('host-user');
      await store.ensureUser('host-user');
      expect(await store.getUser('host-user')).toEqual({
        id: 'host-user',
        passwordHash: null,
        tokenEpoch: 0,
      });
      await store.createUser('pw', 'h');
      await store.ensureUser('pw');
      expect((await store.getUser('pw'))?.passwordHash).toBe('h');
    });

    it('a new mailbox is empty with its own 8-hex-digit tag; none for nobody', async () => {
      const { store } = ctx;
      await ctx.users('a', 'b');
      const a = await store.mailbox('a');
      const b = await store.mailbox('b');
      expect(a).toMatchObject({ user: 'a', headSeq: 0, head: null, deliveredSeq: 0, removedUpto: 0 });
      expect(a?.tag).toMatch(/^[0-9a-f]{8}$/);
      expect(b?.tag).not.toBe(a?.tag);
      expect(await store.mailbox('nobody')).toBeNull();
    });

    it('cursors of a mailbox parse back to their seq; others, beyond the head or non-canonical do not', async () => {
      const { store } = ctx;
      await ctx.users('a', 'b');
      const [r] = await storeAll(store, [send('a', 'b')]);
      const b = (await store.mailbox('b'))!;
      const a = (await store.mailbox('a'))!;
      const cursor = r!.entries.find((e) => e.owner === 'b')!.frame.cursor;
      expect(b.head).toBe(cursor);
      expect(cursorSeq(b, cursor)).toBe(1);
      expect(cursorSeq(a, cursor)).toBeNull();
      expect(cursorSeq(b, encodeCursor(b.tag, 2))).toBeNull();
      expect(cursorSeq(b, encodeCursor(b.tag, 0))).toBeNull();
      expect(cursorSeq(b, `${b.tag}.000000001`)).toBeNull();
      expect(cursorSeq(b, 'garbage')).toBeNull();
    });

    it('setPassword replaces the hash and moves the epoch on; revokeAllTokens moves it on; null for nobody', async () => {
      const { store } = ctx;
      await store.createUser('carol', 'old');
      expect(await store.setPassword('carol', 'new')).toBe(1);
      expect(await store.getUser('carol')).toEqual({ id: 'carol', passwordHash: 'new', tokenEpoch: 1 });
      expect(await store.revokeAllTokens('carol')).toBe(2);
      expect(await store.revokeAllTokens('carol')).toBe(3);
      expect(await store.getUser('carol')).toEqual({ id: 'carol', passwordHash: 'new', tokenEpoch: 3 });
      expect(await store.setPassword('nobody', 'x')).toBeNull();
      expect(await store.revokeAllTokens('nobody')).toBeNull();
      expect(await store.getUser('nobody')).toBeNull();
    });

    it('a revoked token id stays revoked until its expiry, exclusive; revoking again keeps the later expiry', async () => {
      const { store, clock } = ctx;
      const t0 = clock.now();
      expect(await store.isTokenRevoked('jti-1')).toBe(false);
      await store.revokeToken('jti-1', t0 + 1000);
      await store.revokeToken('jti-2', t0 + 1000);
      await store.revokeToken('jti-2', t0 + 500);
      expect(await store.isTokenRevoked('jti-1')).toBe(true);
      expect(await store.isTokenRevoked('jti-3')).toBe(false);
      clock.advance(999);
      expect(await store.isTokenRevoked('jti-1')).toBe(true);
      expect(await store.isTokenRevoked('jti-2')).toBe(true);
      clock.advance(1);
      // At its expiry the token is dead by itself; the record no longer matters.
      expect(await store.isTokenRevoked('jti-1')).toBe(false);
      expect(await store.isTokenRevoked('jti-2')).toBe(false);
      await store.sweepRetention(clock.now());
      expect(await store.isTokenRevoked('jti-1')).toBe(false);
    });

    it('accounts, epochs, revocations and mailboxes survive reopening the store', async () => {
      await ctx.users('a', 'b');
      await ctx.store.createUser('p', 'hash');
      await ctx.store.setPassword('p', 'hash2');
      await ctx.store.revokeToken('jti-x', ctx.clock.now() + 60_000);
      const [r] = await storeAll(ctx.store, [send('a', 'b', 'keep')]);
      const before = await ctx.store.mailbox('b');
      const store = await ctx.sut.reopen();
      expect(await store.getUser('p')).toEqual({ id: 'p', passwordHash: 'hash2', tokenEpoch: 1 });
      expect(await store.isTokenRevoked('jti-x')).toBe(true);
      expect(await store.mailbox('b')).toEqual(before);
      const again = await store.commit([send('a', 'b', 'keep')], async (s) => s.map(() => null));
      expect(again).toEqual([{ kind: 'duplicate', ts: r!.ts }]);
    });
  });
}
