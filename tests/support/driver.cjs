// Drives Debian's chromium with playwright-core for the Python browser tests.
// Usage: node driver.cjs <fresh user-data-dir> <time zone>. Reads one JSON command per
// line on stdin ({"id", "op", ...}) and answers one JSON line each ({"id", "ok", "value"}
// or {"id", "ok": false, "error"}). Downloads no browser; talks to loopback only.
"use strict";
const path = require("path");
const readline = require("readline");
const { chromium } = require(path.join(__dirname, "../../tools/node_modules/playwright-core"));

const CHROMIUM = process.env.SLIPWAY_CHROMIUM || "/usr/bin/chromium";
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];

async function main() {
  const [userDataDir, timezoneId] = process.argv.slice(2);
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM, headless: true, args: FLAGS, timezoneId, locale: "en-US",
    viewport: { width: 1360, height: 900 },
  });
  const page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(15000);
  const ops = {
    goto: async (c) => { const r = await page.goto(c.url); return { status: r && r.status(), url: page.url() }; },
    url: async () => page.url(),
    text: async (c) => page.locator(c.selector).first().innerText(),
    fill: async (c) => page.locator(c.selector).fill(c.value),
    click: async (c) => page.locator(c.selector).click(),
    visible: async (c) => page.locator(c.selector).isVisible(),
    count: async (c) => page.locator(c.selector).count(),
    waitText: async (c) => {
      await page.locator(c.selector, { hasText: c.text }).first().waitFor({ timeout: c.timeout || 15000 });
      return true;
    },
    waitUrl: async (c) => { await page.waitForURL(new RegExp(c.pattern)); return page.url(); },
    evaluate: async (c) => page.evaluate(c.expression),
    screenshot: async (c) => { await page.screenshot({ path: c.path, fullPage: !!c.fullPage }); return c.path; },
    close: async () => { await context.close(); setImmediate(() => process.exit(0)); return true; },
  };
  const lines = readline.createInterface({ input: process.stdin });
  process.stdout.write(JSON.stringify({ id: 0, ok: true, value: "ready" }) + "\n");
  for await (const line of lines) {
    const command = JSON.parse(line);
    let answer;
    try {
      answer = { id: command.id, ok: true, value: await ops[command.op](command) };
    } catch (error) {
      answer = { id: command.id, ok: false, error: String(error && error.message || error) };
    }
    process.stdout.write(JSON.stringify(answer === undefined ? null : answer) + "\n");
  }
  await context.close();
}

main().catch((error) => { process.stderr.write(String(error && error.stack || error) + "\n"); process.exit(1); });
