/// <reference types="node" />
import WebSocket from 'ws';
import { createClient } from '../client.js';
import type { ClientOptions } from '../options.js';
import type { WebSocketConstructor } from '../platform-types.js';
import type { PigeonClient } from '../types.js';
import { nodeHttpTransport } from './http-transport.js';

/**
 * `createClient` with Node's defaults: the `ws` WebSocket (no permessage-deflate, as the server
 * offers none) and the `node:http` file transport (upload progress as bytes go out).
 */
export function createNodeClient(
  options: Omit<ClientOptions, 'WebSocket'> & { WebSocket?: WebSocketConstructor },
): PigeonClient {
  return createClient({
    ...options,
    WebSocket: options.WebSocket ?? NodeWebSocket,
    transport: options.transport ?? nodeHttpTransport(),
  });
}

/** The `ws` package's WebSocket, typed as the constructor the client expects. */
export const NodeWebSocket: WebSocketConstructor = WebSocket;
