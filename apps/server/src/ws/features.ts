import type { Feature } from '@pigeon/protocol';

/**
 * The protocol extensions this server implements (PROTOCOL.md "Negotiation"): a hello's
 * `features` are answered with the ones listed here, in the spec's order.
 */
export const OFFERED_FEATURES: ReadonlySet<Feature> = new Set<Feature>(['paging']);
