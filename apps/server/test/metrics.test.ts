import { describe, expect, it } from 'vitest';
import { http, register, sendAndWait, session, startServer } from './helpers.js';

function value(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : Number.NaN;
}

describe('/metrics', () => {
  it('counts connections, frames by type, stored messages, commits, errors and replay sizes', async () => {
    const r = await startServer({});
    try {
      const a = await register(r.url);
      const b = await register(r.url);
      const ca = await session(r.wsUrl, a.token);
      await sendAndWait(ca, b.id, 'one');
      await sendAndWait(ca, b.id, 'two');
      await sendAndWait(ca, 'ghost-m', 'x');
      const cb = await session(r.wsUrl, b.token);
      expect(cb.backlog).toHaveLength(2);
      const m = (await http(r.url, 'GET', '/metrics')).text;
      expect(value(m, 'pigeon_connections_open{kind="ws"}')).toBe(2);
      expect(value(m, 'pigeon_messages_stored_total')).toBe(2);
      expect(value(m, 'pigeon_frames_in_total{type="send"}')).toBe(3);
      expect(value(m, 'pigeon_frames_in_total{type="hello"}')).toBe(2);
      expect(value(m, 'pigeon_frames_out_total{type="sent"}')).toBe(2);
      expect(value(m, 'pigeon_frames_out_total{type="msg"}')).toBe(4);
      expect(value(m, 'pigeon_errors_total{code="no_such_user"}')).toBe(1);
      expect(value(m, 'pigeon_store_commit_seconds_count')).toBeGreaterThanOrEqual(3);
      expect(value(m, 'pigeon_backlog_replay_entries_sum')).toBe(2);
      expect(value(m, 'pigeon_backlog_replay_entries_count')).toBe(2);
      // The frame and message counts are handed to their counters at each scrape: they keep adding up.
      await sendAndWait(ca, b.id, 'three');
      const again = (await http(r.url, 'GET', '/metrics')).text;
      expect(value(again, 'pigeon_messages_stored_total')).toBe(3);
      expect(value(again, 'pigeon_frames_in_total{type="send"}')).toBe(4);
      expect(value(again, 'pigeon_frames_out_total{type="sent"}')).toBe(3);
      await cb.close();
      await ca.close();
      const after = (await http(r.url, 'GET', '/metrics')).text;
      expect(value(after, 'pigeon_connections_open{kind="ws"}')).toBe(0);
    } finally {
      await r.stop();
    }
  });
});
