import {
  expect,
  type APIRequestContext,
  type Page,
  type Request,
  type Response,
} from "@playwright/test";

/** The server function that mints checkout tokens. */
export const MINT_PATH = "/api/checkout/token";
/** The embedded sandbox, where playwright.config.ts puts it. */
export const SANDBOX = "http://127.0.0.1:3130";

/** The vendor's seed data again (the sandbox's control: it wants its marker header). */
export async function resetSandbox(request: APIRequestContext) {
  const reset = await request.post(`${SANDBOX}/sandbox/reset`, {
    headers: { "X-Sandbox-Control": "1" },
  });
  expect(reset.status()).toBe(204);
}

/** The documented demo users. */
export const USERS = {
  alice: { email: "alice@example.com", password: "alice-demo-password", name: "Alice (Acme Corp)" },
  bob: { email: "bob@example.com", password: "bob-demo-password", name: "Bob (Globex Corporation)" },
} as const;

export const isMint = (r: Response) =>
  r.url().endsWith(MINT_PATH) && r.request().method() === "POST";

export const isInvoiceCall = (r: Response) =>
  new URL(r.url()).pathname === "/checkout/v1/invoice" && r.request().method() === "GET";

export const isMethodsCall = (r: Response) =>
  new URL(r.url()).pathname === "/checkout/v1/payment-methods" && r.request().method() === "GET";

/** Logs in through the form, as a person would, and waits for the home page. */
export async function logIn(page: Page, who: keyof typeof USERS) {
  await page.goto("/login");
  await page.getByLabel("Email").fill(USERS[who].email);
  await page.getByLabel("Password").fill(USERS[who].password);
  await Promise.all([page.waitForURL("/"), page.getByTestId("login-submit").click()]);
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
  await expect(page.getByTestId("checkout-root")).toHaveAttribute("data-hydrated", "true");
}

/**
 * Waits until the page's SDK holds its first token, and returns the page's
 * clock at that moment (faked by `page.clock` when installed).
 */
export async function tokenArrival(page: Page): Promise<number> {
  await expect(page.getByTestId("token-expires-in")).not.toHaveText("0");
  return page.evaluate(() => Date.now());
}

/**
 * Runs the fake clock until `offsetMs` after `since` (a reading of the page's
 * clock): however long the test itself took in between, the page ends up
 * exactly that far past the token's arrival.
 */
export async function runClockUntil(page: Page, since: number, offsetMs: number) {
  const now = await page.evaluate(() => Date.now());
  await page.clock.runFor(Math.max(0, since + offsetMs - now));
}

/** A page's calls to the mint endpoint: how many were sent, how many are unanswered. */
export function countMints(page: Page) {
  const counts = { sent: 0, pending: 0 };
  // Only requests seen starting here are waited for: a mint sent before
  // the count began may report its end after, and must not count as -1.
  const seen = new Set<Request>();
  page.on("request", (r) => {
    if (r.url().endsWith(MINT_PATH)) {
      seen.add(r);
      counts.sent++;
      counts.pending++;
    }
  });
  const answered = (r: Request) => {
    if (seen.delete(r)) counts.pending--;
  };
  page.on("requestfinished", answered);
  page.on("requestfailed", answered);
  return counts;
}

/**
 * Moves a paused clock `ms` forward in steps, letting the mints each step
 * set off come back before the next: the retry timers their answers arm are
 * then in place before they fall due.
 */
export async function stepClock(
  page: Page,
  counts: { pending: number }[],
  ms: number,
  stepMs = 5_000,
  // Also wait, after each step, until a refresh the step set off on `page`
  // has been answered and its next timer armed (the page's
  // `data-token-refreshing`): without it a busy machine can let the next
  // step run first, arm the backoff a step late and lose a retry from an
  // exact count. Single-tab tests only: a tab waiting for another's news
  // waits on the page clock, which does not move while this waits.
  settle = false,
) {
  for (let done = 0; done < ms; done += stepMs) {
    await page.clock.runFor(Math.min(stepMs, ms - done));
    await page.evaluate(() => 0);
    await expect
      .poll(() => counts.reduce((n, c) => n + c.pending, 0), { timeout: 20_000 })
      .toBe(0);
    if (settle) {
      await expect(page.getByTestId("checkout-root")).toHaveAttribute(
        "data-token-refreshing",
        "false",
        { timeout: 20_000 },
      );
    }
  }
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
  await runClockUntil(page, arrived, (expiresIn - 63) * 1000);
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
