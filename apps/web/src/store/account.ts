import { chatActions } from './chat-actions';
import { useChatStore } from './chat-store';
import { activeClient, currentSession, setSession } from './runtime';

/**
 * The account calls of the Settings page, over HTTP with the session's bearer token:
 * `POST /api/password` (old and new password; the server revokes every other token and
 * returns a fresh one for this device) and `POST /api/logout-all` (revokes every token).
 */
export type AccountResult =
  | { ok: true }
  | { ok: false; code: string; retryAfterSeconds?: number | undefined };

async function post(path: string, body: unknown): Promise<Response | null> {
  const session = currentSession();
  if (!session) return null;
  try {
    return await fetch(path, {
      method: 'POST',
      headers: { Authorization: `Bearer ${session.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
  } catch {
    return null;
  }
}

async function failure(res: Response | null): Promise<AccountResult> {
  if (!res) return { ok: false, code: 'unreachable' };
  let code = 'internal';
  try {
    const v = (await res.json()) as { error?: unknown };
    if (typeof v.error === 'string') code = v.error;
  } catch {
    // Not our JSON (e.g. a proxy's page): the status says enough.
  }
  const retry = Number(res.headers.get('Retry-After'));
  return { ok: false, code, retryAfterSeconds: Number.isFinite(retry) && retry > 0 ? retry : undefined };
}

export async function changePassword(oldPassword: string, newPassword: string): Promise<AccountResult> {
  const res = await post('/api/password', { password: oldPassword, newPassword });
  if (!res?.ok) return failure(res);
  const me = useChatStore.getState().me;
  const v = (await res.json().catch(() => null)) as { user?: unknown; token?: unknown } | null;
  const client = activeClient();
  // The old token is revoked with all others: this device goes on with the fresh one. Its
  // open connection stays (the server keeps the connection that asked); the next one uses it.
  if (me && client && v && v.user === me && typeof v.token === 'string') {
    // biome-ignore lint/correctness/useHookAtTopLevel: the client's useToken is a method, not a React hook
    await client.useToken(me, v.token);
    setSession({ user: me, token: v.token });
  }
  return { ok: true };
}

/** Ends every session of this account; this browser then signs out like "Sign out". */
export async function signOutEverywhere(signOutHere: () => Promise<boolean>): Promise<AccountResult> {
  const res = await post('/api/logout-all', {});
  if (!res?.ok) return failure(res);
  // The token is revoked already; if the outbox could not be saved, the session stays here
  // until the server refuses the token (4001), which signs out keeping the outbox.
  if (!(await signOutHere())) return { ok: false, code: 'storage_failed' };
  chatActions.setView('chats');
  return { ok: true };
}
