// Chromium for the browser tests: Debian's /usr/bin/chromium driven by
// playwright-core (no browser can be downloaded here: `npx playwright
// install` fails). Every browser test launches it through here, with the
// flags found necessary on the project's machines (the project's TOOLING
// notes, browser row).
import { chromium } from "playwright-core";
import { accessSync, constants } from "node:fs";

/** Where the browser is; WSG_CHROMIUM overrides it. */
export const chromiumPath = process.env.WSG_CHROMIUM || "/usr/bin/chromium";

/**
 * The flags every launch uses. As root Chromium needs --no-sandbox; without
 * the background-networking flags it opens connections of its own that the
 * closed network refuses, many at a time, slowing every page.
 */
export const chromiumFlags = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * launchChromium starts a headless Chromium. Playwright gives each launch a
 * new empty profile (--user-data-dir in a fresh temporary directory, removed
 * by close()), so no state carries from one test to the next; a context per
 * simulated browser (browser.newContext()) keeps their storage apart too.
 * A missing browser is a test failure that says how to install it, never a
 * skip.
 */
export async function launchChromium(options = {}) {
  try {
    accessSync(chromiumPath, constants.X_OK);
  } catch {
    throw new Error(
      `Chromium not found at ${chromiumPath}: install Debian's chromium (make deps, or apt-get install -y chromium), ` +
        `or point WSG_CHROMIUM at a Chromium binary`,
    );
  }
  return chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumFlags, ...options });
}
