export { memoryStorage } from '../storage.js';
export { createNodeClient, NodeWebSocket } from './create-node-client.js';
export { fileStorage } from './file-storage.js';
export { nodeHttpTransport } from './http-transport.js';
