// Runs a browser snippet of the README in headless Chromium (Debian's /usr/bin/chromium, driven by
// npm playwright-core), as a page of the pool's origin would, and prints as JSON what it logged.
// The snippet's `apiKey` is the one given; what it logs is kept as text (objects as JSON). It runs
// until a logged line matches WAIT_FOR (a regular expression) or 30 s pass. Run by
// tests/e2e/test_readme_browser.py:
//   node tests/support/readme_snippet.mjs PAGE_URL SNIPPET_FILE API_KEY WAIT_FOR
import { readFileSync } from "node:fs";
import { chromium } from "playwright-core";

const [pageUrl, snippetFile, apiKey, waitFor] = process.argv.slice(2);
const snippet = readFileSync(snippetFile, "utf8");
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
const seen = { logs: [], errors: [] };
try {
  const page = await browser.newPage();
  page.on("pageerror", (error) => seen.errors.push(String(error)));
  await page.addInitScript(() => {
    window.__logs = [];
    console.log = (...items) => window.__logs.push(
      items.map((item) => (typeof item === "string" ? item : JSON.stringify(item))).join(" "));
  });
  await page.goto(pageUrl);
  await page.evaluate(([code, key]) => new Function("apiKey", code)(key), [snippet, apiKey]);
  const pattern = new RegExp(waitFor);
  await page.waitForFunction((source) => window.__logs.some((line) => new RegExp(source).test(line)),
    pattern.source, { timeout: 30_000 }).catch(() => {});
  seen.logs = await page.evaluate(() => window.__logs);
} finally {
  await browser.close();
}
console.log(JSON.stringify(seen));
