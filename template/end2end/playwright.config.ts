import { defineConfig } from "@playwright/test";

// This app against a vendor sandbox, both started here: the checkout
// reference's sandbox binary (SANDBOX_BIN, else `sandbox` on the PATH) and this app's
// release build (`cargo leptos build --release` first). Tokens live 30 s,
// so a test sees one refreshed; the sandbox signs its events for this
// app's webhook endpoint with a secret both are given.
const SITE = "127.0.0.1:3200";
const SANDBOX = process.env.SANDBOX_ADDR ?? "127.0.0.1:3230";
/** Short enough that a test sees the token refreshed. */
export const TOKEN_TTL_SECS = 30;
export const SANDBOX_URL = `http://${SANDBOX}`;
const WEBHOOK_SECRET = "whsec_template_test_secret_0123456789";

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  workers: 1,
  forbidOnly: !!process.env.CI,
  reporter: "list",
  use: {
    baseURL: `http://${SITE}`,
    trace: "retain-on-failure",
    // A browser of the machine's (e.g. Debian's /usr/bin/chromium), or
    // Playwright's own (`npx playwright install chromium`).
    launchOptions: process.env.CHROMIUM_PATH
      ? { executablePath: process.env.CHROMIUM_PATH, args: ["--headless", "--no-sandbox"] }
      : {},
  },
  projects: [{ name: "chromium" }],
  webServer: [
    {
      command: process.env.SANDBOX_BIN ?? "sandbox",
      url: `${SANDBOX_URL}/.well-known/jwks.json`,
      timeout: 60_000,
      reuseExistingServer: false,
      stdout: "pipe",
      stderr: "pipe",
      env: {
        SANDBOX_ADDR: SANDBOX,
        SANDBOX_DATABASE_URL: "sqlite::memory:",
        SANDBOX_CHECKOUT_TOKEN_TTL_SECS: String(TOKEN_TTL_SECS),
        SANDBOX_ALLOWED_ORIGINS: `http://${SITE}`,
        SANDBOX_WEBHOOK_URL: `http://${SITE}/webhooks/alternative`,
        SANDBOX_WEBHOOK_SECRETS: WEBHOOK_SECRET,
        RUST_LOG: "info",
      },
    },
    {
      command: "cargo leptos serve --release",
      cwd: "..",
      url: `http://${SITE}/`,
      timeout: 600_000,
      reuseExistingServer: false,
      gracefulShutdown: { signal: "SIGINT", timeout: 10_000 },
      stdout: "pipe",
      stderr: "pipe",
      env: {
        LEPTOS_SITE_ADDR: SITE,
        LEPTOS_RELOAD_PORT: "3201",
        ALTERNATIVE_ENVIRONMENT: "sandbox",
        ALTERNATIVE_API_URL: SANDBOX_URL,
        ALTERNATIVE_CLIENT_ID: "demo_client_id",
        ALTERNATIVE_CLIENT_SECRET: "demo_client_secret",
        MERCHANT_WEBHOOK_SECRETS: WEBHOOK_SECRET,
      },
    },
  ],
});
