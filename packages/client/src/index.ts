export { nextDelay } from './backoff.js';
export { createClient } from './client.js';
export { ClientErrorCode, PigeonHttpError, PigeonRequestError } from './errors.js';
export type { StorageLike } from './storage.js';
export { localStorageAdapter, memoryStorage } from './storage.js';
export * from './types.js';
