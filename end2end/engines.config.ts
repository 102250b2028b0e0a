import { defineConfig } from "@playwright/test";
import { ENGINE_NAMES } from "./engines/engines";
import type { EngineOptions } from "./engines/fixtures";

// The core journeys in Chromium, Firefox and WebKit through WebDriver
// (engines/): Playwright is only the runner here. Each engine gets a
// release server of its own, with its embedded sandbox, since each pays
// the same demo invoices. Run by scripts/test under xvfb-run (WebKitGTK's
// browser needs a display), after the release build.

/** Checkout tokens live this long here, so a refresh comes within seconds. */
export const TOKEN_TTL_SECS = 20;

const site = (i: number) => `127.0.0.1:${3500 + 10 * i}`;
const sandbox = (i: number) => `127.0.0.1:${3505 + 10 * i}`;

export default defineConfig<EngineOptions>({
  testDir: "./engines",
  timeout: 120_000,
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: "list",
  projects: ENGINE_NAMES.map((engine, i) => ({
    name: engine,
    use: {
      engine,
      site: `http://${site(i)}`,
      sandbox: `http://${sandbox(i)}`,
      driverPort: 4444 + i,
    },
  })),
  webServer: ENGINE_NAMES.map((_, i) => ({
    command: "./target/release/server",
    cwd: "..",
    url: `http://${site(i)}/healthz`,
    timeout: 60_000,
    reuseExistingServer: false,
    gracefulShutdown: { signal: "SIGINT", timeout: 10_000 },
    env: {
      LEPTOS_OUTPUT_NAME: "checkout",
      LEPTOS_SITE_ROOT: "target/site",
      LEPTOS_SITE_PKG_DIR: "pkg",
      LEPTOS_HASH_FILES: "true",
      LEPTOS_SITE_ADDR: site(i),
      SANDBOX_ADDR: sandbox(i),
      SANDBOX_DATABASE_URL: "sqlite::memory:",
      MERCHANT_DATABASE_URL: "sqlite::memory:",
      SANDBOX_CHECKOUT_TOKEN_TTL_SECS: String(TOKEN_TTL_SECS),
      // Tokens this short are minted far more often than the per-session
      // limits allow for real ones.
      MERCHANT_RATE_LIMITS: "off",
      RUST_LOG: "warn",
    },
  })),
});
