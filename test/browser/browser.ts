import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";

/** Debian's Chromium (`apt-get install chromium`; .ci/run installs it when missing): playwright downloads nothing. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true });
}

export interface Watched {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught exceptions of the page, as the browser reported them. */
  errors: string[];
  /** Every request that left for another origin than the server's (blocked before it went out). */
  foreignRequests: string[];
}

/**
 * A fresh context (its own sessionStorage) and page, watched: console errors and uncaught exceptions are collected,
 * and every request to another origin than the server's is recorded and refused, so a page that needs the internet
 * fails its test instead of silently reaching a CDN.
 */
export async function openPage(browser: Browser, serverUrl: string): Promise<Watched> {
  const context = await browser.newContext();
  const origin = new URL(serverUrl).origin;
  const foreignRequests: string[] = [];
  await context.route(
    (url) => url.origin !== origin,
    (route) => {
      foreignRequests.push(route.request().url());
      return route.abort("blockedbyclient");
    },
  );
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => errors.push(`uncaught: ${error.message}`));
  return { context, page, errors, foreignRequests };
}
