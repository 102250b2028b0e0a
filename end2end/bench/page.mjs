// The page's figures for BENCHMARKS.md, in headless Chromium:
// - hydration: navigation start → data-hydrated="true" on /checkout/inv_1001,
//   and the first token: navigation start → the SDK holds its first token
//   (the developer panel's lifetime is no longer 0); median of 20 cold
//   loads (a new browser context each: nothing cached), as is, with 4× CPU
//   throttling, and with 4× CPU on a slow 4G network (150 ms round trip,
//   1.6 Mbit/s down, 750 kbit/s up, as Lighthouse's mobile preset), both
//   through the Chrome DevTools Protocol;
// - refresh overhead: the token's timer firing → the new token in use (the
//   handler's round trip to the merchant server), median of 20.
// Run after `cargo leptos build --release --precompress`, from end2end/:
//   node bench/page.mjs
// It starts the release server on ports of its own and stops it after.
import { spawn } from "node:child_process";
import { chromium } from "@playwright/test";

const SITE = "127.0.0.1:3200";
const BASE = `http://${SITE}`;
const LOADS = 20;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function startServer() {
  const server = spawn("cargo", ["leptos", "serve", "--release", "--precompress"], {
    cwd: "..",
    env: {
      ...process.env,
      LEPTOS_SITE_ADDR: SITE,
      LEPTOS_RELOAD_PORT: "3201",
      SANDBOX_ADDR: "127.0.0.1:3230",
      SANDBOX_DATABASE_URL: "sqlite::memory:",
      MERCHANT_DATABASE_URL: "sqlite::memory:",
      RUST_LOG: "warn",
    },
    stdio: "ignore",
  });
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`${BASE}/healthz`)).ok) return server;
    } catch {}
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error("the server did not start");
}

async function loggedInContext(browser) {
  const context = await browser.newContext({ baseURL: BASE });
  const response = await context.request.post("/api/login", {
    form: { email: "alice@example.com", password: "alice-demo-password" },
    maxRedirects: 0,
  });
  if (![200, 302, 303].includes(response.status())) throw new Error(`log-in: ${response.status()}`);
  return context;
}

/** Lighthouse's slow 4G, in the units of Network.emulateNetworkConditions. */
const SLOW_4G = { offline: false, latency: 150, downloadThroughput: 1_600_000 / 8, uploadThroughput: 750_000 / 8 };

const PROFILES = [
  { name: "as is", cpu: 1, network: null },
  { name: "CPU 4x", cpu: 4, network: null },
  { name: "CPU 4x, slow 4G", cpu: 4, network: SLOW_4G },
];

/** One cold load: ms from navigation start to hydration and to the first token. */
async function coldLoad(browser, profile) {
  const context = await loggedInContext(browser);
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: profile.cpu });
  if (profile.network) {
    await cdp.send("Network.enable");
    await cdp.send("Network.emulateNetworkConditions", profile.network);
  }
  await page.addInitScript(() => {
    new MutationObserver((_, observer) => {
      if (!window.__hydratedAt && document.querySelector('[data-hydrated="true"]')) {
        window.__hydratedAt = performance.now(); // ms since navigation start
      }
      const left = document.querySelector('[data-testid="token-expires-in"]')?.textContent;
      if (!window.__tokenAt && left && left !== "0") window.__tokenAt = performance.now();
      if (window.__hydratedAt && window.__tokenAt) observer.disconnect();
    }).observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
  });
  await page.goto("/checkout/inv_1001");
  const at = await (
    await page.waitForFunction(() => window.__hydratedAt && window.__tokenAt && [window.__hydratedAt, window.__tokenAt], null, { timeout: 60_000 })
  ).jsonValue();
  await context.close();
  return { hydrated: at[0], token: at[1] };
}

/** Refreshes by the timer, one after another: ms each took to be in use. */
async function refreshes(browser) {
  const context = await loggedInContext(browser);
  const page = await context.newPage();
  await page.clock.install();
  await page.goto("/checkout/inv_1001");
  const count = page.getByTestId("token-refresh-count");
  await page.waitForFunction(() => document.querySelector('[data-testid="token-expires-in"]')?.textContent !== "0");
  const took = [];
  for (let i = 1; i <= LOADS; i++) {
    const left = Number(await page.getByTestId("token-expires-in").textContent());
    // Jump to just past the refresh point (60 s before expiry): the timer
    // fires at the jump's end, then the handler runs in real time.
    await page.clock.fastForward((left - 59) * 1000);
    await page.waitForFunction((n) => document.querySelector('[data-testid="token-refresh-count"]')?.textContent === String(n), i);
    took.push(parseInt(await page.getByTestId("token-last-refresh-took").textContent(), 10));
  }
  await context.close();
  return took;
}

const server = await startServer();
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const summary = (xs) =>
    `median ${median(xs).toFixed(0)} ms (min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)}, n=${xs.length})`;
  for (const profile of PROFILES) {
    await coldLoad(browser, profile); // warm the server, not the browser
    const loads = [];
    for (let i = 0; i < LOADS; i++) loads.push(await coldLoad(browser, profile));
    console.log(`${profile.name}: hydrated ${summary(loads.map((l) => l.hydrated))}; ` +
      `first token ${summary(loads.map((l) => l.token))}`);
  }
  const took = await refreshes(browser);
  console.log(`refresh overhead (timer → new token in use): median ${median(took)} ms ` +
    `(min ${Math.min(...took)}, max ${Math.max(...took)}, n=${took.length})`);
} finally {
  await browser.close();
  server.kill("SIGINT");
}
