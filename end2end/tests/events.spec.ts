import { expect, test, type Page } from "@playwright/test";
import { logIn, openCheckout, resetSandbox, SANDBOX } from "./helpers";

// The merchant learns of a payment twice over: the vendor's signed event
// (the embedded sandbox delivers to /webhooks/alternative) and its own
// read of the invoice after Pay. Each test shuts one path and shows the
// other alone gets the invoice list right.

const CONTROL = { "X-Sandbox-Control": "1" };

test.afterEach(async ({ request }) => {
  // Also resumes delivery, and the merchant forgets the demo's payments.
  await resetSandbox(request);
});

async function pay(page: Page, invoiceId: string, total: string) {
  await openCheckout(page, invoiceId);
  await page.getByTestId("pay-button").click();
  await expect(page.getByTestId("payment-status")).toContainText(`Paid ${total}`);
}

const paidBadge = (page: Page, invoiceId: string) =>
  page.getByTestId(`invoice-${invoiceId}`).getByTestId("paid-badge");

async function eventCounts(request: import("@playwright/test").APIRequestContext) {
  return (await (await request.get(`${SANDBOX}/sandbox/stats`)).json()).events as {
    created: number;
    delivered: number;
  };
}

test("the vendor's event alone marks the invoice paid in the list", async ({ page, request }) => {
  await logIn(page, "alice");
  // The page's own reconcile call never reaches the server.
  let reconcileBlocked = 0;
  await page.route("**/api/checkout/reconcile", (route) => {
    reconcileBlocked += 1;
    return route.abort();
  });
  const before = await eventCounts(request);
  await pay(page, "inv_1002", "$310.40");
  await expect.poll(async () => (await eventCounts(request)).delivered).toBe(before.delivered + 1);
  expect(reconcileBlocked).toBe(1);
  await page.goto("/");
  await expect(paidBadge(page, "inv_1002")).toBeVisible();
  await expect(paidBadge(page, "inv_1001")).toHaveCount(0);
  // And the checkout says so instead of offering Pay again.
  await page.goto("/checkout/inv_1002");
  await expect(page.getByTestId("checkout-root")).toHaveAttribute("data-hydrated", "true");
  await expect(page.getByText("This invoice is paid already.").first()).toBeVisible();
  await expect(page.getByTestId("pay-button")).toHaveCount(0);
});

test("with event delivery off, reconciling after Pay alone marks it paid; the late event changes nothing", async ({
  page,
  request,
}) => {
  const paused = await request.post(`${SANDBOX}/sandbox/webhook`, {
    headers: CONTROL,
    data: { paused: true },
  });
  expect(paused.status()).toBe(204);
  await logIn(page, "alice");
  const before = await eventCounts(request);
  const reconciled = page.waitForResponse((r) => r.url().endsWith("/api/checkout/reconcile"));
  await pay(page, "inv_1001", "$1,250.00");
  const answer = await reconciled;
  expect(answer.status()).toBe(200);
  expect(await answer.json()).toBe(true);
  await page.goto("/");
  await expect(paidBadge(page, "inv_1001")).toBeVisible();
  expect((await eventCounts(request)).delivered).toBe(before.delivered);

  // The event, delivered late, finds the payment recorded: still one badge.
  await request.post(`${SANDBOX}/sandbox/webhook`, { headers: CONTROL, data: { paused: false } });
  await expect.poll(async () => (await eventCounts(request)).delivered).toBe(before.delivered + 1);
  await page.reload();
  await expect(paidBadge(page, "inv_1001")).toHaveCount(1);
});
