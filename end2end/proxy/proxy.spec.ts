// Deployed as the book's "Deploying" (docs/src/production.md) says:
// behind nginx ending TLS (deploy/nginx.conf). Log-in, checkout and payment work through it; the
// session cookie is Secure; the app's headers come through; nginx's request
// id is the app's.
import { expect, test } from "@playwright/test";
import { logIn, openCheckout } from "../tests/helpers";

test("behind nginx over HTTPS: log in, check out and pay", async ({ page, context }) => {
  const login = await page.goto("/login");
  const headers = login!.headers();
  expect(headers["server"]).toMatch(/^nginx/);
  expect(headers["content-security-policy"]).toContain("script-src 'self' 'nonce-");
  expect(headers["x-request-id"]).toMatch(/^[0-9a-f]{32}$/);

  await logIn(page, "alice");
  const [session] = (await context.cookies()).filter((c) => c.name === "merchant_session");
  expect(session.secure).toBe(true);
  expect(session.httpOnly).toBe(true);

  await openCheckout(page, "inv_1001");
  await expect(page.getByTestId("invoice-total")).toHaveText("$1,250.00");
  await expect(page.getByTestId("token-expires-in")).not.toHaveText("0");
  await page.getByTestId("pay-button").click();
  await expect(page.getByTestId("payment-status")).toContainText("Paid $1,250.00");
});
