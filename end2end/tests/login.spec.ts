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
  });
});
