import { defineConfig } from "@playwright/test";
import base from "./playwright.config";

// Two release instances behind nginx round robin, on PostgreSQL and Redis,
// against the standalone sandbox with its quota on (target/release/fleet,
// drivers/src/bin/fleet.rs). Built by scripts/chaos beforehand, so this
// only starts them; run with the other fleet proof in `scripts/chaos`.
const BALANCER = "127.0.0.1:3460";

export default defineConfig({
  ...base,
  testDir: "./fleet",
  use: { ...base.use, baseURL: `http://${BALANCER}` },
  webServer: {
    command: "target/release/fleet 2",
    cwd: "..",
    url: `http://${BALANCER}/readyz`,
    timeout: 120_000,
    reuseExistingServer: false,
    gracefulShutdown: { signal: "SIGTERM", timeout: 10_000 },
    stdout: "pipe",
    stderr: "pipe",
    env: { RUST_LOG: "info" },
  },
});
