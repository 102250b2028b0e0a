import { expect, test } from "@playwright/test";

test("the site's assets are sent precompressed, under content-hashed names cached for a year", async ({
  request,
}) => {
  const html = await (await request.get("/login")).text();
  const assets = new Set([...html.matchAll(/\/pkg\/checkout\.[\w-]+\.(?:js|wasm|css)/g)].map((m) => m[0]));
  expect(new Set([...assets].map((a) => a.split(".").pop()))).toEqual(new Set(["js", "wasm", "css"]));
  for (const asset of assets) {
    for (const encoding of ["br", "gzip"]) {
      const response = await request.get(asset, { headers: { "accept-encoding": encoding } });
      expect(response.status(), asset).toBe(200);
      expect(response.headers()["content-encoding"], asset).toBe(encoding);
      expect(response.headers()["cache-control"], asset).toBe("public, max-age=31536000, immutable");
      expect(response.headers()["vary"], asset).toContain("accept-encoding");
    }
  }
});
