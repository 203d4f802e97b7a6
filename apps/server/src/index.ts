export type { Config, DbSync, LogLevel } from './config.js';
export { ConfigError, DEFAULTS, loadConfig } from './config.js';
export { MemoryRouter } from './router/memory-router.js';
export type { Router, RouteTarget } from './router/router.js';
export type { PigeonServer } from './server.js';
export { createPigeonServer } from './server.js';
export { SqliteStore } from './store/sqlite-store.js';
export type { Entry, MailboxState, OpResult, Store, StoreOp } from './store/store.js';
