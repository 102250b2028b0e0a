import { expect, test } from "@playwright/test";
import { logInApi, MINT_PATH } from "./helpers";

// The mint endpoint is public HTTP: scripts (curl -d invoice_id=…) use it as
// the page does, with the session cookie from POST /api/login.

test("S7: without a session, minting is refused with 401", async ({ request }) => {
  const response = await request.post(MINT_PATH, { form: { invoice_id: "inv_1001" } });
  expect(response.status()).toBe(401);
  expect(await response.json()).toMatchObject({ code: "not_logged_in" });
});

test("with alice's session, her invoice gets a token for the vendor", async ({ request }) => {
  await logInApi(request, "alice");
  const response = await request.post(MINT_PATH, { form: { invoice_id: "inv_1001" } });
  expect(response.status()).toBe(200);
  const body = await response.json();
  expect(body.token.split(".")).toHaveLength(3);
  // A 900 s token; the server hands out a token it minted earlier until
  // three eighths to a half of its life is left, with what is left.
  expect(body.expires_in).toBeGreaterThan(337);
  expect(body.expires_in).toBeLessThanOrEqual(900);
  expect(body.api_url).toBe("http://127.0.0.1:3130");
});

test("S7: with bob's session, alice's invoice is refused like an unknown one", async ({
  request,
}) => {
  await logInApi(request, "bob");
  const alices = await request.post(MINT_PATH, { form: { invoice_id: "inv_1001" } });
  const unknown = await request.post(MINT_PATH, { form: { invoice_id: "inv_9999" } });
  expect(alices.status()).toBe(404);
  expect(unknown.status()).toBe(404);
  expect(await alices.text()).toBe(await unknown.text());
});

test("a wrong password and an unknown email get the same 401", async ({ request }) => {
  const wrong = await request.post("/api/login", {
    form: { email: "alice@example.com", password: "guess" },
    maxRedirects: 0,
  });
  const unknown = await request.post("/api/login", {
    form: { email: "nobody@example.com", password: "guess" },
    maxRedirects: 0,
  });
  expect(wrong.status()).toBe(401);
  expect(unknown.status()).toBe(401);
  expect(await wrong.text()).toBe(await unknown.text());
});

test("POST /api/checkout/token without invoice_id is a 400", async ({ request }) => {
  await logInApi(request, "alice");
  const response = await request.post(MINT_PATH, { form: {} });
  expect(response.status()).toBe(400);
  expect(await response.json()).toMatchObject({ code: "bad_request" });
});

test("a POST from another site's page is refused", async ({ request }) => {
  const response = await request.post("/api/login", {
    form: { email: "alice@example.com", password: "alice-demo-password" },
    headers: { Origin: "https://evil.example" },
    maxRedirects: 0,
  });
  expect(response.status()).toBe(403);
});

test("guessing one account's password is slowed to a halt with 429 and Retry-After", async ({
  request,
}) => {
  // An account of its own per run: the server remembers failures for a minute.
  const email = `guess-${Date.now()}@example.com`;
  const guess = () =>
    request.post("/api/login", {
      form: { email, password: "guess" },
      maxRedirects: 0,
    });
  for (let i = 0; i < 5; i++) expect((await guess()).status()).toBe(401);
  const limited = await guess();
  expect(limited.status()).toBe(429);
  expect(Number(limited.headers()["retry-after"])).toBeGreaterThan(0);
  expect(await limited.json()).toMatchObject({ code: "too_many_requests" });
});
