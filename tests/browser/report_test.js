#!/usr/bin/env node
/*
 * The staff report (issue 21) in a real headless Chromium (Debian's package, driven by
 * playwright-core; no browser is downloaded). Opens REPORT (a file path) and prints one
 * JSON line: console errors, page errors, every network request other than the file
 * itself, the section ids, and how many inline SVG charts rendered with a size.
 * SCREENSHOT: where to save a full-page screenshot (optional).
 */
"use strict";

const path = require("path");
const { pathToFileURL } = require("url");
const { chromium } = require(path.join(__dirname, "..", "..", "node_modules", "playwright-core"));

(async () => {
  const report = pathToFileURL(path.resolve(process.env.REPORT)).href;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--headless"],
  });
  const result = { consoleErrors: [], pageErrors: [], requests: [] };
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    page.on("console", (message) => {
      if (message.type() === "error" || message.type() === "warning") result.consoleErrors.push(message.text());
    });
    page.on("pageerror", (error) => result.pageErrors.push(error.message));
    page.on("request", (request) => {
      if (request.url() !== report) result.requests.push(request.url());
    });
    await page.goto(report, { waitUntil: "load" });
    result.sections = await page.$$eval("section", (nodes) => nodes.map((node) => node.id));
    result.charts = await page.$$eval("figure svg", (nodes) =>
      nodes.filter((node) => node.getBoundingClientRect().width > 100 && node.getBoundingClientRect().height > 50).length);
    result.title = await page.title();
    if (process.env.SCREENSHOT) {
      await page.screenshot({ path: process.env.SCREENSHOT, fullPage: Boolean(process.env.FULL_PAGE) });
    }
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(result));
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
