import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { logIn, openCheckout, resetSandbox } from "./helpers";

/** WCAG 2.1 A and AA, as axe-core checks them, on the page as it stands. */
async function expectNoViolations(page: Page) {
  const { violations } = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
    .analyze();
  expect(violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target).join(", ")}`)).toEqual([]);
}

// The keyboard test pays: start the next test from the seed again.
test.afterEach(async ({ request }) => {
  await resetSandbox(request);
});

test("the log-in page, the invoice list and the checkout page pass axe's WCAG 2.1 AA checks", async ({
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
