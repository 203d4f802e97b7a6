import type { ClientFrame, ServerFrame } from '@pigeon/protocol';
import WebSocket from 'ws';
import type { WebSocketConstructor } from '../src/platform-types.js';

/** Every frame a client sent and received over real sockets, for assertions on the wire. */
export interface Wire {
  out: ClientFrame[];
  in: ServerFrame[];
  sockets: number;
}

/** The real `ws` WebSocket, recording the frames that pass through it. */
export function recordingWebSocket(onSend?: (frame: ClientFrame) => void): {
  WebSocket: WebSocketConstructor;
  wire: Wire;
} {
  const wire: Wire = { out: [], in: [], sockets: 0 };
  class Recording extends WebSocket {
    constructor(url: string) {
      super(url);
      wire.sockets++;
      this.on('message', (data, isBinary) => {
        if (!isBinary) wire.in.push(JSON.parse(String(data)) as ServerFrame);
      });
      const send = this.send.bind(this) as (...args: unknown[]) => void;
      Object.defineProperty(this, 'send', {
        value: (data: string, ...rest: unknown[]) => {
          const frame = JSON.parse(data) as ClientFrame;
          wire.out.push(frame);
          onSend?.(frame);
          send(data, ...rest);
        },
      });
    }
  }
  return { WebSocket: Recording as unknown as WebSocketConstructor, wire };
}
