import { expect, test } from "@playwright/test";
import { MINT_PATH } from "./helpers";

// The mint endpoint is public HTTP: scripts (curl -d invoice_id=…) use it as the page does.
test("POST /api/checkout/token with a form body mints a token for a known invoice", async ({
  request,
}) => {
  const response = await request.post(MINT_PATH, { form: { invoice_id: "inv_1001" } });
  expect(response.status()).toBe(200);
  const body = await response.json();
  expect(body.token.split(".")).toHaveLength(3);
  expect(body.expires_in).toBeGreaterThan(800);
  expect(body.expires_in).toBeLessThanOrEqual(900);
  expect(body.api_url).toBe("http://127.0.0.1:3130");
});

test("POST /api/checkout/token for an unknown invoice is a 404 with a code", async ({ request }) => {
  const response = await request.post(MINT_PATH, { form: { invoice_id: "inv_9999" } });
  expect(response.status()).toBe(404);
  expect(await response.text()).toContain("invoice_not_found");
});

test("POST /api/checkout/token without invoice_id is a 400", async ({ request }) => {
  const response = await request.post(MINT_PATH, { form: {} });
  expect(response.status()).toBe(400);
  expect(await response.json()).toMatchObject({ code: "bad_request" });
});
