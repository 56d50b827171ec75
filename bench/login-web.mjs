// bench/login-web's HTTP client: N users sign in at once through nginx and
// pwb-login with the OpenID Connect code flow against the real IdP, as a
// browser would (a cookie jar per user, manual redirects), timing each leg
// on the client side: pwb-login's /login, the IdP's pages, pwb-login's
// /callback (which includes the token endpoint; the IdP's own log gives
// that share). Phases: first sign-ins (all at once), repeat sign-ins (all
// at once; pwb session dropped, IdP session kept), repeat sign-ins one at
// a time. Node's https with keep-alive; no npm package.
//   node login-web.mjs BASE IDP_URL IDP_LOG N OUT.json
// Users are bench1..benchN with password pw-benchI. Writes per-phase
// timings and one session cookie (for the static-file runs) to OUT.json.
import https from 'node:https';
import { readFileSync, writeFileSync } from 'node:fs';

const [base, idpUrl, idpLog, nArg, outFile] = process.argv.slice(2);
const n = Number(nArg);
const agent = new https.Agent({ keepAlive: true, maxSockets: 4 * n + 8 });
const idpOrigin = new URL(idpUrl).origin;
const siteOrigin = new URL(base).origin;

function request(method, url, jar, body) {
  const u = new URL(url);
  const headers = {
    'sec-fetch-mode': 'navigate',
    accept: 'text/html',
    'user-agent': 'pwb-bench',
  };
  const cookies = jar.get(u.origin);
  if (cookies && cookies.size) {
    headers.cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  if (body !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    headers['content-length'] = Buffer.byteLength(body);
  }
  return new Promise((resolve, reject) => {
    const req = https.request(u, { method, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        for (const line of res.headers['set-cookie'] || []) {
          const [pair, ...attrs] = line.split(';');
          const eq = pair.indexOf('=');
          const name = pair.slice(0, eq).trim();
          const value = pair.slice(eq + 1).trim();
          if (!jar.has(u.origin)) jar.set(u.origin, new Map());
          const gone = attrs.some((a) => /^\s*max-age=0/i.test(a)) || value === '';
          if (gone) jar.get(u.origin).delete(name);
          else jar.get(u.origin).set(name, value);
        }
        resolve({ status: res.statusCode, location: res.headers.location, body: Buffer.concat(chunks).toString() });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

const abs = (loc, from) => new URL(loc, from).toString();
const now = () => Number(process.hrtime.bigint()) / 1e6;

// One sign-in: login at pwb, the IdP (its login page when it has no
// session for this jar), callback at pwb. Times in ms per leg.
async function signin(user, jar) {
  const t = { pwb: 0, login: 0, callback: 0, idp: 0, total: 0 };
  const t0 = now();
  let s = now();
  let r = await request('GET', `${base}/pwb/login?return=/static/hello.txt`, jar);
  t.login = now() - s;
  if (r.status !== 302 || !r.location?.startsWith(idpOrigin)) throw new Error(`${user}: login answered ${r.status} ${r.location}`);
  let url = r.location;
  s = now();
  for (let hop = 0; hop < 8 && url.startsWith(idpOrigin); hop++) {
    r = await request('GET', url, jar);
    if (r.status === 200 && /\/interaction\//.test(url)) {
      const form = new URLSearchParams({ prompt: 'login', login: user, password: `pw-${user}` }).toString();
      r = await request('POST', url, jar, form);
    }
    if (r.status < 300 || r.status > 399) throw new Error(`${user}: IdP answered ${r.status} at ${url}`);
    url = abs(r.location, url);
  }
  t.idp += now() - s;
  if (!url.startsWith(`${siteOrigin}/pwb/callback`)) throw new Error(`${user}: IdP sent us to ${url}`);
  s = now();
  r = await request('GET', url, jar);
  t.callback = now() - s;
  t.pwb = t.login + t.callback;
  if (r.status !== 302 || !jar.get(siteOrigin)?.get('__Host-pwb-session')) {
    throw new Error(`${user}: callback answered ${r.status}: ${r.body.slice(0, 300)}`);
  }
  t.total = now() - t0;
  return t;
}

// The IdP's token endpoint time (its own log: "idp: POST /token 200 Nms")
// for the lines written since offset.
function tokenTimes(offset) {
  const text = readFileSync(idpLog, 'utf8').slice(offset);
  return [...text.matchAll(/^idp: POST \/token (\d+) (\d+)ms$/gm)].map((m) => Number(m[2]));
}

// All users at once, or (sequential) one after the other: the cost of one
// sign-in without queueing behind the others.
async function phase(name, jars, dropSession, sequential) {
  const offset = readFileSync(idpLog, 'utf8').length;
  if (dropSession) for (const jar of jars) jar.get(siteOrigin)?.delete('__Host-pwb-session');
  const start = now();
  let results = [];
  if (sequential) {
    for (const [i, jar] of jars.entries()) results.push(await signin(`bench${i + 1}`, jar));
  } else {
    results = await Promise.all(jars.map((jar, i) => signin(`bench${i + 1}`, jar)));
  }
  const wall = now() - start;
  // let the IdP flush its log lines
  await new Promise((res) => setTimeout(res, 200));
  return { name, wall, results, token: tokenTimes(offset) };
}

const jars = Array.from({ length: n }, () => new Map());
const first = await phase('first', jars, false, false);
const repeat = await phase('repeat', jars, true, false);
const serial = await phase('repeat, one at a time', jars, true, true);
// A signed-in session for the static-file runs, checked to work.
const session = jars[0].get(siteOrigin).get('__Host-pwb-session');
const check = await request('GET', `${base}/static/hello.txt`, jars[0]);
if (check.status !== 200) throw new Error(`protected static file answered ${check.status}`);
writeFileSync(outFile, JSON.stringify({ n, first, repeat, serial, session }));
agent.destroy();
