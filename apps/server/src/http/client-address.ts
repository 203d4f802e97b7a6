import type { IncomingMessage } from 'node:http';

/**
 * The client's address: the peer's, or with PIGEON_TRUST_PROXY=1 the last address in
 * `X-Forwarded-For` (the one our own proxy appended; earlier ones are the client's word).
 */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const header = req.headers['x-forwarded-for'];
    const value = Array.isArray(header) ? header.join(',') : header;
    if (value) {
      const parts = value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const last = parts[parts.length - 1];
      if (last) return last;
    }
  }
  return req.socket.remoteAddress ?? 'unknown';
}
