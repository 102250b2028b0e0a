// Takes the README's and the book's picture of the checkout page:
//   (terminal 1) ./scripts/run --release
//   (terminal 2) cd end2end && node screenshot.mjs [url] [output]
import { chromium } from "@playwright/test";

const url = process.argv[2] ?? "http://127.0.0.1:3000/checkout/inv_1001";
const output = process.argv[3] ?? "../docs/src/checkout.png";

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
const page = await browser.newPage({ viewport: { width: 720, height: 640 } });
const site = new URL(url).origin;
await page.goto(`${site}/login`);
await page.getByLabel("Email").fill("alice@example.com");
await page.getByLabel("Password").fill("alice-demo-password");
await Promise.all([page.waitForURL(`${site}/`), page.getByRole("button", { name: "Log in" }).click()]);
await page.goto(url);
await page.locator('[data-testid="checkout-root"][data-hydrated="true"]').waitFor();
await page.locator('[data-testid="invoice-number"]:not(:empty)').waitFor();
await page.locator('[data-testid="pay-button"]').waitFor();
await page.getByText("Developer").click();
await page.screenshot({ path: output });
await browser.close();
console.log(`wrote ${output}`);
