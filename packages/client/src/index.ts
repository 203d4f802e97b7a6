export { nextDelay } from './backoff.js';
export type * from './chat-types.js';
export { createClient } from './client.js';
export { ClientErrorCode, PigeonHttpError, PigeonRequestError, StatusReason } from './errors.js';
export { dispositionName } from './file-download.js';
export type * from './file-types.js';
export type { DeliveryState, ReactionCount } from './message-state.js';
export {
  applyReceipt,
  applyToConversation,
  applyToMessage,
  deliveryState,
  messageKey,
  reactionCounts,
  updatePeer,
} from './message-state.js';
export type { Observable } from './observable.js';
export type { BackoffOptions, ClientFeature, ClientOptions } from './options.js';
export { CLIENT_FEATURES, DEFAULTS } from './options.js';
export type * from './platform-types.js';
export type { StorageLike, SyncStorage } from './storage.js';
export { localStorageAdapter, memoryAttachments, memoryStorage } from './storage.js';
export type { XhrLike } from './transports.js';
export { fetchTransport, xhrTransport } from './transports.js';
export * from './types.js';
