// The browser security headers, as the browser enforces them: every page
// hydrates and works under the Content-Security-Policy with no violation,
// and a script injected into the page does not run.
import { expect, test, type Page } from "@playwright/test";
import { logIn, openCheckout, resetSandbox } from "./helpers";

declare global {
  interface Window {
    __violations: string[];
    __injected?: boolean;
  }
}

/** Records every CSP violation the page reports, from before its first byte. */
async function watchViolations(page: Page) {
  await page.addInitScript(() => {
    window.__violations = [];
    document.addEventListener("securitypolicyviolation", (e) => {
      window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
}

const violations = (page: Page) => page.evaluate(() => window.__violations);

test.beforeEach(async ({ request }) => {
  await resetSandbox(request);
});

test("every page carries the policy and works under it with no violation", async ({ page }) => {
  await watchViolations(page);
  const login = await page.goto("/login");
  const headers = login!.headers();
  expect(headers["content-security-policy"]).toMatch(
    /script-src 'self' 'nonce-[A-Za-z0-9_-]{22}' 'wasm-unsafe-eval';/,
  );
  expect(headers["content-security-policy"]).not.toContain("unsafe-inline");
  expect(headers["referrer-policy"]).toBe("same-origin");
  expect(headers["x-content-type-options"]).toBe("nosniff");
  expect(await violations(page)).toEqual([]);

  // The log-in form posts and redirects under form-action 'self'.
  await logIn(page, "alice");
  expect(await violations(page)).toEqual([]);

  // The island loads its module and wasm, and the SDK calls the vendor
  // (connect-src): the invoice arrives and a token is held.
  await openCheckout(page, "inv_1001");
  await expect(page.getByTestId("invoice-number")).toHaveText("INV-1001");
  await expect(page.getByTestId("token-expires-in")).not.toHaveText("0");
  await page.getByTestId("pay-button").click();
  await expect(page.getByTestId("payment-status")).toContainText("Paid");
  expect(await violations(page)).toEqual([]);
});

test("a script injected into the page does not run, and is reported", async ({ page }) => {
  await watchViolations(page);
  await logIn(page, "alice");
  await openCheckout(page, "inv_1001");
  await page.evaluate(() => {
    const script = document.createElement("script");
    script.textContent = "window.__injected = true";
    document.body.append(script);
  });
  // The report is the answer to wait for: it comes once the browser has
  // refused the script.
  await page.waitForFunction(() => window.__violations.length > 0);
  expect(await violations(page)).toEqual([expect.stringMatching(/^script-src-elem inline$/)]);
  expect(await page.evaluate(() => window.__injected)).toBeUndefined();
});
