// The dashboard is served under /app/ (server/coordinator/api/dashboard.py), so asset URLs start there.
import { defineConfig } from "vitest/config";

export default defineConfig({
  base: "/app/",
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 1024 },
  test: { include: ["test/**/*.test.ts"], environment: "node" },
});
