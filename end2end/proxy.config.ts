import { defineConfig } from "@playwright/test";
import base from "./playwright.config";

// The release build behind nginx with deploy/nginx.conf (scripts/behind-nginx):
// HTTPS at the proxy with a self-signed certificate, the app on plain HTTP
// behind it. Built by scripts/test beforehand, so this only starts them.
const PROXY = "localhost:3343";

export default defineConfig({
  ...base,
  testDir: "./proxy",
  use: { ...base.use, baseURL: `https://${PROXY}`, ignoreHTTPSErrors: true },
  webServer: {
    command: "../scripts/behind-nginx",
    url: `https://${PROXY}/healthz`,
    ignoreHTTPSErrors: true,
    timeout: 60_000,
    reuseExistingServer: false,
    gracefulShutdown: { signal: "SIGTERM", timeout: 10_000 },
    stdout: "pipe",
    stderr: "pipe",
    env: { PROXY_PORT: "3343", RUST_LOG: "info" },
  },
});
