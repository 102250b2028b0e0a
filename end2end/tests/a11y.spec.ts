import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { deliverPayment, logIn, openCheckout, resetSandbox, USERS } from "./helpers";

/** WCAG 2.2 A and AA, as axe-core checks them, on the page as it stands. */
async function expectNoViolations(page: Page) {
  const { violations } = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"])
    .analyze();
  expect(violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target).join(", ")}`)).toEqual([]);
}

// The keyboard test pays: start the next test from the seed again.
test.afterEach(async ({ request }) => {
  await resetSandbox(request);
});

test("the log-in page, the invoice list and the checkout page pass axe's WCAG 2.2 AA checks", async ({
  page,
}) => {
  await page.goto("/login");
  await expect(page).toHaveTitle("Log in — Demo Merchant");
  await expectNoViolations(page);

  await logIn(page, "alice");
  await expect(page).toHaveTitle("Your invoices — Demo Merchant");
  await expectNoViolations(page);

  await openCheckout(page, "inv_1001");
  await expect(page.getByRole("radio")).toHaveCount(2);
  await expect(page.getByTestId("invoice-pdf")).toBeVisible();
  await expect(page).toHaveTitle("Pay invoice INV-1001 — Demo Merchant");
  await page.getByText("Developer").click(); // the open panel is checked too
  await expectNoViolations(page);
});

test("a keyboard alone reaches the page, picks a method and pays; focus lands on the outcome", async ({
  page,
}) => {
  await logIn(page, "alice");
  await openCheckout(page, "inv_1002");
  await expect(page.getByRole("radio")).toHaveCount(2);

  // The first Tab stop skips the header.
  await page.keyboard.press("Tab");
  await expect(page.getByRole("link", { name: "Skip to content" })).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.locator("main")).toBeFocused();

  // Tab to the checked method, move to the other with an arrow key, then Pay.
  const methods = page.getByRole("radio");
  for (let i = 0; i < 10 && !(await methods.first().evaluate((e) => e === document.activeElement)); i++) {
    await page.keyboard.press("Tab");
  }
  await expect(methods.first()).toBeFocused();
  await page.keyboard.press("ArrowDown");
  await expect(methods.nth(1)).toBeChecked();
  await page.keyboard.press("Tab");
  await expect(page.getByTestId("pay-button")).toBeFocused();
  await page.keyboard.press("Enter");

  const status = page.getByTestId("payment-status");
  await expect(status).toHaveText(/^Paid /);
  await expect(status).toBeFocused();
  await expect(page.getByTestId("invoice-status")).toHaveText("paid");
});

test("a failed log-in and the page not found pass axe's WCAG 2.2 AA checks", async ({ page }) => {
  await page.goto("/login");
  await page.getByLabel("Email").fill(USERS.alice.email);
  await page.getByLabel("Password").fill("not-her-password");
  await page.getByTestId("login-submit").click();
  await expect(page.getByTestId("login-error")).not.toBeEmpty();
  // The refusal takes the focus, so a screen reader reads it first.
  await expect(page.getByTestId("login-error")).toBeFocused();
  await expectNoViolations(page);

  await page.goto("/no-such-page");
  await expect(page).toHaveTitle("Page not found — Demo Merchant");
  await expectNoViolations(page);
});

test("a checkout in trouble, then ended by a log-out, passes axe's WCAG 2.2 AA checks", async ({
  page,
}) => {
  await logIn(page, "alice");
  await page.clock.install();
  await openCheckout(page, "inv_1001");
  await expect(page.getByTestId("invoice-pdf")).toBeVisible();
  // The merchant is down when the refresh falls due: the page is in trouble.
  await page.route("**/api/checkout/token", (route) =>
    route.fulfill({
      status: 502,
      contentType: "application/json",
      body: JSON.stringify({ code: "vendor_unavailable" }),
    }),
  );
  await page.clock.pauseAt(Date.now() + 1_000);
  await page.clock.runFor(841_000);
  await expect(page.getByTestId("token-trouble")).toBeVisible();
  // axe waits on the page's timers: time runs again (the merchant is still
  // down, so the page stays in trouble).
  await page.clock.resume();
  await expectNoViolations(page);

  // Logged out meanwhile: the next try ends the checkout.
  await page.unroute("**/api/checkout/token");
  expect((await page.request.post("/api/logout")).status()).toBe(200);
  await page.getByRole("button", { name: "Try again now" }).click();
  await expect(page.getByTestId("log-in-again")).toBeVisible();
  await expectNoViolations(page);
});

test("a checkout gone offline passes axe's WCAG 2.2 AA checks", async ({ page, context }) => {
  await logIn(page, "alice");
  await page.clock.install();
  await openCheckout(page, "inv_1001");
  await expect(page.getByTestId("invoice-pdf")).toBeVisible();
  // The network goes when the refresh falls due: the page says offline.
  await context.setOffline(true);
  await page.clock.pauseAt(Date.now() + 1_000);
  await page.clock.runFor(841_000);
  await expect(page.getByTestId("token-trouble-reason")).toHaveText(/You are offline/);
  // axe waits on the page's timers: time runs again (still offline, so the
  // page stays as it is).
  await page.clock.resume();
  await expectNoViolations(page);
  await context.setOffline(false);
});

test("a payment that failed, then one that went through, pass axe's WCAG 2.2 AA checks", async ({
  page,
}) => {
  await logIn(page, "alice");
  await openCheckout(page, "inv_1002");
  await expect(page.getByRole("radio")).toHaveCount(2);
  await page.route("**/checkout/v1/payments", (route) =>
    route.fulfill({
      status: 500,
      headers: { "content-type": "application/json", "access-control-allow-origin": "*" },
      body: JSON.stringify({ code: "internal_error", message: "the vendor failed" }),
    }),
  );
  await page.getByTestId("pay-button").click();
  await expect(page.getByTestId("checkout-error")).not.toBeEmpty();
  await expectNoViolations(page);

  await page.unroute("**/checkout/v1/payments");
  await page.getByTestId("pay-button").click();
  await expect(page.getByTestId("payment-status")).toHaveText(/^Paid /);
  await expectNoViolations(page);
});

test("a payment that does not match its invoice passes axe's WCAG 2.2 AA checks", async ({
  page,
  request,
}) => {
  // The vendor says INV-1002 ($310.40) was paid, at one dollar.
  const delivered = await deliverPayment(request, { invoiceId: "inv_1002", amount: "1.00", currency: "USD" });
  expect(delivered.status()).toBe(200);
  expect(await delivered.json()).toEqual({ outcome: "mismatch" });

  await logIn(page, "alice");
  await expect(page.getByTestId("invoice-inv_1002").getByTestId("mismatch-badge")).toHaveText(
    "Payment of $1.00 does not match: needs attention",
  );
  await expectNoViolations(page);

  // Its checkout says so, and offers no second payment.
  await openCheckout(page, "inv_1002");
  await expect(page.getByRole("alert")).toHaveText(
    "A payment for this invoice does not match its amount. We are looking into it: please do not pay again.",
  );
  await expect(page.getByTestId("pay-button")).toHaveCount(0);
  // No empty, forever-busy list of amounts: the invoice is not read for payment.
  await expect(page.getByText("Subtotal", { exact: true })).toBeHidden();
  await expectNoViolations(page);
});
