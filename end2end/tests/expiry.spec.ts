import { expect, test, type APIRequestContext } from "@playwright/test";
import {
  countMints,
  isMint,
  logIn,
  MINT_PATH,
  openCheckout,
  resetSandbox,
  runClockUntil,
  SANDBOX,
  stepClock,
  tokenArrival,
  USERS,
} from "./helpers";

// The expiry chain with the sandbox's own refusals (no routed fakes of the
// vendor): a token it expired early, a session ended in another tab, the
// expiry without a handler, offline and back. Some tests pay: start each
// from the seed again.
test.afterEach(async ({ request }) => {
  await resetSandbox(request);
});

/** A checkout token's id (`jti`), read from its payload as the SDK reads it. */
function tokenId(token: string): string {
  return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString()).jti;
}

/** Makes the sandbox refuse the token with this id as expired from now on. */
async function expireAtVendor(request: APIRequestContext, jti: string) {
  const ended = await request.post(`${SANDBOX}/sandbox/tokens/${jti}/expire`, {
    headers: { "X-Sandbox-Control": "1" },
  });
  expect(ended.status()).toBe(204);
}

test("the real 401 chain: a token the vendor expired early is replaced, never handed out again, and the payment goes through", async ({
  page,
  request,
}) => {
  await logIn(page, "alice");
  const firstMint = page.waitForResponse(isMint);
  await openCheckout(page, "inv_1002");
  const { token } = await (await firstMint).json();
  await expect(page.getByTestId("invoice-number")).toHaveText("INV-1002");
  // The page's first reads (methods, PDF link: the invoice is the server's)
  // go out together and the link shows once both are in: only then is Pay
  // the next call to use the token. Expiring it earlier lets a first read
  // meet the 401.
  await expect(page.getByTestId("invoice-pdf")).toBeVisible();
  const refusedId = tokenId(token);
  await expireAtVendor(request, refusedId);

  const payments: number[] = [];
  page.on("response", (r) => {
    if (new URL(r.url()).pathname === "/checkout/v1/payments") payments.push(r.status());
  });
  const remint = page.waitForRequest((r) => r.url().endsWith(MINT_PATH));
  await page.getByTestId("pay-button").click();
  // The refresh tells the server which token the vendor refused…
  const sent = await remint;
  expect(new URLSearchParams(sent.postData() ?? "").get("refused")).toBe(refusedId);
  // …and gets another one, although the refused one had most of its life.
  const fresh = (await (await sent.response())!.json()).token;
  expect(tokenId(fresh)).not.toBe(refusedId);
  await expect(page.getByTestId("payment-status")).toContainText("Paid $310.40");
  expect(payments).toEqual([401, 201]);
  await expect(page.getByTestId("token-last-reason")).toHaveText("401");
});

test("log-out in another tab ends every tab of the checkout with 'log in again', and none asks again", async ({
  context,
}) => {
  const first = await context.newPage();
  await logIn(first, "alice");
  await context.clock.install();
  const firstMint = first.waitForResponse(isMint);
  await openCheckout(first, "inv_1001");
  const { expires_in } = await (await firstMint).json();
  const arrived = await tokenArrival(first);
  const second = await context.newPage();
  await openCheckout(second, "inv_1001");
  await tokenArrival(second);
  // Both tabs have all they need to pay (the second tab's reads share the
  // token's calls a second with the first's, and may have waited for them).
  for (const tab of [first, second]) {
    await expect(tab.getByTestId("pay-button")).toBeEnabled();
  }
  const mints = [countMints(first), countMints(second)];

  // A third tab logs out.
  const third = await context.newPage();
  await third.goto("/");
  await Promise.all([third.waitForURL("/login"), third.getByRole("button", { name: "Log out" }).click()]);

  // The checkout's next refresh is refused for good, and both tabs stop.
  await runClockUntil(first, arrived, (expires_in - 55) * 1000);
  for (const tab of [first, second]) {
    await expect(tab.getByTestId("checkout-ended-reason")).toHaveText(
      "Your session has ended, so this checkout has stopped.",
    );
    await expect(tab.getByTestId("pay-button")).toBeDisabled();
    await expect(tab.getByTestId("token-trouble")).toHaveCount(0);
  }
  await expect.poll(() => mints[0].pending + mints[1].pending).toBe(0);
  const refused = mints[0].sent + mints[1].sent;
  expect(refused).toBe(1);
  // Half an hour later, still nobody has asked again.
  await stepClock(first, mints, 30 * 60_000, 60_000);
  expect(mints[0].sent + mints[1].sent).toBe(refused);

  // "Log in again" comes back to this checkout.
  await second.getByTestId("log-in-again").click();
  await expect(second).toHaveURL("/login?next=/checkout/inv_1001");
  await second.getByLabel("Email").fill(USERS.alice.email);
  await second.getByLabel("Password").fill(USERS.alice.password);
  await Promise.all([
    second.waitForURL("/checkout/inv_1001"),
    second.getByTestId("login-submit").click(),
  ]);
  await expect(second.getByTestId("invoice-number")).toHaveText("INV-1001");
});

test("a token that arrives with no life left makes no loop", async ({ page }) => {
  await logIn(page, "alice");
  await page.clock.install();
  // The merchant refuses such tokens from the vendor (under 2 s); this
  // plays a server that would not, to show the page holds on its own.
  await page.route(`**${MINT_PATH}`, async (route) => {
    const response = await route.fetch();
    await route.fulfill({ response, json: { ...(await response.json()), expires_in: 0 } });
  });
  const mints = countMints(page);
  await openCheckout(page, "inv_1001");
  await expect(page.getByTestId("invoice-number")).toHaveText("INV-1001");
  await page.clock.pauseAt(Date.now() + 1_000);
  await stepClock(page, [mints], 60_000, 1_000);
  // The first token, then one refresh per 5 s at most (the SDK's floor):
  // a dozen in a minute, not thousands.
  expect(mints.sent).toBeGreaterThanOrEqual(11);
  expect(mints.sent).toBeLessThanOrEqual(13);
});

test("without a handler the expiry is shown when it comes, with no click, and Pay then fails the same way", async ({
  page,
}) => {
  await logIn(page, "alice");
  await page.clock.install();
  const firstMint = page.waitForResponse(isMint);
  await page.goto("/checkout/inv_1001?refresh=off");
  await expect(page.getByTestId("checkout-root")).toHaveAttribute("data-hydrated", "true");
  const { expires_in } = await (await firstMint).json();
  const arrived = await tokenArrival(page);
  await expect(page.getByTestId("invoice-number")).toHaveText("INV-1001");

  await runClockUntil(page, arrived, (expires_in - 2) * 1000);
  await expect(page.getByTestId("checkout-ended")).toHaveCount(0);
  await page.clock.runFor(3_000);
  await expect(page.getByTestId("checkout-ended-reason")).toContainText("AccessTokenExpiredError");

  let payments = 0;
  page.on("request", (r) => {
    if (new URL(r.url()).pathname === "/checkout/v1/payments") payments++;
  });
  await page.getByTestId("pay-button").click();
  await expect(page.getByTestId("checkout-error")).toContainText("AccessTokenExpiredError");
  expect(payments).toBe(0);
  await expect(page.getByTestId("token-refresh-count")).toHaveText("0");
});

test("offline is told as offline, and coming back online refreshes at once, once", async ({
  page,
  context,
}) => {
  await logIn(page, "alice");
  await page.clock.install();
  const firstMint = page.waitForResponse(isMint);
  await openCheckout(page, "inv_1001");
  const { expires_in } = await (await firstMint).json();
  const arrived = await tokenArrival(page);
  await expect(page.getByTestId("invoice-number")).toHaveText("INV-1001");
  const mints = countMints(page);
  await page.clock.pauseAt(Date.now() + 1_000);

  await context.setOffline(true);
  await runClockUntil(page, arrived, (expires_in - 59) * 1000);
  await expect(page.getByTestId("token-trouble-reason")).toHaveText(/You are offline/);
  // Through the quick retries (1, 2, 4, 8, 16 s): the next is 30–60 s away.
  await stepClock(page, [mints], 31_000, 1_000, true);
  await expect(page.getByTestId("token-trouble-reason")).toHaveText(/You are offline/);
  const offline = mints.sent;

  // Back online: the browser fires `online`, the backoff is cut short, and
  // the page has a token again without its clock moving.
  const refreshed = page.waitForResponse(isMint);
  await context.setOffline(false);
  expect((await refreshed).status()).toBe(200);
  await expect(page.getByTestId("token-trouble")).toHaveCount(0);
  await expect(page.getByTestId("token-last-reason")).toHaveText("visibility");
  expect(mints.sent).toBe(offline + 1);
});

test("a page hidden with no input rests after half an hour, and refreshes as soon as it is shown", async ({
  page,
}) => {
  await logIn(page, "alice");
  await page.clock.install();
  await openCheckout(page, "inv_1001");
  await expect(page.getByTestId("invoice-number")).toHaveText("INV-1001");
  const mints = countMints(page);
  await page.clock.pauseAt(Date.now() + 1_000);
  // The person switches to another tab (the page is told as the browser
  // would tell it), and does not come back for three hours.
  const setHidden = (hidden: boolean) =>
    page.evaluate((hidden) => {
      Object.defineProperty(document, "hidden", { configurable: true, get: () => hidden });
      Object.defineProperty(document, "visibilityState", {
        configurable: true,
        get: () => (hidden ? "hidden" : "visible"),
      });
      document.dispatchEvent(new Event("visibilitychange"));
    }, hidden);
  await setHidden(true);
  await stepClock(page, [mints], 3 * 3600_000, 60_000);
  // A refresh at most every 14 minutes until the half hour: two, then none
  // (without the rule: thirteen, and the session kept alive for ever).
  expect(mints.sent).toBeLessThanOrEqual(3);
  const rested = mints.sent;
  await stepClock(page, [mints], 3600_000, 60_000);
  expect(mints.sent).toBe(rested);

  // Back: one refresh at once, and the page is usable.
  const refreshed = page.waitForResponse(isMint);
  await setHidden(false);
  expect((await refreshed).status()).toBe(200);
  await expect(page.getByTestId("token-last-reason")).toHaveText("visibility");
  await expect(page.getByTestId("token-trouble")).toHaveCount(0);
  expect(mints.sent).toBe(rested + 1);
});
