// This app's side of the Playwright kit (end2end/kit, which the template's
// tests take too): its paths, its demo users, its pages' test ids.
import {
  expect,
  type APIRequestContext,
  type Page,
  type Request,
  type Response,
} from "@playwright/test";
import * as kit from "checkout-playwright-kit";
import { createHmac } from "node:crypto";

export { runClockUntil } from "checkout-playwright-kit";

/** The server function that mints checkout tokens. */
export const MINT_PATH = "/api/checkout/token";
/** The embedded sandbox, where playwright.config.ts puts it. */
export const SANDBOX = "http://127.0.0.1:3130";

/** The secret the embedded sandbox signs its events with here, and the site
 * checks them with (playwright.config.ts sets both), so a test can deliver
 * an event of its own as the vendor would. */
export const WEBHOOK_SECRET = "whsec_playwright_0123456789abcdef";

/** Delivers a `payment.succeeded` event to the site's webhook endpoint,
 * signed as the vendor signs (HMAC-SHA256 over "<t>.<body>"); returns the
 * site's answer. */
export async function deliverPayment(
  request: APIRequestContext,
  payment: { invoiceId: string; amount: string; currency: string },
) {
  const id = `pay_e2e_${Date.now()}`;
  const body = JSON.stringify({
    id: `evt_e2e_${Date.now()}`,
    type: "payment.succeeded",
    created_at: new Date().toISOString(),
    data: {
      payment: { id, invoice_id: payment.invoiceId, amount: payment.amount, currency: payment.currency },
    },
  });
  const t = Math.floor(Date.now() / 1000);
  const v1 = createHmac("sha256", WEBHOOK_SECRET).update(`${t}.${body}`).digest("hex");
  return request.post("/webhooks/alternative", {
    headers: { "content-type": "application/json", "alternative-signature": `t=${t},v1=${v1}` },
    data: body,
  });
}

/** The vendor's seed data again (the sandbox's control: it wants its marker header). */
export async function resetSandbox(request: APIRequestContext) {
  await new kit.Sandbox(request, SANDBOX).reset();
}

/** The documented demo users. */
export const USERS = {
  alice: { email: "alice@example.com", password: "alice-demo-password", name: "Alice (Acme Corp)" },
  bob: { email: "bob@example.com", password: "bob-demo-password", name: "Bob (Globex Corporation)" },
} as const;

export const isMint: (r: Response) => boolean = kit.isMintTo(MINT_PATH);

export const isInvoiceCall = (r: Response) =>
  new URL(r.url()).pathname === "/checkout/v1/invoice" && r.request().method() === "GET";

export const isMethodsCall = (r: Response) =>
  new URL(r.url()).pathname === "/checkout/v1/payment-methods" && r.request().method() === "GET";

/** Logs in through the form, as a person would, and waits for the home page. */
export async function logIn(page: Page, who: keyof typeof USERS) {
  const { email, password } = USERS[who];
  const submit = page.getByTestId("login-submit");
  await kit.logInWithForm(page, { path: "/login", email, password, submit, landing: "/" });
  await expect(page.getByTestId("user-name")).toHaveText(USERS[who].name);
}

/** Logs an API request context in, as a script with curl would. */
export async function logInApi(request: APIRequestContext, who: keyof typeof USERS) {
  const response = await request.post("/api/login", {
    form: { email: USERS[who].email, password: USERS[who].password },
    maxRedirects: 0,
  });
  expect([200, 302, 303]).toContain(response.status());
}

/** Opens a checkout page and waits until the component has hydrated. */
export async function openCheckout(page: Page, invoiceId: string) {
  await page.goto(`/checkout/${invoiceId}`);
  await kit.waitForHydration(page.getByTestId("checkout-root"));
}

/**
 * Waits until the page's SDK holds its first token, and returns the page's
 * clock at that moment (faked by `page.clock` when installed).
 */
export async function tokenArrival(page: Page): Promise<number> {
  await expect(page.getByTestId("token-expires-in")).not.toHaveText("0");
  return page.evaluate(() => Date.now());
}

/** A page's calls to the mint endpoint: how many were sent, how many are unanswered. */
export function countMints(page: Page) {
  return kit.countMints(page, MINT_PATH);
}

/**
 * Moves a paused clock `ms` forward in steps, letting the mints each step
 * set off come back before the next (the kit's `stepClock`). With `settle`,
 * also waits, after each step, until a refresh the step set off on `page`
 * has been answered and its next timer armed (the page's
 * `data-token-refreshing`): without it a busy machine can let the next
 * step run first, arm the backoff a step late and lose a retry from an
 * exact count. Single-tab tests only: a tab waiting for another's news
 * waits on the page clock, which does not move while this waits.
 */
export async function stepClock(
  page: Page,
  counts: { pending: number }[],
  ms: number,
  stepMs = 5_000,
  settle = false,
) {
  const settled = async () => {
    await expect(page.getByTestId("checkout-root")).toHaveAttribute(
      "data-token-refreshing",
      "false",
      { timeout: 20_000 },
    );
  };
  await kit.stepClock(page, counts, ms, stepMs, settle ? settled : undefined);
}

/**
 * Two tabs of one checkout holding the same token, whose fake clock (one
 * `context.clock` drives both) stands before their refresh: runs it to 3 s
 * short of the first tab's refresh point (60 s before expiry), checks no
 * mint went out, then past both tabs' points. Returns the mint requests
 * sent meanwhile, once both tabs show one refresh: one tab refreshed by
 * its timer, the other took the shared token (`timer` and `tab`).
 */
export async function refreshBothTabs(
  page: Page,
  other: Page,
  arrived: number,
  expiresIn: number,
): Promise<Request[]> {
  const mints: Request[] = [];
  page.context().on("request", (r) => {
    if (r.url().endsWith(MINT_PATH) && r.method() === "POST") mints.push(r);
  });
  // Each tab was told the lifetime in whole seconds: their refresh points
  // lie within a second or two of each other.
  await kit.runClockUntil(page, arrived, (expiresIn - 63) * 1000);
  expect(mints).toHaveLength(0);
  const refreshed = page.waitForResponse(isMint).catch(() => null);
  const refreshedOther = other.waitForResponse(isMint).catch(() => null);
  await page.context().clock.runFor(6_000);
  await Promise.race([refreshed, refreshedOther]);
  for (const tab of [page, other]) {
    await expect(tab.getByTestId("token-refresh-count")).toHaveText("1");
  }
  const reasons = await Promise.all(
    [page, other].map((tab) => tab.getByTestId("token-last-reason").textContent()),
  );
  expect(reasons.sort()).toEqual(["tab", "timer"]);
  return mints;
}
