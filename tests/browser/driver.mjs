// A headless Chromium that a shell test drives line by line (tests/lib/
// browser.sh runs it as a coprocess): one JSON command per input line, one
// JSON answer per output line ({"ok":true,...} or {"ok":false,"error":..}).
// The browser, its tabs and their cookies live until "quit" or end of input,
// so a test can sign in, change the world (SCIM, logout at the IdP) and
// look again. Commands (tab: a name the test picks; ctx: a separate cookie
// jar, default one shared by all tabs):
//   {"op":"open","tab":T,"ctx":C}            new tab
//   {"op":"goto","tab":T,"url":U}            navigate; answers the page state
//   {"op":"signin","tab":T,"url":U,"user":N,"password":P}
//                                            navigate, fill the IdP's login page
//                                            if it appears (sawLoginPage)
//   {"op":"login","tab":T,"user":N,"password":P}   fill the login page shown now
//   {"op":"state","tab":T}                   where the tab is, what it shows
//   {"op":"fetch","tab":T,"url":U,"headers":{..}}  fetch() from the page's script
//   {"op":"click","tab":T,"selector":S}      click, wait for the navigation
//   {"op":"cookies","tab":T,"url":U}         the cookies the browser holds for U
//   {"op":"screenshot","tab":T,"path":F}
//   {"op":"shots","dir":D,"prefix":P}        a screenshot of every tab, D/P-TAB.png
//   {"op":"parallel","cmds":[...]}           run commands at once, answers in order
//   {"op":"quit"}
// Page state: {url, status, title, text, loginPage}.
// Arguments: --spki BASE64 (the test server key Chromium may trust).
import { createInterface } from 'node:readline';
import {
  launch, closeBrowser, pageState, signIn, fillIdpLogin, pageFetch,
} from './lib.mjs';

const argv = process.argv.slice(2);
const spki = argv[argv.indexOf('--spki') + 1];
if (argv.indexOf('--spki') < 0 || !spki) {
  process.stderr.write('usage: node driver.mjs --spki BASE64\n');
  process.exit(2);
}

const browser = await launch({ spki });
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
  process.on(sig, () => {
    closeBrowser(browser).finally(() => process.exit(1));
  });
}
const contexts = new Map([['default', browser.defaultBrowserContext()]]);
const tabs = new Map();

async function tab(name, ctxName) {
  if (tabs.has(name)) return tabs.get(name);
  const cname = ctxName || 'default';
  if (!contexts.has(cname)) contexts.set(cname, await browser.createBrowserContext());
  const page = await contexts.get(cname).newPage();
  page.setDefaultTimeout(30000);
  tabs.set(name, page);
  return page;
}

async function run(cmd) {
  const page = cmd.tab ? await tab(cmd.tab, cmd.ctx) : undefined;
  switch (cmd.op) {
    case 'open':
      return { url: page.url() };
    case 'goto': {
      const response = await page.goto(cmd.url, { waitUntil: 'load', timeout: 30000 });
      return pageState(page, response);
    }
    case 'signin':
      return signIn(page, cmd.url, cmd.user, cmd.password);
    case 'login': {
      const response = await fillIdpLogin(page, cmd.user, cmd.password);
      return pageState(page, response);
    }
    case 'state':
      return pageState(page, null);
    case 'fetch':
      return pageFetch(page, cmd.url, cmd.headers || {});
    case 'click': {
      const [response] = await Promise.all([
        page.waitForNavigation({ waitUntil: 'load', timeout: 30000 }),
        page.click(cmd.selector),
      ]);
      return pageState(page, response);
    }
    case 'cookies': {
      const cookies = await page.cookies(cmd.url);
      return {
        cookies: cookies.map((c) => ({
          name: c.name, value: c.value, path: c.path, secure: c.secure,
          httpOnly: c.httpOnly, sameSite: c.sameSite, session: c.session,
        })),
      };
    }
    case 'screenshot':
      await page.screenshot({ path: cmd.path, fullPage: true });
      return { path: cmd.path };
    case 'shots': {
      const paths = [];
      for (const [name, p] of tabs) {
        const path = `${cmd.dir}/${cmd.prefix || 'tab'}-${name}.png`;
        try {
          await p.screenshot({ path, fullPage: true });
          paths.push(path);
        } catch {
          // a tab that cannot be drawn: the others still are
        }
      }
      return { paths };
    }
    case 'parallel':
      return { results: await Promise.all(cmd.cmds.map((c) => run(c).then((r) => ({ ok: true, ...r }), (e) => ({ ok: false, error: String(e.message || e) })))) };
    default:
      throw new Error(`unknown op ${cmd.op}`);
  }
}

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of rl) {
  if (!line.trim()) continue;
  let cmd;
  try {
    cmd = JSON.parse(line);
  } catch {
    process.stdout.write(`${JSON.stringify({ ok: false, error: 'bad JSON' })}\n`);
    continue;
  }
  if (cmd.op === 'quit') break;
  try {
    process.stdout.write(`${JSON.stringify({ ok: true, ...(await run(cmd)) })}\n`);
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ ok: false, error: String(err.message || err) })}\n`);
  }
}
await closeBrowser(browser);
process.exit(0);
