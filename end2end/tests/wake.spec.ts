import { expect, test } from "@playwright/test";
import { isMint, logIn, openCheckout } from "./helpers";

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

test("C4: a failing refresh backs off, shows an expired state with a retry, and recovers", async ({
  page,
}) => {
  await logIn(page, "alice");
  await page.clock.install();
  await openCheckout(page, "inv_1001");
  await expect(page.getByTestId("invoice-number")).toHaveText("INV-1001");
  let attempts = 0;
  await page.route("**/api/checkout/token", async (route) => {
    attempts++;
    await route.fulfill({
      status: 502,
      contentType: "application/json",
      body: JSON.stringify({ code: "vendor_unavailable" }),
    });
  });
  await page.clock.runFor(841_000);
  await expect(page.getByText("Your checkout session expired.")).toBeVisible();
  // Ten more minutes of the merchant being down: a handful of retries, no loop.
  await page.clock.runFor(600_000);
  expect(attempts).toBeGreaterThanOrEqual(2);
  expect(attempts).toBeLessThanOrEqual(6);
  // The merchant is back; the person retries.
  await page.unroute("**/api/checkout/token");
  const recovered = page.waitForResponse(isMint);
  await page.getByRole("button", { name: "Try again" }).click();
  expect((await recovered).status()).toBe(200);
  await expect(page.getByText("Your checkout session expired.")).toHaveCount(0);
  await expect(page.getByTestId("token-last-reason")).toHaveText("retry");
});
