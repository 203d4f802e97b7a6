import type { IncomingMessage } from 'node:http';

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443', 'ws:': '80', 'wss:': '443' };

/**
 * The WebSocket origin rule: no Origin (a non-browser client) is allowed; an Origin is
 * allowed when its host and port equal the Host header's (a missing port is the scheme's
 * default, letter case does not matter) or it is listed in PIGEON_ORIGINS exactly. The Host
 * header carries no scheme: a port-less Host is taken to use the default port of the
 * Origin's scheme (the page and its socket come through the same front door).
 */
export function originAllowed(req: IncomingMessage, allowed: readonly string[]): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (allowed.includes(origin)) return true;
  const host = req.headers.host;
  if (!host) return false;
  let o: URL;
  let h: URL;
  try {
    o = new URL(origin);
    h = new URL(`${o.protocol === 'https:' || o.protocol === 'wss:' ? 'https:' : 'http:'}//${host}`);
  } catch {
    return false;
  }
  const scheme = DEFAULT_PORTS[o.protocol];
  if (!scheme) return false;
  const originPort = o.port || scheme;
  const hostPort = h.port || DEFAULT_PORTS[h.protocol]!;
  return o.hostname.toLowerCase() === h.hostname.toLowerCase() && originPort === hostPort;
}
