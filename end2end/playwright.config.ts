import { defineConfig } from "@playwright/test";
import { WEBHOOK_SECRET } from "./tests/helpers";

// The app and its embedded sandbox on ports of their own, so a running
// `scripts/run` (3000/3030) does not collide with the tests.
const SITE = "127.0.0.1:3100";
const SANDBOX = "127.0.0.1:3130";

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  // Two cores: one browser at a time keeps timings honest.
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: process.env.CI ? "list" : [["list"], ["html", { open: "never" }]],
  use: {
    baseURL: `http://${SITE}`,
    trace: "retain-on-failure",
    launchOptions: {
      // Debian's Chromium: Playwright cannot download its own browser here.
      executablePath: "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  projects: [{ name: "chromium" }],
  webServer: {
    // Built by scripts/test beforehand, so this only starts the server.
    command: "cargo leptos serve --release --precompress",
    cwd: "..",
    url: `http://${SITE}/healthz`,
    timeout: 600_000,
    reuseExistingServer: false,
    // cargo-leptos stops its server on SIGINT; without it the server is orphaned.
    gracefulShutdown: { signal: "SIGINT", timeout: 10_000 },
    stdout: "pipe",
    stderr: "pipe",
    env: {
      LEPTOS_SITE_ADDR: SITE,
      LEPTOS_RELOAD_PORT: "3101",
      SANDBOX_ADDR: SANDBOX,
      // Every run starts from the seed data and leaves nothing behind.
      SANDBOX_DATABASE_URL: "sqlite::memory:",
      MERCHANT_DATABASE_URL: "sqlite::memory:",
      // The sandbox delivers its events to the site as it would unset, but
      // signed with a secret the tests know: one can send its own event.
      SANDBOX_WEBHOOK_URL: `http://${SITE}/webhooks/alternative`,
      SANDBOX_WEBHOOK_SECRETS: WEBHOOK_SECRET,
      MERCHANT_WEBHOOK_SECRETS: WEBHOOK_SECRET,
      RUST_LOG: "info",
    },
  },
});
