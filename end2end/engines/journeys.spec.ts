// The payer's core journeys in every engine (Chromium, Firefox, WebKit),
// through WebDriver: the token refreshed by its timer before it expires;
// two tabs of one checkout making one refresh; a log-out in another tab
// ending the checkout; the 401 chain through the handler, then pay; log
// in, open a checkout and pay. In this order: the last two pay alice's
// two invoices, which the others keep open. Tokens live TOKEN_TTL_SECS (engines.config.ts), so the
// refresh comes within seconds, with no clock to move. Each test waits on
// the page's markers (hydration, the PDF link, the developer panel's
// counts), never for a set time.
import { expect } from "@playwright/test";
import { By } from "selenium-webdriver";
import { TOKEN_TTL_SECS } from "../engines.config";
import {
  byTestId,
  logIn,
  openCheckout,
  sandboxStats,
  test,
  textOf,
  waitFor,
  waitForText,
} from "./fixtures";

/** The checkout token the server hands this session for `invoiceId`: the
 * page's own, since the server hands a token out again while it has more
 * than half its life. */
async function currentToken(site: string, cookie: string, invoiceId: string): Promise<string> {
  const answer = await fetch(`${site}/api/checkout/token`, {
    method: "POST",
    headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ invoice_id: invoiceId }),
  });
  expect(answer.status).toBe(200);
  return (await answer.json()).token;
}

/** A JWT's `jti`. */
function tokenId(token: string): string {
  return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString()).jti;
}

test("the token is refreshed by its timer before it expires", async ({ web, site }) => {
  await logIn(web, site);
  await openCheckout(web, site, "inv_1001");
  expect(await textOf(web, "token-refresh-count")).toBe("0");
  // Due a quarter of its life before expiry; waited for as the page's count.
  await waitFor(
    web,
    "the timer's refresh",
    async () => (await textOf(web, "token-refresh-count")) === "1",
    TOKEN_TTL_SECS * 1_000,
  );
  expect(await textOf(web, "token-last-reason")).toBe("timer");
  expect(await textOf(web, "checkout-error")).toBe("");
});

test("two tabs of one checkout make one refresh together", async ({ web, site, sandbox }) => {
  await logIn(web, site);
  await openCheckout(web, site, "inv_1002");
  const first = await web.getWindowHandle();
  await web.switchTo().newWindow("tab");
  await openCheckout(web, site, "inv_1002");
  const issued = async () => Number((await sandboxStats(sandbox)).checkout_tokens_issued);
  const before = await issued();
  // Each tab counts the refresh: one made it, the other took its token.
  await waitFor(
    web,
    "the second tab's refresh",
    async () => (await textOf(web, "token-refresh-count")) === "1",
    TOKEN_TTL_SECS * 1_000,
  );
  await web.switchTo().window(first);
  await waitFor(web, "the first tab's refresh", async () => (await textOf(web, "token-refresh-count")) === "1");
  expect(await issued()).toBe(before + 1);
  expect(await textOf(web, "checkout-error")).toBe("");
});

test("a log-out in another tab ends the checkout, with a way to log in again", async ({ web, site }) => {
  await logIn(web, site, "bob");
  await openCheckout(web, site, "inv_2001");
  const checkout = await web.getWindowHandle();
  await web.switchTo().newWindow("tab");
  await web.get(`${site}/`);
  await web.findElement(By.css("form.logout button")).click();
  await waitFor(web, "logged out", async () => (await web.findElements(byTestId("user-name"))).length === 0);
  await web.switchTo().window(checkout);
  // The next refresh (its timer, at the latest) is refused: not logged in.
  await waitFor(
    web,
    "the checkout to end",
    async () => (await web.findElements(byTestId("log-in-again"))).length > 0,
    TOKEN_TTL_SECS * 1_000,
  );
  expect(await textOf(web, "checkout-ended-reason")).toMatch(/session has ended/);
});

test("a token the vendor expired early is replaced through the handler, and the payment goes through", async ({
  web,
  site,
  sandbox,
}) => {
  await logIn(web, site);
  await openCheckout(web, site, "inv_1002");
  const session = await web.manage().getCookie("merchant_session");
  const jti = tokenId(await currentToken(site, `merchant_session=${session.value}`, "inv_1002"));
  const expired = await fetch(`${sandbox}/sandbox/tokens/${jti}/expire`, {
    method: "POST",
    headers: { "X-Sandbox-Control": "1" },
  });
  expect(expired.status).toBe(204);
  await waitFor(web, "Pay enabled", async () => web.findElement(byTestId("pay-button")).isEnabled());
  await web.findElement(byTestId("pay-button")).click();
  await waitForText(web, "payment-status", /^Paid \$310\.40/);
  expect(await textOf(web, "token-last-reason")).toBe("401");
});

test("log in, open a checkout and pay", async ({ web, site }) => {
  await logIn(web, site);
  await openCheckout(web, site, "inv_1001");
  await waitForText(web, "invoice-number", "INV-1001");
  await waitFor(web, "Pay enabled", async () => web.findElement(byTestId("pay-button")).isEnabled());
  await web.findElement(byTestId("pay-button")).click();
  await waitForText(web, "payment-status", /^Paid \$1,250\.00/);
  await waitForText(web, "invoice-status", "paid");
  expect(await web.findElements(byTestId("pay-button"))).toHaveLength(0);
});
