import { expect, type Page, type Response } from "@playwright/test";

/** The server function that mints checkout tokens. */
export const MINT_PATH = "/api/checkout/token";

export const isMint = (r: Response) =>
  r.url().endsWith(MINT_PATH) && r.request().method() === "POST";

export const isInvoiceCall = (r: Response) =>
  new URL(r.url()).pathname === "/checkout/v1/invoice" && r.request().method() === "GET";

/** Opens a checkout page and waits until the component has hydrated. */
export async function openCheckout(page: Page, invoiceId: string) {
  await page.goto(`/checkout/${invoiceId}`);
  await expect(page.getByTestId("checkout-root")).toHaveAttribute("data-hydrated", "true");
}
