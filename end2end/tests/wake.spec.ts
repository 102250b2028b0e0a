import { expect, test } from "@playwright/test";
import { countMints, isMint, logIn, openCheckout, stepClock } from "./helpers";

test("C1: a tab woken past its refresh point refreshes once, at once", async ({ page }) => {
  await logIn(page, "alice");
  await page.clock.install();
  await openCheckout(page, "inv_1001");
  await expect(page.getByTestId("invoice-number")).toHaveText("INV-1001");
  let mints = 0;
  page.on("request", (r) => {
    if (r.url().endsWith("/api/checkout/token")) mints++;
  });
  // The machine slept for 20 minutes: the wall clock moved, no timer ran.
  await page.clock.setSystemTime(Date.now() + 20 * 60 * 1000);
  const refreshed = page.waitForResponse(isMint);
  // The tab comes back: several wake-up events at once.
  await page.evaluate(() => {
    document.dispatchEvent(new Event("visibilitychange"));
    window.dispatchEvent(new Event("focus"));
    window.dispatchEvent(new Event("online"));
  });
  expect((await refreshed).status()).toBe(200);
  await expect(page.getByTestId("token-refresh-count")).toHaveText("1");
  await expect(page.getByTestId("token-last-reason")).toHaveText("visibility");
  expect(mints).toBe(1);
});

test("C4: a failing refresh backs off, shows an expired state with a retry, and recovers by itself", async ({
  page,
}) => {
  await logIn(page, "alice");
  await page.clock.install();
  await openCheckout(page, "inv_1001");
  await expect(page.getByTestId("invoice-number")).toHaveText("INV-1001");
  const mints = countMints(page);
  await page.route("**/api/checkout/token", async (route) => {
    await route.fulfill({
      status: 502,
      contentType: "application/json",
      body: JSON.stringify({ code: "vendor_unavailable" }),
    });
  });
  // From here the page's time moves only when the test moves it, so each
  // backoff timer is armed (after its failed round trip) before it can fire.
  await page.clock.pauseAt(Date.now() + 1_000);
  await page.clock.runFor(841_000);
  await expect(page.getByText("Your checkout session expired.")).toBeVisible();
  // A second at a time through the quick retries: 1, 2, 4, 8 and 16 s apart
  // (the first may already have run: runFor lets the page's responses in).
  await stepClock(page, [mints], 31_000, 1_000, true);
  expect(mints.sent).toBe(6);
  // Ten more minutes of the merchant being down: a try every 30–60 s, no loop.
  await stepClock(page, [mints], 600_000, 5_000, true);
  expect(mints.sent - 6).toBeGreaterThanOrEqual(10);
  expect(mints.sent - 6).toBeLessThanOrEqual(20);
  await expect(page.getByTestId("token-trouble")).toBeVisible();
  await expect(page.getByText(/Trying again by itself in \d+ s/)).toBeVisible();
  // A person may try at once.
  const before = mints.sent;
  await page.getByRole("button", { name: "Try again now" }).click();
  await expect.poll(() => mints.sent).toBe(before + 1);
  await expect.poll(() => mints.pending).toBe(0);
  // The merchant is back: within a minute the page recovers by itself.
  await page.unroute("**/api/checkout/token");
  await stepClock(page, [mints], 60_000);
  await expect(page.getByTestId("token-trouble")).toHaveCount(0);
  await expect(page.getByTestId("token-last-reason")).toHaveText("timer");
});

test("C4: leaving the checkout page stops its timer and its listeners", async ({ page }) => {
  await logIn(page, "alice");
  await page.clock.install();
  const firstMint = page.waitForResponse(isMint);
  await openCheckout(page, "inv_1001");
  const { expires_in } = await (await firstMint).json();
  let mints = 0;
  page.on("request", (r) => {
    if (r.url().endsWith("/api/checkout/token")) mints++;
  });
  // A link to another page: the checkout island and its SDK client go away
  // with the document (the pages are islands, not a single-page app).
  await page.getByRole("link", { name: "Demo Merchant" }).click();
  await expect(page.getByTestId("invoice-list")).toBeVisible();
  await page.clock.runFor((expires_in + 60) * 1000);
  await page.evaluate(() => {
    document.dispatchEvent(new Event("visibilitychange"));
    window.dispatchEvent(new Event("focus"));
  });
  // A request sent after any the events could have started: once it is
  // answered, an earlier mint would have been seen.
  await page.evaluate(() => fetch("/healthz").then((r) => r.status));
  expect(mints).toBe(0);
});
