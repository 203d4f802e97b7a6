/**
 * A user's picture: their initial on a colour that depends on their id, so that two users
 * whose names start alike still look different. Every colour holds white text at a contrast
 * of at least 4.5:1 (WCAG AA), in both themes.
 */
const PALETTE = ['#1a6a57', '#7a3e9d', '#b0362a', '#1f5fa8', '#8a5300', '#ad1457', '#4a5a66', '#2e6b1f'];

/** FNV-1a over the id: stable across sessions and browsers, spread evenly over the palette. */
function avatarColor(user: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < user.length; i++) {
    h ^= user.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return PALETTE[(h >>> 0) % PALETTE.length]!;
}

export function Avatar({ user, online }: { user: string; online: boolean }) {
  return (
    // React writes `style` through the CSSOM, which the CSP's `style-src 'self'` allows.
    <span className="avatar" aria-hidden="true" style={{ backgroundColor: avatarColor(user) }}>
      {user.slice(0, 1).toUpperCase()}
      {online && <span className="online-dot" />}
    </span>
  );
}
