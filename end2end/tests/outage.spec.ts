import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { countMints, logIn, openCheckout, stepClock } from "./helpers";

// A chaos drill (tag @chaos: scripts/chaos runs it, scripts/test through it).
// The vendor as a process of its own, which this test stops and starts,
// and a second app server that reaches it as it would a real vendor
// (ALTERNATIVE_API_URL and credentials). Both are the release binaries
// scripts/test builds before Playwright runs.
const ROOT = path.resolve(__dirname, "../..");
const SITE = "127.0.0.1:3110";
const VENDOR = "127.0.0.1:3140";
const WORK = path.join(ROOT, "target/e2e-outage");
const TOKEN_TTL_SECS = 10;

let vendor: ChildProcess;
let server: ChildProcess;

function start(binary: string, env: Record<string, string>): ChildProcess {
  return spawn(path.join(ROOT, "target/release", binary), [], {
    cwd: ROOT,
    env: { ...process.env, RUST_LOG: "warn", ...env },
    stdio: "ignore",
  });
}

async function answers(url: string) {
  await expect
    .poll(
      async () => {
        try {
          return (await fetch(url)).ok;
        } catch {
          return false;
        }
      },
      { timeout: 20_000 },
    )
    .toBe(true);
}

async function startVendor() {
  // The same database each time: a vendor that comes back keeps its keys,
  // OAuth grants and payments.
  vendor = start("sandbox", {
    SANDBOX_ADDR: VENDOR,
    SANDBOX_DATABASE_URL: `sqlite://${WORK}/sandbox.db`,
    SANDBOX_ALLOWED_ORIGINS: `http://${SITE}`,
    SANDBOX_RATE_LIMIT_PER_SEC: "0",
    // Short-lived tokens: the merchant hands a token out again only while
    // it has most of its life left, so within seconds of the vendor going
    // away a refresh really needs it.
    SANDBOX_CHECKOUT_TOKEN_TTL_SECS: String(TOKEN_TTL_SECS),
  });
  await answers(`http://${VENDOR}/.well-known/jwks.json`);
}

async function stop(process: ChildProcess, signal: NodeJS.Signals) {
  if (process.exitCode === null && process.signalCode === null) {
    const exited = once(process, "exit");
    process.kill(signal);
    await exited;
  }
}

test.use({ baseURL: `http://${SITE}` });

test.beforeAll(async () => {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  await startVendor();
  server = start("server", {
    LEPTOS_OUTPUT_NAME: "checkout",
    LEPTOS_SITE_ROOT: "target/site",
    LEPTOS_SITE_PKG_DIR: "pkg",
    LEPTOS_HASH_FILES: "true",
    LEPTOS_SITE_ADDR: SITE,
    ALTERNATIVE_API_URL: `http://${VENDOR}`,
    ALTERNATIVE_CLIENT_ID: "demo_client_id",
    ALTERNATIVE_CLIENT_SECRET: "demo_client_secret",
    MERCHANT_DATABASE_URL: "sqlite::memory:",
    // 10-second tokens refresh every 7.5 s in every tab: far more often
    // than the per-session mint limit allows for real 15-minute tokens.
    MERCHANT_RATE_LIMITS: "off",
  });
  await answers(`http://${SITE}/healthz`);
});

test.afterAll(async () => {
  await stop(server, "SIGINT");
  await stop(vendor, "SIGINT");
});

const trouble = (page: Page) => page.getByTestId("token-trouble");

test("vendor outage with pages open: they say so, back off together, and recover by themselves", { tag: "@chaos" }, async ({
  context,
}) => {
  // Two tabs of one checkout and a tab of another, on one clock.
  const first = await context.newPage();
  await logIn(first, "alice");
  await context.clock.install();
  await openCheckout(first, "inv_1001");
  const second = await context.newPage();
  await openCheckout(second, "inv_1001");
  const other = await context.newPage();
  await openCheckout(other, "inv_1002");
  const pages = [first, second, other];
  for (const [page, number] of [
    [first, "INV-1001"],
    [second, "INV-1001"],
    [other, "INV-1002"],
  ] as const) {
    await expect(page.getByTestId("invoice-number")).toHaveText(number);
    await expect(page.getByTestId("pay-button")).toBeEnabled();
  }
  const mints = pages.map(countMints);
  const sent = () => mints.reduce((n, c) => n + c.sent, 0);

  // The vendor goes away; the pages' time stops until the test moves it.
  await context.clock.pauseAt(Date.now() + 1_000);
  await stop(vendor, "SIGKILL");
  // Until the merchant's tokens are past their reuse floor (three eighths
  // to a half of their life left) it hands them out again without the
  // vendor; wait until a mint needs the vendor (502).
  for (const invoice of ["inv_1001", "inv_1002"]) {
    await expect
      .poll(
        async () =>
          (await context.request.post("/api/checkout/token", { form: { invoice_id: invoice } }))
            .status(),
        { timeout: 20_000 },
      )
      .toBe(502);
  }
  // The pages' refresh falls due: they cannot get a token, and say why.
  await stepClock(first, mints, TOKEN_TTL_SECS * 1_000);
  for (const page of pages) {
    await expect(trouble(page)).toBeVisible();
    await expect(page.getByTestId("token-trouble-reason")).toHaveText(
      /payment provider is not responding/,
    );
  }
  // Five more minutes of outage. Each checkout tries 1, 2, 4, 8 and 16 s
  // after failing, then every 30–60 s — its two tabs together, as one: no
  // storm, however many tabs are open.
  await stepClock(first, mints, 300_000);
  const duringOutage = sent();
  test.info().annotations.push({
    type: "mint calls from 3 tabs of 2 checkouts through the outage",
    description: String(duringOutage),
  });
  // Per checkout: the first try, five quick retries, then one every 30–60 s.
  expect(duringOutage).toBeGreaterThanOrEqual(2 * (1 + 5 + 3));
  expect(duringOutage).toBeLessThanOrEqual(2 * (1 + 5 + 300 / 30));
  for (const page of pages) await expect(trouble(page)).toBeVisible();

  // The vendor is back. Within a minute every page has a token again,
  // without anyone reloading or clicking.
  await startVendor();
  for (let waited = 0; waited < 60_000; waited += 5_000) {
    const troubled = await Promise.all(pages.map((page) => trouble(page).count()));
    if (troubled.every((n) => n === 0)) break;
    await stepClock(first, mints, 5_000);
  }
  for (const page of pages) {
    await expect(trouble(page)).toHaveCount(0);
    await expect(page.getByTestId("token-last-reason")).toHaveText(/timer|tab/);
  }

  // And the vendor takes the new tokens: a payment goes through.
  await other.getByTestId("pay-button").click();
  await expect(other.getByTestId("payment-status")).toContainText("Paid");
});

test("a page opened during the outage says so and loads by itself when the vendor returns", { tag: "@chaos" }, async ({
  page,
}) => {
  await logIn(page, "alice");
  await stop(vendor, "SIGKILL");
  await page.clock.install();
  // inv_1002 was paid above; inv_1001 is still open.
  await page.goto("/checkout/inv_1001");
  await expect(page.getByTestId("checkout-root")).toHaveAttribute("data-hydrated", "true");
  const error = page.getByTestId("checkout-error");
  await expect(error).toContainText(/payment provider is (not responding|unavailable)/);
  await expect(error).toContainText(/Trying again by itself in \d+ s/);
  await startVendor();
  // The next try is at most a minute away.
  const mints = countMints(page);
  await stepClock(page, [mints], 60_000);
  await expect(page.getByTestId("invoice-number")).toHaveText("INV-1001");
  await expect(page.getByTestId("pay-button")).toBeEnabled();
  await expect(error).toHaveText("");
});
