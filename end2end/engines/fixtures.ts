// The engines' test fixtures: per project (engine) its driver process and
// its own site (each engine pays the same demo invoices, so each has a
// server of its own: engines.config.ts), per test a fresh browser session,
// and waits on the page's markers through WebDriver.
import { test as base } from "@playwright/test";
import { By, type WebDriver } from "selenium-webdriver";
import { Driver, type EngineName } from "./engines";

export interface EngineOptions {
  engine: EngineName;
  /** The site under test, and its embedded vendor sandbox. */
  site: string;
  sandbox: string;
  /** Where this engine's WebDriver server listens. */
  driverPort: number;
}

export const test = base.extend<{ web: WebDriver }, EngineOptions & { driver: Driver }>({
  engine: ["chromium", { option: true, scope: "worker" }],
  site: ["", { option: true, scope: "worker" }],
  sandbox: ["", { option: true, scope: "worker" }],
  driverPort: [4444, { option: true, scope: "worker" }],
  driver: [
    async ({ engine, driverPort }, use) => {
      const driver = await Driver.start(engine, driverPort);
      await use(driver);
      await driver.stop();
    },
    { scope: "worker" },
  ],
  web: async ({ driver }, use, testInfo) => {
    const web = await driver.session();
    const agent = await web.executeScript<string>("return navigator.userAgent");
    testInfo.annotations.push({ type: "browser", description: agent });
    try {
      await use(web);
    } finally {
      await web.quit();
    }
  },
});

export const byTestId = (id: string) => By.css(`[data-testid="${id}"]`);

/** Waits until `check` holds (an error counts as not yet), or fails saying `what`. */
export async function waitFor(
  web: WebDriver,
  what: string,
  check: () => Promise<boolean>,
  timeout = 20_000,
) {
  await web.wait(
    async () => {
      try {
        return await check();
      } catch {
        return false;
      }
    },
    timeout,
    `waited ${timeout} ms for: ${what}`,
  );
}

/** The element's text, shown or not (the developer panel is folded). */
export async function textOf(web: WebDriver, testId: string): Promise<string> {
  return ((await web.findElement(byTestId(testId)).getAttribute("textContent")) ?? "").trim();
}

/** Waits until the element's text is `expected` (or matches it). */
export async function waitForText(web: WebDriver, testId: string, expected: string | RegExp) {
  await waitFor(web, `${testId} to read ${expected}`, async () => {
    const text = await textOf(web, testId);
    return typeof expected === "string" ? text === expected : expected.test(text);
  });
}

/** The documented demo users. */
export const USERS = {
  alice: { email: "alice@example.com", password: "alice-demo-password" },
  bob: { email: "bob@example.com", password: "bob-demo-password" },
} as const;

/** Logs `who` in through the form, as a person would. */
export async function logIn(web: WebDriver, site: string, who: keyof typeof USERS = "alice") {
  await web.get(`${site}/login`);
  await web.findElement(By.id("email")).sendKeys(USERS[who].email);
  await web.findElement(By.id("password")).sendKeys(USERS[who].password);
  await web.findElement(byTestId("login-submit")).click();
  await waitFor(web, "the invoice list", async () => (await web.findElements(byTestId("invoice-list"))).length > 0);
}

/** Where the page's hydration stands, from inside it: leptos's island
 * script waits for an idle moment, imports the module (which sets
 * `__hydrateIsland`), then fetches and starts the wasm. Said when a wait
 * for hydration fails, so a failure tells which step never came. */
async function hydrationState(web: WebDriver): Promise<string> {
  try {
    return await web.executeScript<string>(`
      const files = performance.getEntriesByType("resource")
        .filter((e) => e.name.includes("/pkg/"))
        .map((e) => e.name.split("/").pop() + " " + Math.round(e.duration) + " ms");
      return JSON.stringify({
        readyState: document.readyState,
        visibility: document.visibilityState,
        requestIdleCallback: typeof window.requestIdleCallback,
        moduleImported: typeof window.__hydrateIsland === "function",
        islands: document.querySelectorAll("leptos-island").length,
        files,
      });`);
  } catch (error) {
    return `unreadable: ${error}`;
  }
}

/** Opens a checkout and waits until its island has hydrated and its first reads are in. */
export async function openCheckout(web: WebDriver, site: string, invoiceId: string) {
  await web.get(`${site}/checkout/${invoiceId}`);
  try {
    await waitFor(web, "hydration", async () =>
      (await web.findElement(byTestId("checkout-root")).getAttribute("data-hydrated")) === "true",
    );
  } catch (error) {
    throw new Error(`${error}; the page: ${await hydrationState(web)}`);
  }
  // The PDF link shows once the first reads are all in.
  await waitFor(web, "the first reads", async () => (await web.findElements(byTestId("invoice-pdf"))).length > 0);
}

/** The vendor sandbox's statistics (tokens issued, …). */
export async function sandboxStats(sandbox: string): Promise<Record<string, unknown>> {
  const answer = await fetch(`${sandbox}/sandbox/stats`, { headers: { "X-Sandbox-Control": "1" } });
  if (!answer.ok) throw new Error(`sandbox stats: ${answer.status}`);
  return answer.json();
}
