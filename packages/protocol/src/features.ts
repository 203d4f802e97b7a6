import { LIMITS } from './limits.js';

/**
 * The protocol extensions a connection may negotiate (PROTOCOL.md "Extensions:
 * Negotiation"). One name per thing a client must understand to render it correctly, so a
 * bot can take `read` without having to draw reactions; see the spec for why these eight.
 */
export const FEATURES = ['paging', 'read', 'edit', 'reply', 'react', 'block', 'search', 'files'] as const;
export type Feature = (typeof FEATURES)[number];

/** What a connection negotiated. Empty for a version-1 connection. */
export type FeatureSet = ReadonlySet<Feature>;

/** The feature set of a connection that did not negotiate: exactly version 1. */
export const NO_FEATURES: FeatureSet = new Set<Feature>();

const KNOWN: ReadonlySet<string> = new Set(FEATURES);

export function isFeature(value: unknown): value is Feature {
  return typeof value === 'string' && KNOWN.has(value);
}

/**
 * `hello.features` as the server reads it: `undefined` when the field is absent or not an
 * array (the connection is version 1); otherwise the known names among its first
 * `LIMITS.helloFeaturesMax` entries, each once, in the order of `FEATURES`. Entries that
 * are not strings, or names this version does not know, are ignored.
 */
export function parseHelloFeatures(raw: unknown): Feature[] | undefined {
  if (!Array.isArray(raw)) return undefined;
  const asked = new Set<string>();
  const n = Math.min(raw.length, LIMITS.helloFeaturesMax);
  for (let i = 0; i < n; i++) {
    const name: unknown = raw[i];
    if (typeof name === 'string') asked.add(name);
  }
  return FEATURES.filter((f) => asked.has(f));
}
