// Prints the gzipped size of the JavaScript a first visit must load (the entry script and
// every module it preloads, as listed in dist/index.html) and fails the build when it is
// over the budget, so a heavy dependency cannot slip in unnoticed.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const BUDGET_BYTES = 100_000;
const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const html = readFileSync(path.join(dist, 'index.html'), 'utf8');

const urls = new Set();
for (const m of html.matchAll(/<script\b[^>]*\bsrc="([^"]+\.js)"/g)) urls.add(m[1]);
for (const m of html.matchAll(/<link\b[^>]*\brel="modulepreload"[^>]*\bhref="([^"]+\.js)"/g)) urls.add(m[1]);
if (urls.size === 0) {
  console.error('bundle-size: no entry script found in dist/index.html');
  process.exit(1);
}

let total = 0;
for (const url of urls) {
  const file = path.join(dist, url.replace(/^\//, ''));
  const gz = gzipSync(readFileSync(file), { level: 9 }).length;
  total += gz;
  console.log(`  ${url}  ${(gz / 1000).toFixed(1)} kB gzipped`);
}
const verdict = total <= BUDGET_BYTES ? 'within' : 'OVER';
console.log(
  `initial JS: ${(total / 1000).toFixed(1)} kB gzipped (${verdict} the ${BUDGET_BYTES / 1000} kB budget)`,
);
// For the record: the chunks loaded on demand (the chat screen after sign-in).
for (const name of readdirSync(path.join(dist, 'assets'))) {
  const url = `/assets/${name}`;
  if (!name.endsWith('.js') || urls.has(url)) continue;
  const gz = gzipSync(readFileSync(path.join(dist, 'assets', name)), { level: 9 }).length;
  console.log(`  (on demand) ${url}  ${(gz / 1000).toFixed(1)} kB gzipped`);
}
if (total > BUDGET_BYTES) process.exit(1);
