#!/usr/bin/env node
/*
 * vigil's test identity provider: the certified `oidc-provider` package,
 * served over HTTPS on 127.0.0.1 with a test CA, with the device flow
 * (RFC 8628) for a public client, accounts from a JSON file, and its own
 * small login and consent pages (any password; the account must exist).
 *
 * It prints `ready https://127.0.0.1:PORT` on stdout once it accepts
 * connections, and exits 0 on SIGTERM or SIGINT. Everything it does is in
 * memory: a restart forgets sessions, codes and (generated) keys.
 *
 * Usage: provider.js --certs DIR --accounts FILE [options]; see usage() or
 * tests/idp/README.md.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';
import * as querystring from 'node:querystring';
import { parseArgs } from 'node:util';

const PROG = 'provider.js';
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const SCOPES = ['openid', 'profile', 'email', 'groups'];
const KEY_ALGS = ['RS256', 'ES256', 'EdDSA'];
const ACCOUNT_FIELDS = new Set(['preferred_username', 'email', 'email_verified', 'name', 'groups']);

function usage() {
  return `usage: ${PROG} --certs DIR --accounts FILE [options]
  --certs DIR            server.pem and server.key made by tests/idp/mkca
  --accounts FILE        JSON: {"ID": {"preferred_username": S, "email": S, "groups": [S...]}}
  --port N               port on 127.0.0.1 (default 0: any free port; see the ready line)
  --issuer URL           issuer (default https://127.0.0.1:PORT)
  --client-id ID[:ALG]   public device-flow client, its ID tokens signed with ALG
                         (default --sign-alg); repeat for more (default vigil)
  --interval S           poll interval returned with device codes (default 1; 0 omits it)
  --id-token-ttl S       ID token lifetime (default 300)
  --device-code-ttl S    device code lifetime (default 600)
  --keys ALG[,ALG...]    signing keys to generate: RS256 ES256 EdDSA (default RS256)
  --jwks FILE            private JWKS to sign with instead of generated keys
  --sign-alg ALG         ID token signing alg of clients without one (default: the first key's)
  --public-jwks-out FILE write the public JWKS there at start
  --no-jti               leave jti out of ID tokens (default: a random jti in each)
  --ready-file FILE      also write the issuer URL there once ready
  --keep-running         do not exit when the parent process goes away
  --log                  log each request on stderr`;
}

function die(msg, code = 1) {
  process.stderr.write(`${PROG}: ${msg}\n`);
  process.exit(code);
}

function seconds(name, value, min) {
  if (!/^[0-9]{1,7}$/.test(value) || Number(value) < min) {
    die(`--${name}: expected a whole number of seconds >= ${min}, got '${value}'`, 2);
  }
  return Number(value);
}

function parseOptions() {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        certs: { type: 'string' },
        accounts: { type: 'string' },
        port: { type: 'string', default: '0' },
        issuer: { type: 'string' },
        'client-id': { type: 'string', multiple: true },
        interval: { type: 'string', default: '1' },
        'id-token-ttl': { type: 'string', default: '300' },
        'device-code-ttl': { type: 'string', default: '600' },
        keys: { type: 'string', default: 'RS256' },
        jwks: { type: 'string' },
        'sign-alg': { type: 'string' },
        'public-jwks-out': { type: 'string' },
        'no-jti': { type: 'boolean', default: false },
        'ready-file': { type: 'string' },
        'keep-running': { type: 'boolean', default: false },
        log: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    die(`${err.message.split('\n')[0]} (--help for usage)`, 2);
  }
  if (parsed.help) {
    process.stdout.write(`${usage()}\n`);
    process.exit(0);
  }
  if (!parsed.certs) die('--certs DIR is required (make one with tests/idp/mkca DIR)', 2);
  if (!parsed.accounts) die('--accounts FILE is required', 2);
  const port = seconds('port', parsed.port, 0);
  if (port > 65535) die(`--port: ${port} is out of range`, 2);
  const clients = (parsed['client-id'] ?? ['vigil']).map((spec) => {
    const m = /^([A-Za-z0-9._-]{1,64})(?::([A-Za-z0-9]+))?$/.exec(spec);
    if (!m) die(`--client-id: expected ID or ID:ALG, got '${spec}'`, 2);
    if (m[2] && !KEY_ALGS.includes(m[2])) die(`--client-id ${spec}: unknown alg '${m[2]}'`, 2);
    return { id: m[1], alg: m[2] };
  });
  if (new Set(clients.map((c) => c.id)).size !== clients.length) die('--client-id: the same id twice', 2);
  const keyAlgs = parsed.keys.split(',');
  for (const alg of keyAlgs) {
    if (!KEY_ALGS.includes(alg)) die(`--keys: unknown alg '${alg}' (use ${KEY_ALGS.join(', ')})`, 2);
  }
  if (parsed.issuer !== undefined) {
    let u;
    try { u = new URL(parsed.issuer); } catch { die(`--issuer: not a URL: '${parsed.issuer}'`, 2); }
    if (u.protocol !== 'https:') die('--issuer: must be an https URL', 2);
  }
  return {
    certs: parsed.certs,
    accountsFile: parsed.accounts,
    port,
    issuer: parsed.issuer,
    clients,
    interval: seconds('interval', parsed.interval, 0),
    idTokenTtl: seconds('id-token-ttl', parsed['id-token-ttl'], 1),
    deviceCodeTtl: seconds('device-code-ttl', parsed['device-code-ttl'], 1),
    keyAlgs,
    jwksFile: parsed.jwks,
    signAlg: parsed['sign-alg'],
    publicJwksOut: parsed['public-jwks-out'],
    jti: !parsed['no-jti'],
    readyFile: parsed['ready-file'],
    keepRunning: parsed['keep-running'],
    log: parsed.log,
  };
}

function readJson(file, what) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    die(`${what} '${file}': ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    die(`${what} '${file}': not valid JSON: ${err.message}`);
  }
  return undefined;
}

/* The accounts file is checked whole at start: a test with a typo in it
 * should fail there, not later with a token that lacks a claim. */
function loadAccounts(file) {
  const json = readJson(file, 'accounts');
  const bad = (msg) => die(`accounts '${file}': ${msg}`);
  if (json === null || typeof json !== 'object' || Array.isArray(json)) bad('expected a JSON object of accounts');
  const accounts = new Map();
  for (const [id, acct] of Object.entries(json)) {
    if (!/^[A-Za-z0-9._@-]{1,64}$/.test(id)) bad(`bad account id '${id}'`);
    if (acct === null || typeof acct !== 'object' || Array.isArray(acct)) bad(`account '${id}': expected an object`);
    for (const k of Object.keys(acct)) {
      if (!ACCOUNT_FIELDS.has(k)) bad(`account '${id}': unknown field '${k}' (known: ${[...ACCOUNT_FIELDS].join(', ')})`);
    }
    const claims = { preferred_username: acct.preferred_username ?? id, groups: acct.groups ?? [] };
    for (const k of ['preferred_username', 'email', 'name']) {
      if (k in acct && typeof acct[k] !== 'string') bad(`account '${id}': '${k}' must be a string`);
      if (k in acct) claims[k] = acct[k];
    }
    if (!Array.isArray(claims.groups) || claims.groups.some((g) => typeof g !== 'string')) {
      bad(`account '${id}': 'groups' must be an array of strings`);
    }
    if ('email_verified' in acct && typeof acct.email_verified !== 'boolean') {
      bad(`account '${id}': 'email_verified' must be true or false`);
    }
    if ('email' in claims) claims.email_verified = acct.email_verified ?? true;
    accounts.set(id, claims);
  }
  if (accounts.size === 0) bad('no accounts');
  return accounts;
}

function generateKey(alg) {
  let pair;
  if (alg === 'RS256') pair = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  else if (alg === 'ES256') pair = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  else pair = crypto.generateKeyPairSync('ed25519');
  const jwk = pair.privateKey.export({ format: 'jwk' });
  return { ...jwk, alg, use: 'sig', kid: `${alg.toLowerCase()}-${crypto.randomBytes(8).toString('hex')}` };
}

function loadKeys(opts) {
  let keys;
  if (opts.jwksFile) {
    const json = readJson(opts.jwksFile, 'jwks');
    if (!json || !Array.isArray(json.keys) || json.keys.length === 0) die(`jwks '${opts.jwksFile}': expected {"keys": [...]}`);
    keys = json.keys;
    for (const k of keys) {
      if (typeof k.kid !== 'string' || typeof k.alg !== 'string' || !k.d) {
        die(`jwks '${opts.jwksFile}': every key needs kid, alg and its private part`);
      }
    }
  } else {
    keys = opts.keyAlgs.map(generateKey);
  }
  const signAlg = opts.signAlg ?? keys[0].alg;
  for (const alg of [signAlg, ...opts.clients.map((c) => c.alg).filter(Boolean)]) {
    if (!keys.some((k) => k.alg === alg)) die(`signing alg ${alg}: no key with that alg (see --keys)`, 2);
  }
  const publicKeys = keys.map((k) => {
    let pub;
    try {
      pub = crypto.createPublicKey({ key: k, format: 'jwk' }).export({ format: 'jwk' });
    } catch (err) {
      die(`key '${k.kid}': ${err.message}`);
    }
    return { ...pub, alg: k.alg, use: 'sig', kid: k.kid };
  });
  return { keys, signAlg, publicKeys };
}

function writeAtomic(file, text) {
  const tmp = `${file}.tmp${process.pid}`;
  try {
    fs.writeFileSync(tmp, text, { mode: 0o644 });
    fs.renameSync(tmp, file);
  } catch (err) {
    die(`cannot write '${file}': ${err.message}`);
  }
}

/* Pages. Each carries a <meta name="vigil-idp-page"> marker so that
 * tests/idp/approve can tell where it is without scraping prose. */
function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(kind, title, body) {
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><meta name="vigil-idp-page" content="${kind}"><title>${esc(title)}</title></head>
<body><h1>${esc(title)}</h1>
${body}
</body></html>
`;
}

function deviceFlowPages() {
  return {
    async userCodeInputSource(ctx, form, out, err) {
      let kind = 'device-input';
      let msg = '<p>Enter the code displayed on your device</p>';
      if (err && (err.userCode || err.name === 'NoCodeError')) {
        kind = 'device-bad-code';
        msg = `<p class="error">The code you entered is incorrect (${esc(err.name)})</p>`;
      } else if (err && err.name === 'AbortedError') {
        kind = 'device-aborted';
        msg = '<p class="error">The sign-in request was aborted</p>';
      } else if (err) {
        kind = 'device-error';
        msg = `<p class="error">There was an error processing your request (${esc(err.name)})</p>`;
      }
      ctx.type = 'html';
      ctx.body = page(kind, 'Sign-in', `${msg}
${form}
<button type="submit" form="op.deviceInputForm">Continue</button>`);
    },
    async userCodeConfirmSource(ctx, form, client, deviceInfo, userCode) {
      ctx.type = 'html';
      ctx.body = page('device-confirm', 'Confirm device', `<p>Client <strong>${esc(client.clientId)}</strong>
asks to sign you in; your device shows <code>${esc(userCode)}</code>.</p>
${form}
<button type="submit" form="op.deviceConfirmForm">Continue</button>
<button type="submit" form="op.deviceConfirmForm" name="abort" value="yes">Abort</button>`);
    },
    async successSource(ctx) {
      ctx.type = 'html';
      ctx.body = page('device-success', 'Sign-in Success',
        `<p>Your sign-in with ${esc(ctx.oidc.client.clientId)} was successful; you can close this page.</p>`);
    },
  };
}

function loginPage(uid, message) {
  return page('login', 'Sign-in', `${message ? `<p class="error">${esc(message)}</p>` : ''}
<form method="post" action="/interaction/${esc(uid)}">
<input type="hidden" name="prompt" value="login">
<input type="text" name="login" placeholder="account" autofocus>
<input type="password" name="password" placeholder="any password">
<button type="submit">Sign in</button>
</form>
<form method="post" action="/interaction/${esc(uid)}"><input type="hidden" name="prompt" value="abort"><button type="submit">Abort</button></form>`);
}

function consentPage(uid, clientId, scopes) {
  return page('consent', 'Authorize', `<p>Client <strong>${esc(clientId)}</strong> asks for: ${esc(scopes.join(' '))}</p>
<form method="post" action="/interaction/${esc(uid)}">
<input type="hidden" name="prompt" value="consent">
<button type="submit">Allow</button>
</form>
<form method="post" action="/interaction/${esc(uid)}"><input type="hidden" name="prompt" value="abort"><button type="submit">Abort</button></form>`);
}

async function readForm(req, limit = 8192) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > limit) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return querystring.parse(Buffer.concat(chunks).toString('utf8'));
}

/* Login and consent, in place of oidc-provider's devInteractions: the same
 * steps, but an unknown account is refused (401) instead of being signed
 * in with no claims. */
function interactions(provider, accounts) {
  return async function interactionRoute(ctx, next) {
    const m = /^\/interaction\/([A-Za-z0-9_-]{1,64})$/.exec(ctx.path);
    if (!m) return next();
    const uid = m[1];
    ctx.set('cache-control', 'no-store');
    ctx.type = 'html';
    let details;
    try {
      details = await provider.interactionDetails(ctx.req, ctx.res);
      if (details.uid !== uid) throw new Error('interaction cookie is for another interaction');
    } catch (err) {
      ctx.status = 400;
      ctx.body = page('error', 'Error', `<p class="error">error: invalid_request: ${esc(err.message)}</p>`);
      return undefined;
    }
    const { prompt, params } = details;

    if (ctx.method === 'GET') {
      if (prompt.name === 'login') ctx.body = loginPage(uid);
      else if (prompt.name === 'consent') ctx.body = consentPage(uid, params.client_id, String(params.scope ?? '').split(' '));
      else ctx.throw(501, `prompt ${prompt.name} not implemented`);
      return undefined;
    }
    if (ctx.method !== 'POST') ctx.throw(405);
    let form;
    try {
      form = await readForm(ctx.req);
    } catch (err) {
      ctx.status = 400;
      ctx.body = page('error', 'Error', `<p class="error">error: invalid_request: ${esc(err.message)}</p>`);
      return undefined;
    }
    let result;
    let merge = false;
    if (form.prompt === 'abort') {
      result = { error: 'access_denied', error_description: 'End-User aborted interaction' };
    } else if (form.prompt === 'login' && prompt.name === 'login') {
      const login = typeof form.login === 'string' ? form.login : '';
      if (!accounts.has(login)) {
        ctx.status = 401;
        ctx.body = loginPage(uid, `unknown account '${login}'`);
        return undefined;
      }
      result = { login: { accountId: login } };
    } else if (form.prompt === 'consent' && prompt.name === 'consent') {
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
      if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
      if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
      result = { consent: { grantId: await grant.save() } };
      merge = true;
    } else {
      ctx.status = 400;
      ctx.body = page('error', 'Error',
        `<p class="error">error: invalid_request: form prompt '${esc(form.prompt)}' does not fit prompt '${esc(prompt.name)}'</p>`);
      return undefined;
    }
    const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: merge });
    ctx.status = 303;
    ctx.redirect(returnTo);
    return undefined;
  };
}

async function main() {
  const opts = parseOptions();
  const accounts = loadAccounts(opts.accountsFile);
  const { keys, signAlg, publicKeys } = loadKeys(opts);
  let tls;
  try {
    tls = {
      cert: fs.readFileSync(path.join(opts.certs, 'server.pem')),
      key: fs.readFileSync(path.join(opts.certs, 'server.key')),
    };
  } catch (err) {
    die(`--certs '${opts.certs}': ${err.message} (make it with tests/idp/mkca DIR)`);
  }
  /* Imported only now so that bad options get their one line without
   * oidc-provider's start-up warnings before it. */
  const { default: Provider } = await import('oidc-provider');
  if (opts.publicJwksOut) writeAtomic(opts.publicJwksOut, `${JSON.stringify({ keys: publicKeys })}\n`);

  /* Listen first: with --port 0 the issuer depends on the port we get. */
  let handler = (req, res) => { res.statusCode = 503; res.end(); };
  const server = https.createServer(tls, (req, res) => handler(req, res));
  server.on('tlsClientError', () => {});
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', resolve);
  }).catch((err) => die(`cannot listen on 127.0.0.1:${opts.port}: ${err.message}`));
  const { port } = server.address();
  const issuer = opts.issuer ?? `https://127.0.0.1:${port}`;

  const provider = new Provider(issuer, {
    clients: opts.clients.map(({ id, alg }) => ({
      client_id: id,
      token_endpoint_auth_method: 'none',
      grant_types: [DEVICE_GRANT],
      response_types: [],
      redirect_uris: [],
      id_token_signed_response_alg: alg ?? signAlg,
    })),
    jwks: { keys },
    cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
    conformIdTokenClaims: false,
    scopes: SCOPES,
    claims: {
      openid: opts.jti ? ['sub', 'jti'] : ['sub'],
      profile: ['preferred_username', 'name'],
      email: ['email', 'email_verified'],
      groups: ['groups'],
    },
    features: {
      devInteractions: { enabled: false },
      deviceFlow: { enabled: true, charset: 'base-20', mask: '****-****', ...deviceFlowPages() },
      revocation: { enabled: false },
      rpInitiatedLogout: { enabled: false },
    },
    enabledJWA: { idTokenSigningAlgValues: [...new Set(keys.map((k) => k.alg))] },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(ctx, id) {
      const claims = accounts.get(id);
      if (!claims) return undefined;
      return {
        accountId: id,
        /* A fresh jti per token, as real issuers do, for single_use tests. */
        async claims() { return { sub: id, ...claims, jti: crypto.randomUUID() }; },
      };
    },
    ttl: {
      IdToken: opts.idTokenTtl,
      DeviceCode: opts.deviceCodeTtl,
      AccessToken: 600,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
    },
    clientBasedCORS: () => false,
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = page('error', 'Error',
        Object.entries(out).map(([k, v]) => `<p class="error">${esc(k)}: ${esc(v)}</p>`).join('\n'));
    },
  });

  if (opts.log) {
    provider.use(async (ctx, next) => {
      const t0 = process.hrtime.bigint();
      await next();
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      process.stderr.write(`${PROG}: ${ctx.method} ${ctx.path} ${ctx.status} ${ms.toFixed(1)}ms\n`);
    });
  }
  /* oidc-provider returns no `interval` with a device code, so clients
   * would wait the RFC's default 5 s between polls; add ours. */
  if (opts.interval > 0) {
    provider.use(async (ctx, next) => {
      await next();
      if (ctx.method === 'POST' && ctx.path === '/device/auth' && ctx.status === 200
          && ctx.body && typeof ctx.body === 'object' && ctx.body.device_code) {
        ctx.body.interval = opts.interval;
      }
    });
  }
  provider.use(interactions(provider, accounts));
  provider.on('server_error', (ctx, err) => process.stderr.write(`${PROG}: server error: ${err.stack}\n`));

  handler = provider.callback();

  let stopping = false;
  const stop = (why) => {
    if (stopping) return;
    stopping = true;
    if (opts.log) process.stderr.write(`${PROG}: stopping (${why})\n`);
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  /* A test killed with SIGKILL cannot stop us in its trap: go when our
   * parent goes (we are then reparented), unless told to keep running. */
  if (!opts.keepRunning) {
    const parent = process.ppid;
    setInterval(() => { if (process.ppid !== parent) stop('parent exited'); }, 500).unref();
  }

  if (opts.readyFile) writeAtomic(opts.readyFile, `${issuer}\n`);
  process.stdout.write(`ready ${issuer}\n`);
}

main().catch((err) => die(err.stack ?? String(err)));
