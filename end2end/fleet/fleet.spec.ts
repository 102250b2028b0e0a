// Through the balancer of a fleet (fleet.config.ts): the tabs of one
// checkout agree in the browser, so it does not matter that different
// instances served them — one refresh for both, and both pay.
import { expect, test, type Page, type Response } from "@playwright/test";
import { isMint, logIn, refreshBothTabs, tokenArrival } from "../tests/helpers";

/** Which instance gave an answer: nginx adds its upstream's address. */
const servedBy = (response: Response | null) => response?.headers()["x-served-by"] ?? "";

/** Opens the checkout: the instance that served the page, and its first mint. */
async function openThroughBalancer(page: Page, invoiceId: string) {
  const mint = page.waitForResponse(isMint);
  const document = await page.goto(`/checkout/${invoiceId}`);
  await expect(page.getByTestId("checkout-root")).toHaveAttribute("data-hydrated", "true");
  return { page: servedBy(document), minted: await mint };
}

test("two tabs of one checkout served by different instances make one refresh together", async ({
  page,
}) => {
  const context = page.context();
  await logIn(page, "alice");
  await context.clock.install();
  const first = await openThroughBalancer(page, "inv_1001");
  const { expires_in } = await first.minted.json();
  const arrived = await tokenArrival(page);

  // Round robin: each request takes the next instance. Opening a page
  // sends the same requests each time, so the second tab's page could
  // always land where the first's did: one request more in between moves
  // it on (a few tries, within the 20 mints a session may make at once).
  const other = await context.newPage();
  let second = await openThroughBalancer(other, "inv_1001");
  for (let tries = 0; tries < 8 && second.page === first.page; tries++) {
    await other.evaluate(() => fetch("/healthz"));
    second = await openThroughBalancer(other, "inv_1001");
  }
  await tokenArrival(other);
  expect(first.page).toMatch(/^127\.0\.0\.1:346[1-2]$/);
  expect(second.page).toMatch(/^127\.0\.0\.1:346[1-2]$/);
  expect(second.page).not.toBe(first.page);
  // The fleet shares one token per invoice: both tabs hold the same.
  expect((await second.minted.json()).token).toBe((await first.minted.json()).token);

  const mints = await refreshBothTabs(page, other, arrived, expires_in);
  expect(mints).toHaveLength(1);
  expect(servedBy(await mints[0].response())).toMatch(/^127\.0\.0\.1:346[1-2]$/);

  // And the refreshed token pays, through whichever instance comes next.
  await other.close();
  await page.getByTestId("pay-button").click();
  await expect(page.getByTestId("payment-status")).toContainText("Paid $1,250.00");
});
