import { expect, test, type Page } from "@playwright/test";
import { logIn, openCheckout } from "./helpers";

// What axe cannot see (WCAG 2.2): content reflows at 320 CSS px with no
// horizontal scrolling (1.4.10), text at 200 % loses nothing (1.4.4), and
// a payer who asks for reduced motion gets none (2.3.3; there is no
// motion on these pages at all, and this keeps it so).

/** Whether the page scrolls sideways. */
async function scrollsSideways(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth);
}

/** The pages a payer sees, each in its state with the most on it. */
async function eachPage(page: Page, check: (name: string) => Promise<void>) {
  await page.goto("/login");
  await check("log-in");
  await logIn(page, "alice");
  await check("invoice list");
  await openCheckout(page, "inv_1001");
  await expect(page.getByRole("radio")).toHaveCount(2);
  await expect(page.getByTestId("invoice-pdf")).toBeVisible();
  await page.getByText("Developer").click();
  await check("checkout");
}

test("every page reflows at 320 CSS px with no horizontal scrolling", async ({ page }) => {
  await page.setViewportSize({ width: 320, height: 640 });
  await eachPage(page, async (name) => {
    expect(await scrollsSideways(page), name).toBe(false);
  });
  // The Pay button is reachable and whole.
  const pay = page.getByTestId("pay-button");
  await pay.scrollIntoViewIfNeeded();
  const box = (await pay.boundingBox())!;
  expect(box.x).toBeGreaterThanOrEqual(0);
  expect(box.x + box.width).toBeLessThanOrEqual(320);
});

test("text at 200 % loses nothing: no sideways scrolling, the Pay button whole", async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  const twice = async () => {
    // The browser's text size, as a payer sets it: the root font size (set
    // through the CSSOM, which the page's CSP allows, unlike a <style>).
    await page.evaluate(() => document.documentElement.style.setProperty("font-size", "200%"));
    expect(await page.evaluate(() => getComputedStyle(document.documentElement).fontSize)).toBe("32px");
  };
  await eachPage(page, async (name) => {
    await twice();
    expect(await scrollsSideways(page), name).toBe(false);
  });
  const pay = page.getByTestId("pay-button");
  await pay.scrollIntoViewIfNeeded();
  await expect(pay).toBeVisible();
  const box = (await pay.boundingBox())!;
  expect(box.x + box.width).toBeLessThanOrEqual(1280);
});

test("a payer who asks for reduced motion gets none", async ({ page }) => {
  await page.emulateMedia({ reducedMotion: "reduce" });
  await eachPage(page, async (name) => {
    const moving = await page.evaluate(() =>
      [...document.querySelectorAll("*")]
        .map((element) => getComputedStyle(element))
        .filter(
          (style) =>
            style.animationName !== "none" ||
            style.transitionDuration.split(",").some((d) => parseFloat(d) > 0),
        ).length,
    );
    expect(moving, name).toBe(0);
    expect(await page.evaluate(() => document.getAnimations().length), name).toBe(0);
  });
});
