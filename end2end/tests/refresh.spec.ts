import { expect, test, type Response } from "@playwright/test";
import { isMethodsCall, isMint, logIn, openCheckout, runClockUntil, tokenArrival } from "./helpers";

/** The vendor's answer to a call with an expired checkout token. */
const EXPIRED = {
  status: 401,
  headers: {
    "content-type": "application/json",
    "access-control-allow-origin": "*",
    "www-authenticate": 'Bearer error="invalid_token"',
  },
  body: JSON.stringify({ code: "access_token_expired", message: "expired" }),
};

/** The page's first reads from the vendor (the invoice is the server's). */
const VENDOR_READS = ["/checkout/v1/payment-methods", "/checkout/v1/invoice/pdf-link"];

test("the token is refreshed by its timer before it expires", async ({ page }) => {
  // A fake clock drives the SDK's gloo-timers; the merchant and vendor keep real time.
  await logIn(page, "alice");
  await page.clock.install();
  const firstMint = page.waitForResponse(isMint);
  await openCheckout(page, "inv_1001");
  const first = await firstMint;
  const { expires_in } = await first.json();
  const arrived = await tokenArrival(page);
  // Each mint says why the page asks; the server counts them by it.
  const reason = (r: Response) => new URLSearchParams(r.request().postData() ?? "").get("reason");
  expect(reason(first)).toBe("first");

  // Just short of the refresh point (a 60 s margin before expiry): nothing yet.
  await runClockUntil(page, arrived, (expires_in - 62) * 1000);
  await expect(page.getByTestId("token-refresh-count")).toHaveText("0");

  const refreshMint = page.waitForResponse(isMint);
  await page.clock.runFor(4_000);
  const refreshed = await refreshMint;
  expect(refreshed.status()).toBe(200);
  expect(reason(refreshed)).toBe("timer");
  await expect(page.getByTestId("token-refresh-count")).toHaveText("1");
  await expect(page.getByTestId("checkout-error")).toBeEmpty();
});

test("a call refused with access_token_expired gets a new token from the handler and is retried", async ({
  page,
}) => {
  // The vendor says the first token expired; the SDK must call its
  // on_access_token_expired handler (a new mint) and retry once.
  await logIn(page, "alice");
  let refusals = 0;
  await page.route("**/checkout/v1/payment-methods", async (route) => {
    if (refusals === 0) {
      refusals++;
      await route.fulfill(EXPIRED);
    } else {
      await route.continue();
    }
  });
  const mints: number[] = [];
  page.on("response", (r) => {
    if (isMint(r)) mints.push(r.status());
  });
  const retried = page.waitForResponse((r) => isMethodsCall(r) && r.status() === 200);

  await openCheckout(page, "inv_1002");
  await retried;
  await expect(page.getByTestId("invoice-number")).toHaveText("INV-1002");
  await expect(page.getByRole("radio")).toHaveCount(2);
  await expect(page.getByTestId("token-refresh-count")).toHaveText("1");
  expect(refusals).toBe(1);
  expect(mints).toEqual([200, 200]);
});

test("C3: the page's first reads refused at once make one handler call, and each is retried once", async ({
  page,
}) => {
  await logIn(page, "alice");
  // Every first read is refused as expired; the page sends them together.
  const seen = new Map<string, number>();
  await page.route(
    (url) => VENDOR_READS.includes(url.pathname),
    async (route) => {
      const path = new URL(route.request().url()).pathname;
      const n = (seen.get(path) ?? 0) + 1;
      seen.set(path, n);
      if (n > 1) return route.continue();
      await route.fulfill(EXPIRED);
    },
  );
  const mints: number[] = [];
  page.on("response", (r) => {
    if (isMint(r)) mints.push(r.status());
  });
  await openCheckout(page, "inv_1001");
  await expect(page.getByTestId("invoice-number")).toHaveText("INV-1001");
  await expect(page.getByRole("radio")).toHaveCount(2);
  await expect(page.getByTestId("invoice-pdf")).toBeVisible();
  expect(Object.fromEntries(seen)).toEqual(Object.fromEntries(VENDOR_READS.map((p) => [p, 2])));
  expect(mints).toEqual([200, 200]);
  await expect(page.getByTestId("token-refresh-count")).toHaveText("1");
  await expect(page.getByTestId("token-last-reason")).toHaveText("401");
});
