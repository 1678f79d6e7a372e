import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

// `base: './'` makes every asset URL relative to index.html, so the same build works at `/`
// and behind a reverse proxy that mounts Flow under a sub-path (e.g. `/flow/`).
export default defineConfig({
  root,
  base: './',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    // CodeMirror alone is ~400 kB unminified; one chunk per concern keeps the first paint light.
    chunkSizeWarningLimit: 800,
  },
});
