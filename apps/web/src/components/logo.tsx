/** The app's mark, drawn inline so it needs no font or extra request. */
export function Logo({ className }: { className?: string }) {
  return (
    <svg className={className} viewBox="0 0 64 64" aria-hidden="true" focusable="false">
      <rect width="64" height="64" rx="16" fill="#1f6f5c" />
      <path d="M14 40c6-14 18-22 34-22-4 4-6 8-6 12 0 8-7 14-16 14h-6l-8 6z" fill="#fff" />
      <circle cx="40" cy="26" r="2" fill="#1f6f5c" />
    </svg>
  );
}
