#!/usr/bin/env node
/*
 * Phone-width screenshots of the widget (run by scripts/screenshots.py, which starts the bot).
 * WEB_URL: the demo page; OUT_DIR: where the PNGs go; CHROMIUM: the browser.
 */
"use strict";

const path = require("path");
const { chromium } = require(path.join(__dirname, "..", "node_modules", "playwright-core"));

const WEB_URL = (process.env.WEB_URL || "http://127.0.0.1:8080").replace(/\/$/, "");
const OUT_DIR = process.env.OUT_DIR || path.join(__dirname, "..", "docs", "img");
const TIMEOUT = 90000;

async function lastBotText(page, fragment) {
  await page.waitForFunction(
    (text) => Array.from(document.querySelectorAll(".faqbot-bot .faqbot-text")).some((n) => n.textContent.includes(text)),
    fragment, { timeout: TIMEOUT },
  );
}

async function ask(page, text) {
  await page.fill("#faqbot-input", text);
  await page.keyboard.press("Enter");
}

async function scrollTo(page, userText) {
  await page.evaluate((text) => {
    const node = Array.from(document.querySelectorAll(".faqbot-user")).reverse().find((n) => n.textContent.includes(text));
    if (node) node.scrollIntoView({ block: "start" });
  }, userText);
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium", headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--headless"],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    page.setDefaultTimeout(TIMEOUT);
    await page.goto(`${WEB_URL}/index.html`);
    await page.tap(".faqbot-launcher");
    await lastBotText(page, "Hello! I answer questions");

    await ask(page, "does acupuncture help migraines?");
    const choice = page.locator(".faqbot-choice:not([disabled])", { hasText: "Does acupuncture help migraine?" }).last();
    await choice.waitFor({ state: "visible", timeout: TIMEOUT });
    await scrollTo(page, "does acupuncture help migraines?");
    await page.screenshot({ path: path.join(OUT_DIR, "phone-did-you-mean.png") });

    await choice.tap();
    await lastBotText(page, "acupuncture modestly cuts");
    await page.locator(".faqbot-bot summary", { hasText: "More" }).last().tap();
    await scrollTo(page, "Does acupuncture help migraine?");
    await page.screenshot({ path: path.join(OUT_DIR, "phone-faq.png") });

    await ask(page, "can physical therapists do dry needling in Texas?");
    await lastBotText(page, "physical therapists in Texas may dry needle");
    await page.locator(".faqbot-bot summary", { hasText: "Sources" }).last().tap();
    await scrollTo(page, "dry needling in Texas");
    await page.screenshot({ path: path.join(OUT_DIR, "phone-legal.png") });
    console.log(`screenshots saved in ${OUT_DIR}`);
    await context.close();
  } finally {
    await browser.close();
  }
}

main().catch((error) => { console.error(error); process.exit(1); });
