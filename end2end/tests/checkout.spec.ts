import { expect, test } from "@playwright/test";
import { isInvoiceCall, isMint, openCheckout } from "./helpers";

test("the hydrated page shows the invoice, fetched from the vendor with a fresh token", async ({
  page,
}) => {
  const minted = page.waitForResponse(isMint);
  const fetched = page.waitForResponse(isInvoiceCall);
  await openCheckout(page, "inv_1001");

  const mint = await minted;
  expect(mint.status()).toBe(200);
  const session = await mint.json();
  const invoiceCall = await fetched;
  expect(invoiceCall.status()).toBe(200);
  // The browser called the vendor directly, with the token it was given.
  expect(invoiceCall.url().startsWith(session.api_url)).toBe(true);
  expect(await invoiceCall.request().headerValue("authorization")).toBe(`Bearer ${session.token}`);

  await expect(page.getByTestId("invoice-number")).toHaveText("INV-1001");
  await expect(page.getByTestId("invoice-total")).toHaveText("USD 1250.00");
  await expect(page.getByTestId("invoice-status")).toHaveText("open");
  await expect(page.getByTestId("token-refresh-count")).toHaveText("0");
  await expect(page.getByTestId("checkout-error")).toBeEmpty();
});

test("each invoice gets a token for itself", async ({ page }) => {
  await openCheckout(page, "inv_2001");
  await expect(page.getByTestId("invoice-number")).toHaveText("INV-2001");
  await expect(page.getByTestId("invoice-total")).toHaveText("EUR 89.99");
});

test("an invoice the merchant does not know gets a plain error, and no vendor call", async ({
  page,
}) => {
  let vendorCalls = 0;
  page.on("request", (r) => {
    if (new URL(r.url()).pathname.startsWith("/checkout/v1/")) vendorCalls++;
  });
  const minted = page.waitForResponse(isMint);
  await openCheckout(page, "inv_9999");
  expect((await minted).status()).toBe(404);
  await expect(page.getByTestId("checkout-error")).toHaveText("We could not find this invoice.");
  await expect(page.getByTestId("invoice-number")).toBeEmpty();
  expect(vendorCalls).toBe(0);
});
