import { expect, test, type Page, type Response } from "@playwright/test";
import { isMintTo, Sandbox, tokenId, waitForHydration } from "checkout-playwright-kit";
import { SANDBOX_URL, TOKEN_TTL_SECS } from "../playwright.config";

// The checkout in a real browser, against the vendor sandbox: the token
// refreshed before it expires, a token the vendor refuses replaced through
// the handler, and a payment the shop records.
const isMint = isMintTo("/api/checkout-token");

/** Opens the page and waits for the island: hydrated, its first token in. */
async function open(page: Page): Promise<Response> {
  const firstMint = page.waitForResponse(isMint);
  await page.goto("/");
  await waitForHydration(page.locator("section[data-hydrated]"));
  const mint = await firstMint;
  expect(mint.status()).toBe(200);
  await expect(page.getByTestId("status")).toHaveText("Invoice INV-1001 is open: 1250.00 USD.");
  return mint;
}

test.beforeEach(async ({ request }) => {
  // Each test starts from the sandbox's seed: the invoice open again.
  await new Sandbox(request, SANDBOX_URL).reset();
});

test("the token is refreshed through the server function before it expires", async ({ page }) => {
  // A fake clock drives the SDK's timers; the server and the vendor keep real time.
  await page.clock.install();
  await open(page);
  await expect(page.getByTestId("refreshes")).toHaveText("0");
  const refresh = page.waitForResponse(isMint);
  await page.clock.runFor(TOKEN_TTL_SECS * 1000);
  expect((await refresh).status()).toBe(200);
  await expect(page.getByTestId("refreshes")).toHaveText("1");
});

test("a token the vendor refuses as expired is replaced through the handler, and the payment goes through", async ({
  page,
  request,
}) => {
  const sandbox = new Sandbox(request, SANDBOX_URL);
  const jti = await tokenId(await open(page));
  const refusedBefore = (await sandbox.stats()).unauthorized.access_token_expired;
  // The vendor ends the page's token early: its next call is a 401.
  await sandbox.expireToken(jti);
  const remint = page.waitForResponse(isMint);
  await page.getByTestId("pay").click();
  const replacement = await remint;
  expect(replacement.status()).toBe(200);
  expect(await tokenId(replacement)).not.toBe(jti);
  await expect(page.getByTestId("status")).toHaveText(/^Paid: 1250\.00 USD/);
  await expect(page.getByTestId("refreshes")).toHaveText("1");
  // The vendor refused the old token once: the chain ran, not a refresh ahead of it.
  expect((await sandbox.stats()).unauthorized.access_token_expired).toBe(refusedBefore + 1);
});

test("a payment is recorded by the shop, from the vendor's word, not the page's", async ({ page, request }) => {
  const sandbox = new Sandbox(request, SANDBOX_URL);
  await open(page);
  const deliveredBefore = (await sandbox.stats()).events.delivered;
  await page.getByTestId("pay").click();
  // The reconcile asked the vendor with the shop's own credentials.
  await expect(page.getByTestId("status")).toHaveText(/^Paid: 1250\.00 USD .*Recorded by the shop as pay_/);
  // The vendor's signed event reached the webhook endpoint and was acknowledged.
  await expect.poll(async () => (await sandbox.stats()).events.delivered).toBe(deliveredBefore + 1);
  // A delivery that is not the vendor's is refused.
  const forged = await request.post("/webhooks/alternative", {
    headers: { "Alternative-Signature": `t=${Math.floor(Date.now() / 1000)},v1=00`, "Content-Type": "application/json" },
    data: "{}",
  });
  expect(forged.status()).toBe(400);
});
