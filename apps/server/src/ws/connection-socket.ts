import type { Duplex } from 'node:stream';
import { type RawData, WebSocket } from 'ws';

/** What a socket's events are handed to. */
export interface SocketEvents {
  onMessage(data: RawData, isBinary: boolean): void;
  onPong(): void;
  onClose(code: number): void;
  onError(err: Error): void;
}

/**
 * The server's WebSockets (the WebSocketServer's `WebSocket` option): each knows the
 * connection it serves, so one set of module-level listeners serves every socket. A closure
 * per event per connection (and the context they share) cost about 300 bytes on every idle
 * connection.
 */
export class ConnectionSocket extends WebSocket {
  events: SocketEvents | null = null;
}

/** Hands `ws`'s message, pong, close and error events to `events`. */
export function listen(ws: ConnectionSocket, events: SocketEvents): void {
  ws.events = events;
  ws.on('message', onMessage);
  ws.on('pong', onPong);
  ws.on('close', onClose);
  ws.on('error', onError);
}

// An EventEmitter calls its listeners with `this` set to itself (always a ConnectionSocket
// here: `listen` is given nothing else).
function eventsOf(ws: WebSocket): SocketEvents | null {
  return ws instanceof ConnectionSocket ? ws.events : null;
}

function onMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  eventsOf(this)?.onMessage(data, isBinary);
}

function onPong(this: WebSocket): void {
  eventsOf(this)?.onPong();
}

function onClose(this: WebSocket, code: number): void {
  eventsOf(this)?.onClose(code);
}

function onError(this: WebSocket, err: Error): void {
  eventsOf(this)?.onError(err);
}

/** A raw socket's error destroys it (a listener shared by all, for the same reason). */
export function destroyOnError(this: Duplex): void {
  this.destroy();
}
