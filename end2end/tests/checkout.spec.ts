import { expect, test } from "@playwright/test";
import { isInvoiceCall, isMethodsCall, isMint, logIn, openCheckout } from "./helpers";

test("the page shows the invoice the server read, and the browser reads the rest from the vendor with a fresh token", async ({
  page,
}) => {
  await logIn(page, "alice");
  // One read of the invoice per page open: the server's, for the HTML.
  const invoiceReads: string[] = [];
  page.on("response", (r) => {
    if (isInvoiceCall(r)) invoiceReads.push(r.url());
  });
  const minted = page.waitForResponse(isMint);
  const fetched = page.waitForResponse(isMethodsCall);
  await openCheckout(page, "inv_1001");

  const mint = await minted;
  expect(mint.status()).toBe(200);
  const session = await mint.json();
  const methodsCall = await fetched;
  expect(methodsCall.status()).toBe(200);
  // The browser called the vendor directly, with the token it was given.
  expect(methodsCall.url().startsWith(session.api_url)).toBe(true);
  expect(await methodsCall.request().headerValue("authorization")).toBe(`Bearer ${session.token}`);

  await expect(page.getByTestId("invoice-number")).toHaveText("INV-1001");
  await expect(page.getByTestId("invoice-total")).toHaveText("$1,250.00");
  await expect(page.getByTestId("invoice-status")).toHaveText("open");
  // The first reads are all in once the PDF link shows.
  await expect(page.getByTestId("invoice-pdf")).toBeVisible();
  expect(invoiceReads).toEqual([]);
  await expect(page.getByTestId("token-refresh-count")).toHaveText("0");
  await expect(page.getByTestId("checkout-error")).toBeEmpty();
});

test("each invoice gets a token for itself", async ({ page }) => {
  await logIn(page, "bob");
  await openCheckout(page, "inv_2001");
  await expect(page.getByTestId("invoice-number")).toHaveText("INV-2001");
  await expect(page.getByTestId("invoice-total")).toHaveText("€89.99");
});

test("an invoice that is not the user's gets a plain error, and no vendor call", async ({
  page,
}) => {
  await logIn(page, "bob");
  let vendorCalls = 0;
  page.on("request", (r) => {
    if (new URL(r.url()).pathname.startsWith("/checkout/v1/")) vendorCalls++;
  });
  const minted = page.waitForResponse(isMint);
  await openCheckout(page, "inv_1001"); // alice's
  expect((await minted).status()).toBe(404);
  await expect(page.getByTestId("checkout-error")).toHaveText("We could not find this invoice.");
  await expect(page.getByTestId("invoice-number")).toBeEmpty();
  expect(vendorCalls).toBe(0);
});

test("without a session the checkout page asks to log in", async ({ page }) => {
  const minted = page.waitForResponse(isMint);
  await openCheckout(page, "inv_1001");
  expect((await minted).status()).toBe(401);
  await expect(page.getByTestId("checkout-error")).toHaveText("Please log in to continue.");
});
