import { ClientErrorCode } from '@pigeon/client';
import { appActions } from './app-actions';
import { prepareDocument } from './document-setup';
import { SESSION_KEY, storage } from './page-storage';

/**
 * How the page starts. The client (with the protocol codec and its validation) and the chat's
 * state machine are a chunk of their own (client-bridge.ts and what it imports): a first
 * visit shows the sign-in page from the entry script alone, and the chunk arrives while the
 * user types (as the chat screen's does). Whether to show the sign-in page at once is decided
 * by peeking at the stored session key, without the client; with a session the splash stays
 * until the client has restored it.
 */
const loadBridge = () => import('./client-bridge');

let booted = false;

export async function boot(): Promise<void> {
  if (booted) return;
  booted = true;
  await prepareDocument();
  const bridge = loadBridge();
  let hasSession = true;
  try {
    hasSession = (await storage().get(SESSION_KEY)) != null;
  } catch {
    // Unreadable storage: let the client decide (it reports the failure itself).
  }
  if (!hasSession) appActions.signedOut();
  await (await bridge).startClient({ restore: hasSession });
}

export type SignInMode = 'signin' | 'register';
export interface SignInFailure {
  code: string;
  retryAfterSeconds?: number | undefined;
}

/** Signs in or registers through the client (waiting for its chunk if it is still on its way). */
export async function signIn(
  mode: SignInMode,
  user: string,
  password: string,
): Promise<SignInFailure | null> {
  let bridge: Awaited<ReturnType<typeof loadBridge>>;
  try {
    bridge = await loadBridge();
  } catch {
    return { code: ClientErrorCode.unreachable };
  }
  return bridge.signIn(mode, user, password);
}
