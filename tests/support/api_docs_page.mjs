// Opens the API reference pages in headless Chromium (Debian's /usr/bin/chromium, driven by npm
// playwright-core) and prints, as JSON, what a person would see: the operations Swagger UI lists,
// the answer of one "Try it out", the operations ReDoc renders, page errors, and any request that
// left the origin. Run by tests/e2e/test_api_docs_browser.py:
//   node tests/support/api_docs_page.mjs BASE_URL PREFIX [SCREENSHOT_DIR]
import { chromium } from "playwright-core";

const [base, prefix, screenshots] = process.argv.slice(2);
const TIMEOUT = 60_000;
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
const seen = { errors: [], foreign: [] };
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
  page.setDefaultTimeout(TIMEOUT);
  page.on("pageerror", (error) => seen.errors.push(String(error)));
  // A request elsewhere counts unless the page's Content-Security-Policy stopped it before it left.
  page.on("requestfinished", (request) => {
    const url = request.url();
    if (!url.startsWith(base) && !url.startsWith("data:") && !url.startsWith("blob:")) seen.foreign.push(url);
  });
  page.on("requestfailed", (request) => {
    if (request.failure()?.errorText !== "csp") seen.foreign.push(request.url());
  });

  await page.goto(`${base}${prefix}/docs`);
  await page.waitForSelector(".opblock");
  seen.swagger = await page.$$eval(".opblock", (blocks) => blocks.map((block) => [
    block.querySelector(".opblock-summary-method")?.textContent.trim().toLowerCase(),
    block.querySelector(".opblock-summary-path")?.getAttribute("data-path"),
  ]));
  // "Try it out" on a public operation: the request goes to this origin (servers: "/").
  const keyBlock = page.locator(".opblock", { has: page.locator('[data-path="/v1/receipts/public-key"]') });
  await keyBlock.locator(".opblock-summary").click();
  await keyBlock.locator(".try-out__btn").click();
  await keyBlock.locator(".execute").click();
  seen.tryItOut = (await keyBlock.locator(".live-responses-table tbody .response-col_status").first().textContent()).trim();
  if (screenshots) await page.screenshot({ path: `${screenshots}/swagger-ui.png` });

  await page.goto(`${base}${prefix}/redoc`);
  await page.waitForSelector('[data-section-id*="/operation/"]');
  seen.redoc = await page.$$eval('[data-section-id*="/operation/"]',
    (sections) => sections.map((section) => section.getAttribute("data-section-id").split("/operation/")[1]));
  if (screenshots) await page.screenshot({ path: `${screenshots}/redoc.png` });
} finally {
  await browser.close();
}
console.log(JSON.stringify(seen));
