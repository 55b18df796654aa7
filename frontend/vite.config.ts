import { defineConfig } from "vite";

// The app is served by the Python package under /app/ (src/labelloop/web/static.py), so it
// is built straight into that package; the build output is not committed.
export default defineConfig({
  base: "/app/",
  build: {
    outDir: "../src/labelloop/web/dist",
    emptyOutDir: true,
    target: "es2022",
    // No inline <script> or data: modules: the page runs under a CSP without 'unsafe-inline'.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
});
