/**
 * A real browser for the web UI's tests: Debian's Chromium, driven by
 * playwright-core (which downloads no browser of its own). `.ci/run` installs
 * the `chromium` package when it is missing; without it these tests fail
 * saying so, they do not pass silently.
 *
 * @module
 */
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { chromium, type Browser } from "playwright-core";
import { REPO } from "../cli/cli.test-fixture.js";

/** Where Chromium is: $CHROMIUM_PATH, else Debian's /usr/bin/chromium. */
export const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

/** Screenshots of the main views, kept after the run as test artifacts. */
export const ARTIFACTS = path.join(REPO, "test-artifacts", "ui");

/**
 * Starts headless Chromium with a fresh profile and no background networking
 * (this machine's network is closed; Chromium would try Google's hosts).
 *
 * @throws Error naming the missing browser and how to install it.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`The browser tests need Chromium at ${CHROMIUM}, and there is none: install it with \`apt-get install chromium\` (.ci/run does), or set CHROMIUM_PATH.`);
  }
  // playwright starts it with a new empty profile of its own, removed on close.
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  }).catch((error: Error) => {
    throw new Error(`Chromium at ${CHROMIUM} did not start: ${error.message}`, { cause: error });
  });
  mkdirSync(ARTIFACTS, { recursive: true });
  return browser;
}
