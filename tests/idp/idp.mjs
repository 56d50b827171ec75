// pwb's test OpenID Provider: panva's oidc-provider (a certified OP), run
// by the integration tests on loopback over HTTPS with a throw-away test CA.
// Everything comes from one JSON file (tests/lib/idp.sh writes it):
//
//   node idp.mjs CONFIG.json
//
// CONFIG: { issuer, host, port, tlsCert, tlsKey,
//           keys: [{kid, file}]            PEM private keys; the JWKS publishes them
//           clients: [ client metadata ]   as oidc-provider takes it
//           users: { NAME: {sub, password, email, name, groups, assigned} }
//           ttl: { AuthorizationCode, IdToken, AccessToken, Session, Interaction, Grant,
//                  DeviceCode }
//           device: { interval, ttlByClient: { CLIENT: seconds }, slowDownClients: [ CLIENT ] } }
// A user with "assigned": false is refused with access_denied at sign-in
// ("not assigned to this application"). SIGHUP re-reads the users.
// The login page is oidc-provider's own (devInteractions); its submission
// is checked here against the configured users and passwords. Consent is
// implied for the configured clients (first-party), so a browser sees one
// page. Prints "idp listening ISSUER" once it accepts connections; logs one
// line per request (method, path without the query, status) and every
// back-channel logout delivery, never a token, code or password.
//
// The device grant (RFC 8628, features.deviceFlow) uses oidc-provider's own
// /device pages (user-code input, confirmation with Continue and Abort,
// then the same login page). oidc-provider 8.x sends no `interval`, never
// answers `slow_down`, and forgets an expired device code (its memory store
// evicts it: "device code not found"), so a small Koa middleware (test
// harness only) adds `interval` (device.interval, default 1 s) to the
// device authorization response, answers `slow_down` to the first poll of
// every device code of a client in device.slowDownClients, answers
// `expired_token` for a device code past its lifetime (ttl.DeviceCode, or
// device.ttlByClient), and logs one line per device authorization and per
// device-code poll, with the time in ms and a digest (12 hex of SHA-256) of
// the device code and of the user code, never the codes themselves:
//   idp: device_authorization client=C dc=D uc=U expires_in=N t=MS
//   idp: device_token client=C dc=D result=ok|ERROR t=MS
import { readFileSync } from 'node:fs';
import {
  createHash, createPrivateKey, timingSafeEqual, randomBytes,
} from 'node:crypto';
import { createServer } from 'node:https';
import Provider from 'oidc-provider';

const configPath = process.argv[2];
if (!configPath) {
  process.stderr.write('usage: node idp.mjs CONFIG.json\n');
  process.exit(2);
}
const config = JSON.parse(readFileSync(configPath, 'utf8'));
let users = config.users || {};

function reloadUsers() {
  try {
    users = JSON.parse(readFileSync(configPath, 'utf8')).users || {};
    process.stderr.write('idp: users reloaded\n');
  } catch (err) {
    process.stderr.write(`idp: cannot reload users: ${err.message}\n`);
  }
}
process.on('SIGHUP', reloadUsers);
process.on('SIGTERM', () => process.exit(0));

function userByName(name) {
  return Object.prototype.hasOwnProperty.call(users, name) ? users[name] : undefined;
}
function subOf(name, user) {
  return user.sub || `idp-${name}`;
}
function userBySub(sub) {
  for (const [name, user] of Object.entries(users)) {
    if (subOf(name, user) === sub) return [name, user];
  }
  return [undefined, undefined];
}
function sameSecret(a, b) {
  const x = Buffer.from(String(a));
  const y = Buffer.from(String(b));
  return x.length === y.length && timingSafeEqual(x, y);
}

const jwks = {
  keys: (config.keys || []).map(({ kid, file }) => ({
    ...createPrivateKey(readFileSync(file)).export({ format: 'jwk' }),
    kid,
    use: 'sig',
  })),
};

const ttl = {
  AuthorizationCode: 60,
  IdToken: 3600,
  AccessToken: 3600,
  Session: 3600,
  Interaction: 600,
  Grant: 3600,
  DeviceCode: 600,
  ...(config.ttl || {}),
};
const device = {
  interval: 1,
  ttlByClient: {},
  slowDownClients: [],
  ...(config.device || {}),
};
const deviceCodeTtl = ttl.DeviceCode;
ttl.DeviceCode = (ctx, token, client) => device.ttlByClient[client?.clientId] ?? deviceCodeTtl;

const provider = new Provider(config.issuer, {
  clients: config.clients || [],
  jwks,
  cookies: { keys: [randomBytes(32).toString('hex')] },
  ttl,
  pkce: { required: () => true, methods: ['S256'] },
  scopes: ['openid', 'profile', 'email', 'groups'],
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username', 'groups'],
    email: ['email', 'email_verified'],
    groups: ['groups'],
  },
  // Scope claims go into the ID token itself, as Okta's and Entra's do.
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    backchannelLogout: { enabled: true },
    userinfo: { enabled: true },
    deviceFlow: { enabled: true },
  },
  async findAccount(ctx, sub) {
    const [name, user] = userBySub(sub);
    if (!user) return undefined;
    return {
      accountId: sub,
      async claims() {
        return {
          sub,
          preferred_username: user.preferred_username || name,
          name: user.name || name,
          email: user.email || `${name}@example.com`,
          email_verified: true,
          groups: user.groups || [],
        };
      },
    };
  },
  // The configured clients are first-party: consent is implied.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid profile email groups');
    await grant.save();
    return grant;
  },
});

provider.on('backchannel.success', (ctx, client) => {
  process.stderr.write(`idp: backchannel.success ${client.clientId}\n`);
});
provider.on('backchannel.error', (ctx, err, client) => {
  process.stderr.write(`idp: backchannel.error ${client.clientId}: ${err.message}\n`);
});
provider.on('server_error', (ctx, err) => {
  process.stderr.write(`idp: server_error ${err.stack}\n`);
});

async function readBody(req, limit) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > limit) throw new Error('body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function page(ctx, status, title, text) {
  ctx.status = status;
  ctx.type = 'html';
  ctx.body = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${title}</title></head>`
    + `<body><h1 id="idp-message">${text}</h1></body></html>`;
}

// The login form's submission: the configured users, their passwords, and
// "not assigned" as access_denied back to the client.
provider.use(async (ctx, next) => {
  const started = Date.now();
  try {
    if (ctx.method === 'POST' && /^\/interaction\/[^/]+$/.test(ctx.path)) {
      const raw = await readBody(ctx.req, 16384);
      const form = new URLSearchParams(raw);
      if (form.get('prompt') === 'login') {
        const details = await provider.interactionDetails(ctx.req, ctx.res);
        if (details.prompt.name !== 'login') {
          page(ctx, 400, 'Sign-in', 'no sign-in pending');
          return;
        }
        const name = form.get('login') || '';
        const user = userByName(name);
        if (!user || !sameSecret(form.get('password') || '', user.password || `pw-${name}`)) {
          page(ctx, 401, 'Sign-in', 'wrong login or password');
          return;
        }
        if (user.assigned === false) {
          await provider.interactionFinished(ctx.req, ctx.res, {
            error: 'access_denied',
            error_description: 'user is not assigned to this application',
          }, { mergeWithLastSubmission: false });
          return;
        }
        await provider.interactionFinished(ctx.req, ctx.res, {
          login: { accountId: subOf(name, user) },
        }, { mergeWithLastSubmission: false });
        return;
      }
      // Any other prompt: oidc-provider parses what was read.
      ctx.request.body = raw;
    }
    await next();
  } finally {
    process.stderr.write(`idp: ${ctx.method} ${ctx.path} ${ctx.status} ${Date.now() - started}ms\n`);
  }
});

// The device grant's test-harness part (see the head comment).
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const deviceCodes = new Map(); // digest of the device code -> { client, expires, polls }
function digest(text) {
  return createHash('sha256').update(String(text)).digest('hex').slice(0, 12);
}
// The client of a device authorization request: the form's client_id (none,
// client_secret_post) or HTTP Basic's user (client_secret_basic).
function clientOf(ctx, form) {
  if (form.get('client_id')) return form.get('client_id');
  const auth = ctx.get('authorization');
  if (!/^basic /i.test(auth)) return '-';
  const pair = Buffer.from(auth.slice(6), 'base64').toString('utf8');
  return decodeURIComponent(pair.split(':')[0].replace(/\+/g, ' '));
}
function deviceError(ctx, error, description) {
  ctx.status = 400;
  ctx.type = 'json';
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { error, error_description: description };
}
provider.use(async (ctx, next) => {
  if (ctx.method !== 'POST' || (ctx.path !== '/device/auth' && ctx.path !== '/token')) {
    await next();
    return;
  }
  const raw = await readBody(ctx.req, 65536);
  ctx.request.body = raw;
  const form = new URLSearchParams(raw);
  if (ctx.path === '/device/auth') {
    await next();
    if (ctx.status === 200 && ctx.body && ctx.body.device_code) {
      const client = clientOf(ctx, form);
      ctx.body.interval = device.interval;
      const dc = digest(ctx.body.device_code);
      deviceCodes.set(dc, { client, expires: Date.now() + ctx.body.expires_in * 1000, polls: 0 });
      process.stderr.write(`idp: device_authorization client=${client} dc=${dc} `
        + `uc=${digest(ctx.body.user_code)} expires_in=${ctx.body.expires_in} t=${Date.now()}\n`);
    }
    return;
  }
  if (form.get('grant_type') !== DEVICE_GRANT) {
    await next();
    return;
  }
  const dc = digest(form.get('device_code') || '');
  const known = deviceCodes.get(dc);
  const client = known ? known.client : '-';
  const polled = Date.now();
  if (known) known.polls += 1;
  if (known && polled >= known.expires) {
    deviceError(ctx, 'expired_token', 'device code is expired');
  } else if (known && known.polls === 1 && device.slowDownClients.includes(client)) {
    deviceError(ctx, 'slow_down', 'you are polling too quickly and should back off at a reasonable rate');
  } else {
    await next();
  }
  const result = ctx.status === 200 ? 'ok' : (ctx.body && ctx.body.error) || ctx.status;
  process.stderr.write(`idp: device_token client=${client} dc=${dc} result=${result} t=${polled}\n`);
});

const server = createServer({
  key: readFileSync(config.tlsKey),
  cert: readFileSync(config.tlsCert),
}, provider.callback());
server.on('error', (err) => {
  process.stderr.write(`idp: ${err.message}\n`);
  process.exit(1);
});
server.listen(config.port, config.host || '127.0.0.1', () => {
  process.stdout.write(`idp listening ${config.issuer}\n`);
});
