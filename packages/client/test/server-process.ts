import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// The real server as a child process lives with the server, shared with apps/web's tests.
export { freePort, ServerProcess } from '@pigeon/server/testing';

const here = dirname(fileURLToPath(import.meta.url));
export const CLI_MAIN = resolve(here, '../dist/cli/main.js');

/** Registers a user over HTTP and returns its token. */
export async function registerUser(server: string, user: string, password = 'password123'): Promise<string> {
  const res = await fetch(`${server}/api/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user, password }),
  });
  const body = (await res.json()) as { token?: string; error?: string };
  if (res.status !== 201 || !body.token)
    throw new Error(`register ${user}: ${res.status} ${JSON.stringify(body)}`);
  return body.token;
}

/** Polls `predicate` until it holds (or throws after `ms`). */
export async function waitFor(predicate: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
