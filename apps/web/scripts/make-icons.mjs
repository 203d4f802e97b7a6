// Renders the app icons (public/icons/*.png) from public/favicon.svg with the machine's
// Chromium, so the PNGs the web app manifest needs are made from the one drawing we keep.
// Run after changing the logo: `node scripts/make-icons.mjs`; the PNGs are committed.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const svg = readFileSync(path.join(webDir, 'public/favicon.svg'), 'utf8');
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu'],
});
try {
  // `any`: the logo as drawn (rounded square). `maskable`: the mark inside the safe zone on a
  // full-bleed background, so launchers can cut any shape out of it.
  const icons = [
    { name: 'icon-192.png', size: 192, maskable: false },
    { name: 'icon-512.png', size: 512, maskable: false },
    { name: 'maskable-512.png', size: 512, maskable: true },
  ];
  for (const { name, size, maskable } of icons) {
    const page = await browser.newPage({ viewport: { width: size, height: size } });
    const inner = maskable ? size * 0.7 : size;
    await page.setContent(
      `<html><body style="margin:0;background:${maskable ? '#1f6f5c' : 'transparent'};display:grid;place-items:center;height:${size}px">` +
        `<div style="width:${inner}px;height:${inner}px">${svg.replace('<svg', '<svg width="100%" height="100%"')}</div></body></html>`,
    );
    await page.screenshot({ path: path.join(webDir, 'public/icons', name), omitBackground: !maskable });
    await page.close();
  }
} finally {
  await browser.close();
}
