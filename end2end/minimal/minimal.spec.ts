import { expect, test, type Response } from "@playwright/test";
import { TOKEN_TTL_SECS } from "../minimal.config";

// The template, proven in a browser: no log-in, a token that lives 30 s,
// refreshed through the example's server function, and a payment.
const isMint = (response: Response) =>
  response.url().endsWith("/api/checkout-token") && response.request().method() === "POST";

test("the minimal example refreshes its token through its server function and pays", async ({ page }) => {
  // A fake clock drives the SDK's timers; the server and the vendor keep real time.
  await page.clock.install();
  const firstMint = page.waitForResponse(isMint);
  await page.goto("/");
  await expect(page.locator("section[data-hydrated]")).toHaveAttribute("data-hydrated", "true");
  expect((await firstMint).status()).toBe(200);
  await expect(page.getByTestId("status")).toHaveText("Invoice INV-1001 is open: 1250.00 USD.");
  await expect(page.getByTestId("refreshes")).toHaveText("0");

  // A quarter of the lifetime before expiry, the SDK asks the handler.
  const refresh = page.waitForResponse(isMint);
  await page.clock.runFor(TOKEN_TTL_SECS * 1000);
  expect((await refresh).status()).toBe(200);
  await expect(page.getByTestId("refreshes")).toHaveText("1");

  await page.getByTestId("pay").click();
  await expect(page.getByTestId("status")).toHaveText(/^Paid: 1250\.00 USD/);
});
