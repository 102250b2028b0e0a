import { expect, test } from "@playwright/test";
import {
  SANDBOX,
  isMint,
  logIn,
  openCheckout,
  refreshBothTabs,
  runClockUntil,
  tokenArrival,
} from "./helpers";

test("two tabs of the same checkout due at the same moment make one refresh", async ({ page }) => {
  // Both tabs live in one browser context, so one fake clock drives both
  // tabs' timers: they come due within the same second.
  const context = page.context();
  await logIn(page, "alice");
  await context.clock.install();
  const firstMint = page.waitForResponse(isMint);
  await openCheckout(page, "inv_1001");
  const { expires_in } = await (await firstMint).json();
  const arrived = await tokenArrival(page);
  const other = await context.newPage();
  await openCheckout(other, "inv_1001");
  await tokenArrival(other);

  // One tab refreshed by its timer, the other took the shared token.
  const mints = await refreshBothTabs(page, other, arrived, expires_in);
  expect(mints).toHaveLength(1);
  await other.close();
});

for (const [label, offsetMinutes] of [
  ["ten minutes behind", -10],
  ["three hours ahead of", 180],
] as const) {
  test(`C2: a page clock ${label} the server's still refreshes in time`, async ({ page }) => {
    // Only the lifetime the server reported, counted on the page's own clock
    // from the token's arrival, decides when to refresh: the wall-clock
    // offset plays no part.
    await logIn(page, "alice");
    await page.clock.install({ time: Date.now() + offsetMinutes * 60_000 });
    const firstMint = page.waitForResponse(isMint);
    await openCheckout(page, "inv_1002");
    const { expires_in } = await (await firstMint).json();
    const arrived = await tokenArrival(page);

    await runClockUntil(page, arrived, (expires_in - 62) * 1000);
    await expect(page.getByTestId("token-refresh-count")).toHaveText("0");
    const refreshed = page.waitForResponse(isMint);
    await page.clock.runFor(4_000);
    expect((await refreshed).status()).toBe(200);
    await expect(page.getByTestId("token-refresh-count")).toHaveText("1");
    await expect(page.getByTestId("token-last-reason")).toHaveText("timer");
    // Still well before expiry: the developer panel shows most of a lifetime left.
    const left = Number(await page.getByTestId("token-expires-in").textContent());
    expect(left).toBeGreaterThan(expires_in - 60);
  });
}

test("a read the vendor rate-limits is sent again after its Retry-After, and the page still gets its way to pay", async ({
  page,
}) => {
  // Tabs of one checkout share a token, and so the vendor's calls a second
  // for it: a quickly opened second tab can be told 429. Here the payment
  // methods are refused four times (the SDK waits out three by itself,
  // then the page shows it and tries again).
  await logIn(page, "alice");
  const refusals = 4;
  let sent = 0;
  await page.route(`${SANDBOX}/checkout/v1/payment-methods`, async (route) => {
    if (route.request().method() !== "GET") return route.continue();
    sent += 1;
    if (sent > refusals) return route.continue();
    return route.fulfill({
      status: 429,
      headers: {
        "access-control-allow-origin": route.request().headers()["origin"] ?? "*",
        "access-control-expose-headers": "retry-after",
        "retry-after": "1",
      },
      contentType: "application/json",
      body: JSON.stringify({ code: "rate_limited", message: "too many requests" }),
    });
  });
  await openCheckout(page, "inv_1001");
  await expect(page.getByTestId("checkout-error")).toContainText("busy (too many requests)");
  await expect(page.getByTestId("pay-button")).toBeEnabled();
  await expect(page.getByTestId("checkout-error")).toHaveText("");
  expect(sent).toBe(refusals + 1);
  await expect(page.getByTestId("invoice-number")).toHaveText("INV-1001");
});
