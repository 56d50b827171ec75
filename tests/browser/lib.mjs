// Headless Chromium for pwb-login's browser tests: Debian's chromium driven
// by puppeteer-core (pinned in tests/idp/package-lock.json, whose
// node_modules this resolves from). The test CA is trusted only for the
// test's own server key (--ignore-certificate-errors-spki-list), never by
// a blanket ignore. Helpers: launch, sign in at the IdP's login page (the
// oidc-provider devInteractions form), read where the browser landed.
import { createRequire } from 'node:module';

const require = createRequire(new URL('../idp/package.json', import.meta.url));
const puppeteer = require('puppeteer-core');

export const CHROMIUM = process.env.PWB_CHROMIUM || '/usr/bin/chromium';

// spki: base64 SHA-256 of the server key's SubjectPublicKeyInfo.
export async function launch({ spki, userDataDir } = {}) {
  const args = ['--no-first-run', '--no-default-browser-check', '--disable-gpu',
    '--disable-dev-shm-usage', '--disable-extensions', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--metrics-recording-only',
    '--password-store=basic', '--use-mock-keychain', '--no-proxy-server'];
  if (process.getuid && process.getuid() === 0) args.push('--no-sandbox');
  if (spki) args.push(`--ignore-certificate-errors-spki-list=${spki}`);
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args,
    userDataDir,
    protocolTimeout: 60000,
    // The caller decides when Chromium ends (see closeBrowser).
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
    // Chromium's own output stays out of the test's TAP.
    dumpio: false,
  });
}

// Ends Chromium: a polite close, then SIGKILL if it does not finish soon.
export async function closeBrowser(browser) {
  const proc = browser.process();
  await Promise.race([
    browser.close().catch(() => {}),
    new Promise((resolve) => { setTimeout(resolve, 5000).unref(); }),
  ]);
  if (proc && proc.exitCode === null) proc.kill('SIGKILL');
}

// Where the page is and what it shows, for the test to check.
export async function pageState(page, response) {
  const url = page.url();
  let text = '';
  let title = '';
  try {
    title = await page.title();
    text = await page.evaluate(() => (document.body ? document.body.innerText : ''));
  } catch {
    // a page that navigated away meanwhile: the URL says enough
  }
  return {
    url,
    status: response ? response.status() : null,
    title,
    text: text.slice(0, 4000),
    loginPage: await isIdpLoginPage(page),
  };
}

export async function isIdpLoginPage(page) {
  try {
    return (await page.$('form input[name="login"]')) !== null;
  } catch {
    return false;
  }
}

// Fills the IdP's login form on the current page and waits for the
// navigation that follows (the redirect chain back to pwb-login and on).
export async function fillIdpLogin(page, user, password) {
  await page.waitForSelector('form input[name="login"]', { timeout: 20000 });
  await page.$eval('input[name="login"]', (el) => { el.value = ''; });
  await page.type('input[name="login"]', user);
  await page.type('input[name="password"]', password ?? `pw-${user}`);
  const [response] = await Promise.all([
    page.waitForNavigation({ waitUntil: 'load', timeout: 30000 }),
    page.click('button[type="submit"]'),
  ]);
  return response;
}

// Opens url; if the IdP's login page appears, signs user in there. Returns
// the page state where the browser finally landed.
export async function signIn(page, url, user, password) {
  let response = await page.goto(url, { waitUntil: 'load', timeout: 30000 });
  let sawLoginPage = false;
  if (user && await isIdpLoginPage(page)) {
    sawLoginPage = true;
    response = await fillIdpLogin(page, user, password);
  }
  return { ...(await pageState(page, response)), sawLoginPage };
}

// A request from the page's own JavaScript (Sec-Fetch-Mode: cors for a
// same-origin fetch): what an XHR-driven app would get.
export async function pageFetch(page, url, headers = {}) {
  return page.evaluate(async (u, h) => {
    const r = await fetch(u, { redirect: 'manual', credentials: 'same-origin', headers: h });
    let body = '';
    try { body = await r.text(); } catch { /* opaque */ }
    return { status: r.status, type: r.type, body: body.slice(0, 4000) };
  }, url, headers);
}
