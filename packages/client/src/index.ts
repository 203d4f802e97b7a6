export { nextDelay } from './backoff.js';
export { createClient } from './client.js';
export { ClientErrorCode, PigeonHttpError, PigeonRequestError } from './errors.js';
export type { BackoffOptions, ClientOptions } from './options.js';
export { DEFAULTS } from './options.js';
export type { StorageLike } from './storage.js';
export { localStorageAdapter, memoryStorage } from './storage.js';
export * from './types.js';
