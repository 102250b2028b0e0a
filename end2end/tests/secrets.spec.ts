import { expect, test } from "@playwright/test";
import { isMint, logIn, openCheckout } from "./helpers";

// The sandbox's demo client secret, and the prefix of every OAuth access token it issues.
const CLIENT_SECRET = "demo_client_secret";
const OAUTH_TOKEN_PREFIX = "sbx_oat_";

test("no served page or asset contains the client secret, an OAuth token or the checkout token", async ({
  page,
}) => {
  const served: { url: string; body: Buffer }[] = [];
  page.on("response", async (r) => {
    if (r.request().method() === "GET" && r.url().startsWith("http://127.0.0.1:3100/")) {
      served.push({ url: r.url(), body: await r.body() });
    }
  });
  await logIn(page, "alice");
  const minted = page.waitForResponse(isMint);
  await openCheckout(page, "inv_1001");
  const mintBody = await (await minted).text();
  const { token } = JSON.parse(mintBody);
  await expect(page.getByTestId("invoice-number")).toHaveText("INV-1001");

  const urls = served.map((s) => s.url);
  expect(urls.some((u) => u.endsWith(".wasm"))).toBe(true);
  expect(urls.some((u) => u.endsWith(".js"))).toBe(true);
  for (const { url, body } of served) {
    for (const needle of [CLIENT_SECRET, OAUTH_TOKEN_PREFIX, token]) {
      expect(body.includes(needle), `${url} contains ${needle.slice(0, 12)}…`).toBe(false);
    }
  }
  // The mint answer carries the checkout token and nothing of the merchant's credentials.
  expect(mintBody).not.toContain(CLIENT_SECRET);
  expect(mintBody).not.toContain(OAUTH_TOKEN_PREFIX);
});
