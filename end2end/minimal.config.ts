import { defineConfig } from "@playwright/test";
import base from "./playwright.config";

// The minimal example (examples/minimal-checkout) against the standalone
// vendor sandbox: built by scripts/test beforehand, so these only start them.
// Ports of their own, apart from the main suite's.
const SITE = "127.0.0.1:3200";
const SANDBOX = "127.0.0.1:3230";
/** Short enough that a test sees the token refreshed. */
export const TOKEN_TTL_SECS = 30;

export default defineConfig({
  ...base,
  testDir: "./minimal",
  use: { ...base.use, baseURL: `http://${SITE}` },
  webServer: [
    {
      command: "../target/release/sandbox",
      url: `http://${SANDBOX}/.well-known/jwks.json`,
      timeout: 60_000,
      reuseExistingServer: false,
      stdout: "pipe",
      stderr: "pipe",
      env: {
        SANDBOX_ADDR: SANDBOX,
        SANDBOX_DATABASE_URL: "sqlite::memory:",
        SANDBOX_CHECKOUT_TOKEN_TTL_SECS: String(TOKEN_TTL_SECS),
        SANDBOX_ALLOWED_ORIGINS: `http://${SITE}`,
        RUST_LOG: "info",
      },
    },
    {
      command: "cargo leptos serve --release",
      cwd: "../examples/minimal-checkout",
      url: `http://${SITE}/`,
      timeout: 600_000,
      reuseExistingServer: false,
      gracefulShutdown: { signal: "SIGINT", timeout: 10_000 },
      stdout: "pipe",
      stderr: "pipe",
      env: {
        LEPTOS_SITE_ADDR: SITE,
        LEPTOS_RELOAD_PORT: "3201",
        ALTERNATIVE_API_URL: `http://${SANDBOX}`,
        ALTERNATIVE_CLIENT_ID: "demo_client_id",
        ALTERNATIVE_CLIENT_SECRET: "demo_client_secret",
      },
    },
  ],
});
