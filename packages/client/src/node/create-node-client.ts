/// <reference types="node" />
import WebSocket from 'ws';
import { createClient } from '../client.js';
import type { ClientOptions } from '../options.js';
import type { PigeonClient, WebSocketConstructor } from '../types.js';

/** `createClient` with Node's defaults: the `ws` WebSocket (no permessage-deflate, as the server offers none). */
export function createNodeClient(
  options: Omit<ClientOptions, 'WebSocket'> & { WebSocket?: WebSocketConstructor },
): PigeonClient {
  return createClient({ ...options, WebSocket: options.WebSocket ?? NodeWebSocket });
}

/** The `ws` package's WebSocket, typed as the constructor the client expects. */
export const NodeWebSocket: WebSocketConstructor = WebSocket;
