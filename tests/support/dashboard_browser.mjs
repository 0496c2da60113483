// Drives the dashboard (/app/) in headless Chromium (Debian's /usr/bin/chromium, npm playwright-core)
// as a participant would, and prints what it saw as JSON. Run by tests/e2e/test_dashboard_browser.py:
//   node tests/support/dashboard_browser.mjs SCENARIO_JSON_FILE
// The scenario names the pool's URL, the test wallet (Ed25519 seed, raw address, public key, state
// init), a miner of that wallet (id, token) and where screenshots and downloads go.
//
// The wallet is injected into the page as a TON Connect "JS bridge" wallet under Tonkeeper's key
// (window.tonkeeper.tonconnect), as Tonkeeper's browser extension does. It answers the dashboard's
// connect request with a ton_proof it signs here, with the wallet's key, exactly as a wallet does:
// it reads the app's manifest for the domain, signs sha256(0xffff ‖ "ton-connect" ‖
// sha256("ton-proof-item-v2/" ‖ workchain ‖ hash ‖ len(domain) ‖ domain ‖ timestamp ‖ payload)).
import { createHash, createPrivateKey, sign } from "node:crypto";
import { readFileSync } from "node:fs";
import { chromium } from "playwright-core";

const scenario = JSON.parse(readFileSync(process.argv[2], "utf8"));
const { base, wallet, miner, screenshots, downloads, apiKey } = scenario;
const TIMEOUT = 30_000;
const seen = { errors: [], foreignScripts: [], unlabelled: {}, steps: [], console: [] };

// Ed25519 private key from a 32-byte seed (PKCS#8 DER prefix of an Ed25519 key).
const privateKey = createPrivateKey({
  key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), Buffer.from(wallet.seed, "hex")]),
  format: "der", type: "pkcs8",
});

function tonProof(payload, domain) {
  const [workchain, hash] = wallet.address.split(":");
  const timestamp = Math.floor(Date.now() / 1000);
  const domainBytes = Buffer.from(domain, "utf8");
  const int32 = Buffer.alloc(4); int32.writeInt32BE(Number(workchain));
  const length = Buffer.alloc(4); length.writeUInt32LE(domainBytes.length);
  const time = Buffer.alloc(8); time.writeBigUInt64LE(BigInt(timestamp));
  const message = Buffer.concat([Buffer.from("ton-proof-item-v2/"), int32, Buffer.from(hash, "hex"), length,
                                 domainBytes, time, Buffer.from(payload, "utf8")]);
  const signed = createHash("sha256").update(Buffer.concat([Buffer.from([0xff, 0xff]), Buffer.from("ton-connect"),
                                                            createHash("sha256").update(message).digest()])).digest();
  return { timestamp, domain: { lengthBytes: domainBytes.length, value: domain }, payload,
           signature: sign(null, signed, privateKey).toString("base64") };
}

// The injected wallet (runs in the page). TON Connect's JS bridge: connect, restoreConnection, send, listen.
function injectWallet({ account }) {
  const device = { platform: "linux", appName: "Tonkeeper", appVersion: "4.0.0", maxProtocolVersion: 2,
                   features: ["SendTransaction", { name: "SendTransaction", maxMessages: 4 }] };
  const addressItem = { name: "ton_addr", address: account.address, network: "-239", publicKey: account.publicKey,
                        walletStateInit: account.stateInit };
  const listeners = new Set();
  let connected = false;
  let eventId = 0;
  window.tonkeeper = { tonconnect: {
    deviceInfo: device,
    walletInfo: { name: "Tonkeeper", app_name: "tonkeeper", image: "/app/icon.png", about_url: "https://tonkeeper.com",
                  platforms: ["chrome", "firefox"] },
    protocolVersion: 2,
    isWalletBrowser: false,
    async connect(protocolVersion, request) {
      window.__walletRequests = (window.__walletRequests ?? 0) + 1;
      const manifest = await (await fetch(request.manifestUrl)).json();
      const domain = new URL(manifest.url).hostname;  // the app's domain, from its manifest, as a wallet takes it
      const items = [addressItem];
      const proofItem = request.items.find((item) => item.name === "ton_proof");
      if (proofItem) items.push({ name: "ton_proof", proof: await window.__signTonProof(proofItem.payload, domain) });
      connected = true;
      const event = { event: "connect", id: ++eventId, payload: { items, device } };
      return event;
    },
    async restoreConnection() {
      if (!connected) return { event: "connect_error", id: ++eventId, payload: { code: 0, message: "not connected" } };
      return { event: "connect", id: ++eventId, payload: { items: [addressItem], device } };
    },
    async send(request) {
      if (request.method === "disconnect") {
        connected = false;
        return { id: request.id, result: {} };
      }
      return { id: request.id, error: { code: 400, message: `the test wallet does not do ${request.method}` } };
    },
    listen(callback) {
      listeners.add(callback);
      return () => listeners.delete(callback);
    },
  } };
}

async function step(name, action) {
  const started = Date.now();
  try {
    await action();
  } catch (error) {
    throw new Error(`${name}: ${error.message}`);
  }
  seen.steps.push([name, Date.now() - started]);
}

async function unlabelledControls(page) {
  return page.$$eval("main input, main select, main textarea, main button", (controls) => controls
    .filter((control) => !(control.labels?.length || control.getAttribute("aria-label") || control.textContent.trim()))
    .map((control) => control.outerHTML.slice(0, 120)));
}

async function shoot(page, name) {
  seen.unlabelled[name] = await unlabelledControls(page);
  await page.screenshot({ path: `${screenshots}/${name}.png`, fullPage: true });
}

async function rest(method, path, body, headers = {}) {
  const response = await fetch(`${base}${path}`, { method, headers: { "Content-Type": "application/json", ...headers },
                                                    body: body ? JSON.stringify(body) : undefined });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  page.on("pageerror", (error) => seen.errors.push(String(error)));
  page.on("console", (entry) => {
    if (entry.type() === "error" || entry.type() === "warning") seen.console.push(entry.text().slice(0, 300));
  });
  page.on("request", (request) => {
    const url = request.url();
    if (["script", "stylesheet", "font"].includes(request.resourceType()) && !url.startsWith(base)) seen.foreignScripts.push(url);
  });
  // No internet here: TON Connect's wallet list (config.ton.org) and wallets' icons are refused at
  // once, and the SDK falls back to the list it ships.
  await page.route((url) => !url.href.startsWith(base), (route) => route.abort());
  await page.exposeFunction("__signTonProof", tonProof);
  await page.addInitScript(injectWallet, { account: { address: wallet.address, publicKey: wallet.public_key,
                                                      stateInit: wallet.state_init } });

  await step("opens the login page at /", async () => {
    await page.goto(`${base}/`);
    await page.getByRole("button", { name: "Connect TON wallet" }).waitFor();
  });
  await shoot(page, "login");

  await step("logs in with the wallet (TON Connect ton_proof)", async () => {
    await page.getByRole("button", { name: "Connect TON wallet" }).click();
    // TON Connect's picker: the wallet, then its browser extension (the injected bridge), as a person clicks them.
    const picker = page.locator("#tc-widget-root");
    await picker.getByText("Tonkeeper", { exact: true }).first().click();
    await picker.getByText("Browser Extension").click();
    await page.getByTestId("signed-in-as").waitFor();
  });
  seen.walletRequests = await page.evaluate(() => window.__walletRequests);
  seen.session = await page.evaluate(() => JSON.parse(sessionStorage.getItem("computepool.session")));

  await step("overview shows alive, earning and the windows", async () => {
    await page.getByTestId("alive").filter({ hasText: "Yes" }).waitFor();
    await page.getByTestId("earning").waitFor();
    await page.locator("[data-testid=activity] li").first().waitFor();
  });
  seen.overview = {
    alive: await page.getByTestId("alive").innerText(),
    earning: await page.getByTestId("earning").innerText(),
    windows: await page.$$eval("tr[data-window]", (rows) => rows.map((row) => [...row.children].map((c) => c.textContent))),
    activity: await page.$$eval("[data-testid=activity] li", (items) => items.map((item) => item.textContent)),
  };
  await shoot(page, "overview");

  await step("workers page goes live", async () => {
    await page.getByRole("link", { name: "Workers" }).click();
    await page.getByTestId("workers-feed").filter({ hasText: "(live)" }).waitFor();
  });
  const row = page.locator(`tr[data-worker-id="${miner.worker_id}"]`);
  // A heartbeat as the miner sends it (REST), then the page must show its figures within 2 s.
  const sentAt = Date.now();
  await rest("POST", "/v1/miner/heartbeat", { miner_id: miner.id, heartbeat: {
    status: "healthy", gpu_utilization: 61.5, gpu_memory_used_gb: 12.5, gpu_temperature_celsius: 57, gpu_power_watts: 250,
    requests_total: 20, errors_total: 0 } }, { "X-Api-Key": apiKey, "X-Miner-Token": miner.token });
  await row.locator('[data-column="gpu"]').filter({ hasText: "61.5 %" }).waitFor({ timeout: 2000 });
  seen.heartbeatShownMs = Date.now() - sentAt;
  seen.workerRow = await row.locator("td").allInnerTexts();

  await step("changes the price coefficient", async () => {
    const coefficient = row.getByRole("spinbutton", { name: /Price coefficient/ });
    await coefficient.fill("1.35");
    await row.getByRole("button", { name: "Save" }).click();
    await row.getByText("saved").waitFor();
  });
  await step("a refused change shows the server's message", async () => {
    const coefficient = row.getByRole("spinbutton", { name: /Price coefficient/ });
    await coefficient.fill("1.0000001");  // the browser takes it; the server allows 6 decimals
    await row.getByRole("button", { name: "Save" }).click();
    await page.locator(".alerts [role=alert]").waitFor();
  });
  seen.refusal = await page.locator(".alerts [role=alert]").innerText();
  await step("opens a worker's charts", async () => {
    await row.getByRole("button", { name: /#/ }).click();
    await page.locator("svg.chart").first().waitFor();
  });
  seen.chartLabels = await page.$$eval("svg.chart", (charts) => charts.map((chart) => chart.getAttribute("aria-label")));
  await shoot(page, "workers");

  await step("submits a job and verifies its receipt", async () => {
    await page.getByRole("link", { name: "Jobs" }).click();
    await page.getByLabel("Job type").fill("echo");
    await page.getByLabel("Parameters (JSON object)").fill('{"text": "hello from the dashboard"}');
    await page.getByRole("button", { name: "Submit job" }).click();
    const submitted = await page.locator(".message.success").filter({ hasText: "Submitted job" }).innerText();
    seen.jobId = /Submitted job (\S+)/.exec(submitted)[1];
    // The test's miner completes it; reopen the job until its receipt is there.
    for (let attempt = 0; attempt < 40; attempt++) {
      await page.getByRole("button", { name: seen.jobId, exact: true }).click();
      await page.getByTestId("job-status").waitFor();
      if ((await page.getByTestId("job-status").innerText()) === "Completed"
          && await page.getByRole("button", { name: "Verify" }).count()) break;
      await page.waitForTimeout(250);
    }
    await page.getByRole("button", { name: "Verify" }).first().click();
    await page.getByText(/^valid: signed by this coordinator$/).waitFor();
  });
  await shoot(page, "jobs");

  await step("downloads the tax report", async () => {
    await page.getByRole("link", { name: "Payouts" }).click();
    await page.getByLabel("Tax year").selectOption(String(scenario.taxYear));
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("tax-report").click()]);
    seen.taxReport = { name: download.suggestedFilename(), path: `${downloads}/${download.suggestedFilename()}` };
    await download.saveAs(seen.taxReport.path);
  });
  seen.owed = await page.getByTestId("owed").innerText();
  await shoot(page, "payouts");

  await step("account page", async () => {
    await page.getByRole("link", { name: "Account" }).click();
    await page.getByTestId("wallet").waitFor();
  });
  seen.accountWallet = await page.getByTestId("wallet").locator("dd").innerText();
  seen.notifications = await page.locator("#notifications + .message").innerText();
  await shoot(page, "account");

  await step("a phone-sized overview", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole("link", { name: "Overview" }).click();
    await page.getByTestId("alive").filter({ hasText: "Yes" }).waitFor();
    seen.phoneOverflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  });
  await shoot(page, "overview-phone");
  await page.setViewportSize({ width: 1280, height: 900 });

  await step("logs out", async () => {
    await page.getByTestId("logout").click();
    await page.getByRole("button", { name: "Connect TON wallet" }).waitFor();
  });
  seen.sessionAfterLogout = await page.evaluate(() => sessionStorage.getItem("computepool.session"));

  await step("an operator signs in with an API key", async () => {
    await page.getByLabel("API key").fill("not-a-key");
    await page.getByRole("button", { name: "Sign in with key" }).click();
    seen.badKey = await page.locator("[role=alert]").innerText();
    await page.getByLabel("API key").fill(apiKey);
    await page.getByRole("button", { name: "Sign in with key" }).click();
    await page.getByTestId("signed-in-as").filter({ hasText: "admin" }).waitFor();
  });
} catch (error) {
  seen.failure = String(error.message ?? error);
  for (const page of browser.contexts().flatMap((context) => context.pages())) {
    await page.screenshot({ path: `${screenshots}/failure.png`, fullPage: true }).catch(() => undefined);
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(seen));
