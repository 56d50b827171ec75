// One sign-in in headless Chromium, for scripts (scripts/demo's browser
// leg) and quick checks: opens --url, fills the IdP's login page as --user,
// prints where the browser landed as JSON (lib.mjs's page state plus
// sawLoginPage), and saves a screenshot when --screenshot is given.
// Exit 0 when it landed on a 200 page that is not the IdP's login page.
//   node signin.mjs --spki BASE64 --url URL --user NAME [--password PW]
//                   [--screenshot FILE.png]
import { launch, closeBrowser, signIn } from './lib.mjs';

const opts = {};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) opts[argv[i].replace(/^--/, '')] = argv[i + 1];
if (!opts.url || !opts.user) {
  process.stderr.write('usage: node signin.mjs --spki BASE64 --url URL --user NAME [--password PW] [--screenshot FILE]\n');
  process.exit(2);
}
const browser = await launch({ spki: opts.spki });
let rc = 1;
try {
  const page = await browser.newPage();
  const state = await signIn(page, opts.url, opts.user, opts.password);
  if (opts.screenshot) await page.screenshot({ path: opts.screenshot, fullPage: true });
  process.stdout.write(`${JSON.stringify(state)}\n`);
  rc = state.status === 200 && !state.loginPage ? 0 : 1;
} catch (err) {
  process.stderr.write(`signin: ${err.message}\n`);
} finally {
  await closeBrowser(browser);
}
process.exit(rc);
