import { expect, test } from "@playwright/test";
import { logIn, USERS } from "./helpers";

test("logging in shows the user's own invoices, logging out ends the session", async ({
  page,
}) => {
  await logIn(page, "alice");
  const list = page.getByTestId("invoice-list");
  await expect(list.getByRole("link")).toHaveText(["INV-1001", "INV-1002"]);
  await Promise.all([page.waitForURL("/login"), page.getByRole("button", { name: "Log out" }).click()]);
  await page.goto("/");
  await expect(page.getByText("to see and pay your invoices")).toBeVisible();
});

test("a wrong password is refused with a plain message", async ({ page }) => {
  await page.goto("/login");
  await page.getByLabel("Email").fill(USERS.bob.email);
  await page.getByLabel("Password").fill("not-it");
  await page.getByTestId("login-submit").click();
  await expect(page.getByTestId("login-error")).toHaveText(
    "That email and password do not match an account.",
  );
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("the login form works and the invoice list is rendered on the server", async ({ page }) => {
    await page.goto("/login");
    await page.getByLabel("Email").fill(USERS.bob.email);
    await page.getByLabel("Password").fill(USERS.bob.password);
    await Promise.all([page.waitForURL("/"), page.getByTestId("login-submit").click()]);
    await expect(page.getByTestId("invoice-list").getByRole("link")).toHaveText(["INV-2001"]);
    // Amounts as people read them, rendered on the server.
    await expect(page.getByTestId("invoice-list")).toContainText("€89.99");
  });

  test("the invoice summary is rendered on the server and readable", async ({ page }) => {
    await page.goto("/login");
    await page.getByLabel("Email").fill(USERS.alice.email);
    await page.getByLabel("Password").fill(USERS.alice.password);
    await Promise.all([page.waitForURL("/"), page.getByTestId("login-submit").click()]);
    await page.goto("/checkout/inv_1001");
    await expect(page.getByTestId("invoice-number")).toHaveText("INV-1001");
    await expect(page.getByTestId("invoice-subtotal")).toHaveText("$1,250.00");
    await expect(page.getByTestId("invoice-total")).toHaveText("$1,250.00");
    await expect(page.getByTestId("invoice-due")).toHaveText("2026-12-15");
    await expect(page.getByTestId("invoice-status")).toHaveText("open");
    // Not hydrated: paying needs JavaScript.
    await expect(page.getByTestId("checkout-root")).toHaveAttribute("data-hydrated", "false");
  });
});
