/*
 * The HTTPS client that tests/idp/approve and tests/idp/device-login share:
 * node's https with the test CA as the only trust anchor, bounded bodies and
 * time, form posts, and a cookie jar that honours cookie paths (the
 * provider scopes its interaction cookies to /interaction/<uid>).
 */
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as querystring from 'node:querystring';

const BODY_LIMIT = 1 << 20;

/* Error whose message is already the one line a tool prints; exitCode 2
 * for usage errors, 1 for everything else. */
export class ToolError extends Error {
  constructor(message, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

export function readCa(file) {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new ToolError(`CA file '${file}': ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  }
}

/* RFC 6265 5.1.4: the default path is the request path up to its last '/'. */
function defaultPath(reqPath) {
  const i = reqPath.lastIndexOf('/');
  return i <= 0 ? '/' : reqPath.slice(0, i);
}

function pathMatches(cookiePath, reqPath) {
  if (reqPath === cookiePath) return true;
  if (!reqPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || reqPath[cookiePath.length] === '/';
}

export class CookieJar {
  constructor() { this.cookies = new Map(); }

  store(setCookie, reqPath) {
    for (const line of setCookie ?? []) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let cpath = defaultPath(reqPath);
      let expired = false;
      for (const a of attrs) {
        const [k, v = ''] = a.split('=');
        const key = k.toLowerCase();
        if (key === 'path' && v.startsWith('/')) cpath = v;
        else if (key === 'max-age' && Number(v) <= 0) expired = true;
        else if (key === 'expires' && Date.parse(v) <= Date.now()) expired = true;
      }
      const id = `${name}\0${cpath}`;
      if (expired) this.cookies.delete(id);
      else this.cookies.set(id, { name, value, path: cpath });
    }
  }

  header(reqPath) {
    const list = [...this.cookies.values()]
      .filter((c) => pathMatches(c.path, reqPath))
      .sort((a, b) => b.path.length - a.path.length);
    return list.length ? list.map((c) => `${c.name}=${c.value}`).join('; ') : undefined;
  }
}

/*
 * request(url, { ca, method, form, jar, accept, timeoutMs }) -> { status, headers, body }
 * form: an object sent as application/x-www-form-urlencoded (method POST).
 * accept: the Accept header; the provider renders its errors as HTML for
 * a client that prefers HTML, as JSON otherwise.
 */
export function request(url, {
  ca, method = 'GET', form, jar, accept = 'application/json', timeoutMs = 10000,
}) {
  const u = new URL(url);
  const body = form ? querystring.stringify(form) : undefined;
  const headers = { accept };
  if (body !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    headers['content-length'] = Buffer.byteLength(body);
  }
  const cookie = jar?.header(u.pathname);
  if (cookie) headers.cookie = cookie;
  return new Promise((resolve, reject) => {
    const req = https.request(u, {
      method, headers, ca, timeout: timeoutMs,
    }, (res) => {
      const chunks = [];
      let size = 0;
      res.on('data', (c) => {
        size += c.length;
        if (size > BODY_LIMIT) {
          req.destroy(new ToolError(`${method} ${u.pathname}: response larger than ${BODY_LIMIT} bytes`));
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => {
        jar?.store(res.headers['set-cookie'], u.pathname);
        resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new ToolError(`${method} ${u.href}: no answer within ${timeoutMs / 1000} s`)));
    req.on('error', (err) => reject(err instanceof ToolError ? err
      : new ToolError(`${method} ${u.href}: ${err.code ? `${err.code}: ` : ''}${err.message}`)));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/* Whole seconds >= min from a command-line value, or a ToolError. */
export function seconds(name, value, min) {
  if (!/^[0-9]{1,7}$/.test(value) || Number(value) < min) {
    throw new ToolError(`--${name}: expected a whole number of seconds >= ${min}, got '${value}'`, 2);
  }
  return Number(value);
}
