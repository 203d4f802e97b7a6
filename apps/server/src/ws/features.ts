import type { Feature } from '@pigeon/protocol';

/**
 * The protocol extensions this server implements (PROTOCOL.md "Negotiation"): a hello's
 * `features` are answered with the ones listed here. `paging` joins once the store can
 * page history forwards (`after`); until then a client that asks gets `features: []` and
 * keeps version-1 behaviour, as the spec tells it to.
 */
export const OFFERED_FEATURES: ReadonlySet<Feature> = new Set<Feature>([]);
