import { DEFAULTS } from '../config';

/**
 * Telling the user about new messages while Pigeon is in the background: a desktop
 * notification per message (sender and preview; clicking it opens the conversation), a short
 * sound, and the unread total as a badge on the favicon. The permission is only ever asked
 * from a click in Settings (askNotificationPermission), never on load.
 */
type PermissionState = NotificationPermission | 'unsupported';

export function notificationPermission(): PermissionState {
  return typeof Notification === 'function' ? Notification.permission : 'unsupported';
}

export async function askNotificationPermission(): Promise<PermissionState> {
  if (typeof Notification !== 'function') return 'unsupported';
  return Notification.requestPermission();
}

/** The page is out of sight or out of mind: hidden, or its window is not the focused one. */
export function inBackground(): boolean {
  return document.visibilityState === 'hidden' || !document.hasFocus();
}

/** Longest preview in a notification; the rest is cut with an ellipsis. */
const PREVIEW_CHARS = DEFAULTS.notificationPreviewChars;

/** The notification shown per tag (one per conversation), so reading elsewhere can take it away. */
const shown = new Map<string, Notification>();

export function showNotification(title: string, body: string, tag: string, onClick: () => void): void {
  if (notificationPermission() !== 'granted') return;
  const preview = body.length > PREVIEW_CHARS ? `${body.slice(0, PREVIEW_CHARS - 1)}…` : body;
  try {
    // One tag per conversation: a newer message replaces the older one instead of piling up.
    const n = new Notification(title, { body: preview, tag, dir: 'auto', icon: '/icons/icon-192.png' });
    shown.set(tag, n);
    n.onclose = () => {
      if (shown.get(tag) === n) shown.delete(tag);
    };
    n.onclick = () => {
      window.focus();
      onClick();
      n.close();
    };
  } catch {
    // Some platforms (Android Chrome) only allow notifications from a service worker.
  }
}

/** Takes a conversation's notification away (its messages were read, here or on another device). */
export function closeNotification(tag: string): void {
  const n = shown.get(tag);
  shown.delete(tag);
  n?.close();
}

let audio: AudioContext | null = null;

/**
 * Browsers start audio only after a user gesture on the page: the context is created on the
 * first click or key press, and a notification sound before that stays silent.
 */
export function prepareSound(): void {
  const start = () => {
    if (!audio && typeof AudioContext === 'function') audio = new AudioContext();
    removeEventListener('pointerdown', start);
    removeEventListener('keydown', start);
  };
  addEventListener('pointerdown', start);
  addEventListener('keydown', start);
}

/** A short two-tone chime, synthesized (no sound file to fetch or cache). */
export function playChime(): void {
  const ctx = audio;
  if (ctx?.state !== 'running') return;
  const now = ctx.currentTime;
  for (const [i, freq] of [880, 1320].entries()) {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, now + i * 0.12);
    gain.gain.exponentialRampToValueAtTime(0.15, now + i * 0.12 + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, now + i * 0.12 + 0.25);
    osc.connect(gain).connect(ctx.destination);
    osc.start(now + i * 0.12);
    osc.stop(now + i * 0.12 + 0.3);
  }
}

let faviconBase: HTMLImageElement | null = null;
let lastBadge = -1;

/**
 * Draws the app icon with the unread count on it and sets it as the tab's icon (a data: URL,
 * which the CSP's `img-src data:` allows). 0 restores the plain icon.
 */
export function setFaviconBadge(count: number): void {
  if (count === lastBadge) return;
  lastBadge = count;
  const link = document.querySelector<HTMLLinkElement>('link[rel="icon"]');
  if (!link) return;
  link.dataset.plain ??= link.href;
  if (count <= 0) {
    link.href = link.dataset.plain;
    link.type = 'image/svg+xml';
    delete link.dataset.badge;
    return;
  }
  const draw = () => {
    const size = 64;
    const canvas = document.createElement('canvas');
    canvas.width = size;
    canvas.height = size;
    const ctx = canvas.getContext('2d');
    if (!ctx || !faviconBase) return;
    ctx.drawImage(faviconBase, 0, 0, size, size);
    ctx.fillStyle = '#c62828';
    ctx.beginPath();
    ctx.arc(44, 20, 20, 0, Math.PI * 2);
    ctx.fill();
    ctx.fillStyle = '#ffffff';
    ctx.font = 'bold 26px system-ui, sans-serif';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillText(count > 99 ? '99+' : String(count), 44, 21, 36);
    if (lastBadge !== count) return;
    link.type = 'image/png';
    link.href = canvas.toDataURL('image/png');
    link.dataset.badge = String(count);
  };
  if (faviconBase?.complete) draw();
  else {
    faviconBase = new Image();
    faviconBase.onload = draw;
    faviconBase.src = link.dataset.plain;
  }
}
