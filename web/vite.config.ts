import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

// One HTML entry per app served from web/dist: the owner panel (index.html, at '/') and the
// device app (device.html, at '/device').
const PAGES: Record<string, string> = {
  main: here('./index.html'),
  device: here('./device.html'),
};

// Built into web/dist at build time (`npm run build`), which the service serves at '/'. The dev
// server proxies the API to a locally running service (npm start, port 8080).
export default defineConfig({
  root: here('.'),
  base: '/',
  plugins: [react()],
  build: {
    outDir: here('./dist'),
    emptyOutDir: true,
    target: 'es2022',
    rolldownOptions: { input: PAGES },
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:8080' },
  },
});
