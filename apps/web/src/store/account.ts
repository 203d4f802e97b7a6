import { ClientErrorCode, PigeonHttpError } from '@pigeon/client';
import { chatActions } from './chat-actions';
import { useChatStore } from './chat-store';
import { activeClient } from './runtime';

/**
 * The account actions of the Settings page, through the client (which calls
 * `POST /api/password` and `POST /api/logout-all` with the session's token).
 */
export type AccountResult =
  | { ok: true }
  | { ok: false; code: string; retryAfterSeconds?: number | undefined };

function failure(err: unknown): AccountResult {
  if (err instanceof PigeonHttpError)
    return { ok: false, code: err.code, retryAfterSeconds: err.retryAfterSeconds };
  const code = (err as { code?: unknown } | null)?.code;
  return { ok: false, code: typeof code === 'string' ? code : ClientErrorCode.internal };
}

/**
 * Changes the password; the server revokes every other session and the client keeps the
 * fresh token for this device, whose open connection stays.
 */
export async function changePassword(oldPassword: string, newPassword: string): Promise<AccountResult> {
  const client = activeClient();
  if (!client) return { ok: false, code: ClientErrorCode.unreachable };
  try {
    await client.changePassword(oldPassword, newPassword);
    return { ok: true };
  } catch (err) {
    return failure(err);
  }
}

/**
 * Ends every session of this account on the server, then signs out here like "Sign out"
 * (unsent messages kept for this user). If the server cannot be reached, nothing is signed
 * out: "everywhere" cannot be done from here alone.
 */
export async function signOutEverywhere(finish: () => void): Promise<AccountResult> {
  const client = activeClient();
  if (!client) return { ok: false, code: ClientErrorCode.unreachable };
  try {
    await client.logout({ revoke: 'everywhere', clearData: useChatStore.getState().unsent === 0 });
  } catch (err) {
    return failure(err);
  }
  finish();
  chatActions.setView('chats');
  return { ok: true };
}
