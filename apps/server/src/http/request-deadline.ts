import type { IncomingMessage } from 'node:http';

/**
 * The whole-request deadline Node's `requestTimeout` used to give every request (a body
 * still arriving after `ms` closes the socket), applied per request so that one kind can
 * be left out: an upload's bytes may take minutes on a slow link, and are bounded by an
 * idle timeout instead (files-routes.ts). Node's own check is server-wide, hence this.
 * /api bodies have their own, shorter deadline with a 408 answer (api-body.ts readJson).
 */
export function armRequestDeadline(req: IncomingMessage, ms: number): void {
  const timer = setTimeout(() => {
    // A request whose body arrived in time is complete; what is left is a trickle.
    if (!req.complete) req.socket.destroy();
  }, ms);
  timer.unref();
  req.once('close', () => clearTimeout(timer));
}
