// Vite builds the dashboard into dist/ (served by the API from api.web_root). JSX is compiled
// by Vite's own esbuild for Preact, so no framework plugin is needed.
import { defineConfig } from 'vite';

const api = process.env.SB_API || 'http://127.0.0.1:8080';

export default defineConfig({
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  resolve: {
    alias: { react: 'preact/compat', 'react-dom': 'preact/compat' },
  },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2020', sourcemap: false },
  server: {
    // `npm run dev`: the API (and its websocket) behind the dev server, so the login cookie
    // is same-origin as in production. SB_API points it elsewhere.
    proxy: { '/api': { target: api, ws: true, changeOrigin: false } },
  },
});
