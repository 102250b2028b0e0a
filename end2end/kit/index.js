// Playwright helpers for a Leptos checkout with the Alternative Payments
// SDK, shared by this repository's browser tests and a project made from
// its template: wait for an island to hydrate, watch and count the mints,
// step a fake clock, log in through a form, and drive the vendor sandbox's
// controls. Nothing here knows one app's pages: paths and locators are
// arguments. Plain CommonJS with its types beside it (index.d.ts), so it
// needs no build, wherever npm puts it.
"use strict";
const { expect } = require("@playwright/test");

/** Waits until an island has hydrated: its root says `data-hydrated="true"`. */
async function waitForHydration(root) {
  await expect(root).toHaveAttribute("data-hydrated", "true");
}

/** A predicate for `page.waitForResponse`: a POST to the mint at `path`. */
const isMintTo = (path) => (response) =>
  response.url().endsWith(path) && response.request().method() === "POST";

/** The `jti` of the checkout token a mint answered with (`{token, …}`). */
async function tokenId(mint) {
  const { token } = await mint.json();
  return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString()).jti;
}

/** A page's calls to the mint at `path`: how many were sent, how many are unanswered. */
function countMints(page, path) {
  const counts = { sent: 0, pending: 0 };
  // Only requests seen starting here are waited for: a mint sent before
  // the count began may report its end after, and must not count as -1.
  const seen = new Set();
  page.on("request", (r) => {
    if (r.url().endsWith(path)) {
      seen.add(r);
      counts.sent++;
      counts.pending++;
    }
  });
  const answered = (r) => {
    if (seen.delete(r)) counts.pending--;
  };
  page.on("requestfinished", answered);
  page.on("requestfailed", answered);
  return counts;
}

/**
 * Runs the fake clock (`page.clock.install()`) until `offsetMs` after
 * `since` (a reading of the page's clock): however long the test itself
 * took in between, the page ends up exactly that far past it.
 */
async function runClockUntil(page, since, offsetMs) {
  const now = await page.evaluate(() => Date.now());
  await page.clock.runFor(Math.max(0, since + offsetMs - now));
}

/**
 * Moves a paused clock `ms` forward in steps of `stepMs`, letting the mints
 * each step sets off (`counts`, from `countMints`) come back before the
 * next: the retry timers their answers arm are then in place before they
 * fall due. `settle`, if given, is awaited after each step too (e.g. until
 * the page says its refresh is done).
 */
async function stepClock(page, counts, ms, stepMs = 5_000, settle) {
  for (let done = 0; done < ms; done += stepMs) {
    await page.clock.runFor(Math.min(stepMs, ms - done));
    await page.evaluate(() => 0);
    await expect
      .poll(() => counts.reduce((n, c) => n + c.pending, 0), { timeout: 20_000 })
      .toBe(0);
    if (settle) await settle();
  }
}

/** Logs in through a form labelled "Email" and "Password", as a person would. */
async function logInWithForm(page, form) {
  await page.goto(form.path);
  await page.getByLabel("Email").fill(form.email);
  await page.getByLabel("Password").fill(form.password);
  await Promise.all([page.waitForURL(form.landing), form.submit.click()]);
}

/**
 * The vendor sandbox's controls and counters, at `url`. Its controls want
 * the header `X-Sandbox-Control: 1`, which no HTML form can send.
 */
class Sandbox {
  constructor(request, url) {
    this.request = request;
    this.url = url;
  }

  async control(path) {
    const answer = await this.request.post(`${this.url}/sandbox/${path}`, {
      headers: { "X-Sandbox-Control": "1" },
    });
    expect(answer.status(), `POST /sandbox/${path}`).toBe(204);
  }

  reset() {
    return this.control("reset");
  }

  expireToken(jti) {
    return this.control(`tokens/${jti}/expire`);
  }

  revokeToken(jti) {
    return this.control(`tokens/${jti}/revoke`);
  }

  async stats() {
    return (await this.request.get(`${this.url}/sandbox/stats`)).json();
  }
}

module.exports = {
  waitForHydration,
  isMintTo,
  tokenId,
  countMints,
  runClockUntil,
  stepClock,
  logInWithForm,
  Sandbox,
};
