import type { Browser } from 'playwright-core';
import { chromium } from 'playwright-core';

/** Debian's Chromium, headless, with the flags this closed network needs (no background fetches). */
export async function withBrowser<T>(fn: (browser: Browser) => Promise<T>): Promise<T> {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    return await fn(browser);
  } finally {
    await browser.close();
  }
}
