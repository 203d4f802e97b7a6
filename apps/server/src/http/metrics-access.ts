import crypto from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Config } from '../config.js';
import { clientAddress } from './client-address.js';

/**
 * Whether a request may read /metrics: from an address in PIGEON_METRICS_ALLOW (default
 * loopback and private ranges, where scrapers live), or from anywhere with
 * `Authorization: Bearer PIGEON_METRICS_TOKEN`. The metrics name no user, but they tell
 * an outsider how busy the server is and which limits are being hit.
 */
export function metricsAllowed(
  req: IncomingMessage,
  config: Pick<Config, 'metricsAllow' | 'metricsToken' | 'trustProxy'>,
): boolean {
  if (config.metricsToken !== null) {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (match && sameSecret(match[1]!.trim(), config.metricsToken)) return true;
  }
  return config.metricsAllow.has(clientAddress(req, config.trustProxy));
}

/** Constant-time comparison (via fixed-length digests, so the length leaks nothing either). */
function sameSecret(given: string, expected: string): boolean {
  const a = crypto.createHash('sha256').update(given).digest();
  const b = crypto.createHash('sha256').update(expected).digest();
  return crypto.timingSafeEqual(a, b);
}
