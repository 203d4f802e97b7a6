import type { Feature } from '@pigeon/protocol';

/**
 * The protocol extensions this server implements (PROTOCOL.md "Negotiation"): a hello's
 * `features` are answered with the ones listed here, in the spec's order. The chat
 * features of issue 10 are served by chat-frames.ts (writes and requests), entry-view.ts
 * (what each connection is sent) and block-filter.ts (presence and typing across a
 * block); `files` by http/files-routes.ts (the bytes) and the stores (a send's files).
 */
export const OFFERED_FEATURES: ReadonlySet<Feature> = new Set<Feature>([
  'paging',
  'read',
  'edit',
  'reply',
  'react',
  'block',
  'search',
  'files',
]);
