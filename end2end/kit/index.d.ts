// The types of index.js (see there for what each helper is for).
import type { APIRequestContext, Locator, Page, Response } from "@playwright/test";

/** Waits until an island has hydrated: its root says `data-hydrated="true"`. */
export function waitForHydration(root: Locator): Promise<void>;
/** A predicate for `page.waitForResponse`: a POST to the mint at `path`. */
export function isMintTo(path: string): (response: Response) => boolean;
/** The `jti` of the checkout token a mint answered with (`{token, …}`). */
export function tokenId(mint: Response): Promise<string>;
/** A page's calls to the mint at `path`: how many were sent, how many are unanswered. */
export function countMints(page: Page, path: string): { sent: number; pending: number };
/** Runs the fake clock until `offsetMs` after `since`, a reading of the page's clock. */
export function runClockUntil(page: Page, since: number, offsetMs: number): Promise<void>;
/** Moves a paused clock `ms` forward in steps, letting each step's mints come back. */
export function stepClock(
  page: Page,
  counts: { pending: number }[],
  ms: number,
  stepMs?: number,
  settle?: () => Promise<void>,
): Promise<void>;
/** Logs in through a form labelled "Email" and "Password". */
export function logInWithForm(
  page: Page,
  form: { path: string; email: string; password: string; submit: Locator; landing: string },
): Promise<void>;

/** Sandbox stats, as `GET /sandbox/stats` answers them (the fields tests read). */
export interface SandboxStats {
  oauth_tokens_issued: number;
  checkout_tokens_issued: number;
  payments: number;
  unauthorized: { invalid_token: number; access_token_expired: number };
  events: { created: number; delivered: number; retried: number; failed: number };
  [field: string]: unknown;
}

/** The vendor sandbox's controls and counters, at `url`. */
export class Sandbox {
  constructor(request: APIRequestContext, url: string);
  readonly url: string;
  /** The seed data again: no payment, no event, no token ended early. */
  reset(): Promise<void>;
  /** The token with this `jti` is refused from now on as `401 access_token_expired`. */
  expireToken(jti: string): Promise<void>;
  /** The token with this `jti` is refused from now on as `401 invalid_token`. */
  revokeToken(jti: string): Promise<void>;
  /** Its counters (`GET /sandbox/stats`). */
  stats(): Promise<SandboxStats>;
}
