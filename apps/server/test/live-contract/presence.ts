import { describe, expect, it } from 'vitest';
import type { LiveContext } from './contract.js';
import { Recorder } from './harness.js';

export function presenceContract(ctx: LiveContext): void {
  describe('presence', () => {
    /**
     * Waits until `watcher` saw `user`'s presence frames `expected`; then, because a change
     * that should not show must not show either, toggles a fence user through the same
     * path and waits for it, so anything sent before it has arrived too.
     */
    async function settle(watcher: Recorder, fenceNode: number): Promise<void> {
      const fence = new Recorder(`fence-${watcher.user}`, ctx.signal);
      const before = watcher.presenceOf(fence.user).length;
      ctx.nodes[fenceNode]!.presence.join(fence);
      await ctx.signal.until(() => watcher.presenceOf(fence.user).length === before + 1, 'the fence');
      ctx.nodes[fenceNode]!.presence.leave(fence);
      await ctx.signal.until(() => watcher.presenceOf(fence.user).length === before + 2, 'the fence back');
    }

    function watchWithFence(node: number, watcher: Recorder, users: string[]): void {
      ctx.nodes[node]!.presence.watch(watcher, [...users, `fence-${watcher.user}`]);
    }

    it('a user is online while any node holds a connection of theirs; each change reaches watchers on every node once', async () => {
      const [a, b, c] = ctx.nodes as [(typeof ctx.nodes)[0], (typeof ctx.nodes)[0], (typeof ctx.nodes)[0]];
      const w1 = new Recorder('w1', ctx.signal);
      const w2 = new Recorder('w2', ctx.signal);
      a.presence.join(w1);
      c.presence.join(w2);
      watchWithFence(0, w1, ['pat']);
      watchWithFence(2, w2, ['pat']);
      await ctx.signal.until(
        () => w1.presenceOf('pat').length === 1 && w2.presenceOf('pat').length === 1,
        'initial',
      );
      expect(w1.presenceOf('pat')).toEqual([false]);
      const pat1 = new Recorder('pat', ctx.signal);
      const pat2 = new Recorder('pat', ctx.signal);
      b.presence.join(pat1);
      await ctx.signal.until(
        () => w1.presenceOf('pat').length === 2 && w2.presenceOf('pat').length === 2,
        'online',
      );
      // A second connection on another node, then the first one leaving: still online, no frame.
      c.presence.join(pat2);
      b.presence.leave(pat1);
      await settle(w1, 1);
      await settle(w2, 0);
      expect(w1.presenceOf('pat')).toEqual([false, true]);
      expect(w2.presenceOf('pat')).toEqual([false, true]);
      c.presence.leave(pat2);
      await ctx.signal.until(
        () => w1.presenceOf('pat').length === 3 && w2.presenceOf('pat').length === 3,
        'offline',
      );
      expect(w1.presenceOf('pat')).toEqual([false, true, false]);
      expect(w2.presenceOf('pat')).toEqual([false, true, false]);
    });

    it('a watch answers the current state of each listed user once (duplicates once, unknown users offline)', async () => {
      const [a, b] = ctx.nodes as [(typeof ctx.nodes)[0], (typeof ctx.nodes)[0]];
      const quinn = new Recorder('quinn', ctx.signal);
      b.presence.join(quinn);
      const w = new Recorder('w3', ctx.signal);
      a.presence.join(w);
      // Wait until quinn's join is visible from node a (on Redis it travels through Redis).
      const probe = new Recorder('probe', ctx.signal);
      a.presence.join(probe);
      a.presence.watch(probe, ['quinn']);
      await ctx.signal.until(() => probe.presenceOf('quinn').includes(true), 'quinn visible from a');
      watchWithFence(0, w, ['quinn', 'nobody-here', 'quinn', 'w3']);
      await ctx.signal.until(() => w.presence.length === 4, 'four answers');
      expect(new Map(w.presence)).toEqual(
        new Map([
          ['quinn', true],
          ['nobody-here', false],
          ['w3', true],
          ['fence-w3', false],
        ]),
      );
      await settle(w, 1);
      expect(w.presence.filter(([u]) => !u.startsWith('fence-'))).toHaveLength(3);
    });

    it('watches answered in the order asked, even one replaced before its answer; changes only for the latest', async () => {
      const [a, b] = ctx.nodes as [(typeof ctx.nodes)[0], (typeof ctx.nodes)[0]];
      const w = new Recorder('w6', ctx.signal);
      a.presence.join(w);
      const first = a.presence.watch(w, ['una', 'vera']);
      const second = a.presence.watch(w, ['wes', `fence-${w.user}`]);
      await first;
      await second;
      expect(w.presence.map(([u]) => u)).toEqual(['una', 'vera', 'wes', `fence-${w.user}`]);
      const una = new Recorder('una', ctx.signal);
      const wes = new Recorder('wes', ctx.signal);
      b.presence.join(una);
      b.presence.join(wes);
      await ctx.signal.until(() => w.presenceOf('wes').length === 2, 'wes online');
      await settle(w, 1);
      expect(w.presenceOf('una')).toEqual([false]);
    });

    it('a new watch replaces the list; leaving ends the watch', async () => {
      const [a, b] = ctx.nodes as [(typeof ctx.nodes)[0], (typeof ctx.nodes)[0]];
      const w = new Recorder('w4', ctx.signal);
      a.presence.join(w);
      watchWithFence(0, w, ['rex']);
      await ctx.signal.until(() => w.presenceOf('rex').length === 1, 'rex initial');
      watchWithFence(0, w, ['sam']);
      await ctx.signal.until(() => w.presenceOf('sam').length === 1, 'sam initial');
      const rex = new Recorder('rex', ctx.signal);
      const sam = new Recorder('sam', ctx.signal);
      b.presence.join(rex);
      b.presence.join(sam);
      await ctx.signal.until(() => w.presenceOf('sam').length === 2, 'sam online');
      await settle(w, 1);
      expect(w.presenceOf('rex')).toEqual([false]);
      expect(w.presenceOf('sam')).toEqual([false, true]);
      // A second watcher of sam, so sam's changes still flow to node a after w leaves.
      const other = new Recorder('w5', ctx.signal);
      a.presence.join(other);
      a.presence.watch(other, ['sam']);
      await ctx.signal.until(() => other.presenceOf('sam').length === 1, 'other initial');
      a.presence.leave(w);
      b.presence.leave(sam);
      await ctx.signal.until(() => other.presenceOf('sam').length === 2, 'sam offline for other');
      expect(w.presenceOf('sam')).toEqual([false, true]);
    });
  });
}
