import { expect, test } from "@playwright/test";
import { logIn, openCheckout, resetSandbox, SANDBOX } from "./helpers";

// Paying changes the vendor's records: start each test from the seed again.
test.afterEach(async ({ request }) => {
  await resetSandbox(request);
});

test("the page lists the saved methods and links the invoice PDF", async ({ page, request }) => {
  await logIn(page, "alice");
  await openCheckout(page, "inv_1001");
  await expect(page.getByRole("radio")).toHaveCount(2);
  await expect(page.getByLabel(/First Demo Bank account •••• 6789/)).toBeChecked();
  await page.getByLabel(/visa •••• 4242 \(expires 12\/2029\)/).check();
  await expect(page.getByLabel(/First Demo Bank/)).not.toBeChecked();
  const pdf = await request.get((await page.getByTestId("invoice-pdf").getAttribute("href"))!);
  expect(pdf.status()).toBe(200);
  expect(pdf.headers()["content-type"]).toBe("application/pdf");
  expect((await pdf.body()).subarray(0, 8).toString()).toBe("%PDF-1.4");
});

test("double-clicking Pay pays once", async ({ page, request }) => {
  await logIn(page, "alice");
  await openCheckout(page, "inv_1002");
  const paymentsMade = async () =>
    (await (await request.get(`${SANDBOX}/sandbox/stats`)).json()).payments as number;
  const before = await paymentsMade();
  const payments: number[] = [];
  page.on("response", (r) => {
    if (new URL(r.url()).pathname === "/checkout/v1/payments") payments.push(r.status());
  });
  await page.getByTestId("pay-button").dblclick();
  await expect(page.getByTestId("payment-status")).toContainText("Paid $310.40");
  await expect(page.getByTestId("invoice-status")).toHaveText("paid");
  await expect(page.getByTestId("pay-button")).toHaveCount(0);
  expect(await paymentsMade()).toBe(before + 1);
  expect(payments).toEqual([201]);
});

test("with ?refresh=off an expired token shows AccessTokenExpiredError", async ({ page }) => {
  await logIn(page, "alice");
  // The page's first read from the vendor (the invoice is the server's).
  await page.route("**/checkout/v1/payment-methods", (route) =>
    route.fulfill({
      status: 401,
      headers: { "content-type": "application/json", "access-control-allow-origin": "*" },
      body: JSON.stringify({ code: "access_token_expired", message: "expired" }),
    }),
  );
  await page.goto("/checkout/inv_1001?refresh=off");
  await expect(page.getByTestId("checkout-root")).toHaveAttribute("data-hydrated", "true");
  await expect(page.getByTestId("checkout-error")).toContainText("AccessTokenExpiredError");
  await expect(page.getByTestId("token-refresh-count")).toHaveText("0");
});

test("the developer panel shows the token's lifetime, never the token", async ({ page }) => {
  await logIn(page, "alice");
  const minted = page.waitForResponse((r) => r.url().endsWith("/api/checkout/token"));
  await openCheckout(page, "inv_1001");
  const { token } = await (await minted).json();
  await page.getByText("Developer").click();
  // Seconds left: a new token has 900, one the server reuses more than
  // three eighths of it.
  await expect(page.getByTestId("token-expires-in")).toHaveText(/^\d+$/);
  const left = Number(await page.getByTestId("token-expires-in").textContent());
  expect(left).toBeGreaterThan(337);
  expect(left).toBeLessThanOrEqual(900);
  expect(await page.content()).not.toContain(token);
});
