import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The dev server forwards the API and the socket to a locally running apps/server, so the
// browser sees one origin. The Host header is passed through unchanged (no changeOrigin):
// the server accepts a WebSocket only when its Origin matches Host, and here both are the
// dev server's.
const serverPort = process.env.PIGEON_DEV_SERVER_PORT || '8080';
const target = `http://127.0.0.1:${serverPort}`;

export default defineConfig({
  plugins: [react()],
  base: '/',
  server: {
    proxy: {
      '/api': { target },
      '/ws': { target, ws: true },
    },
  },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    sourcemap: false,
    target: 'es2022',
    // The server's CSP forbids inline scripts and styles, so nothing may be inlined into
    // index.html as a data: URL or <style> block.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
});
