/**
 * Who may read the dashboard: it shows reconstructions of clients' private data and (in
 * /state.json) the true images. Three checks, on every request and on the socket.io handshake:
 * - Host must name this dashboard (an allow-list of its own addresses): a DNS-rebinding page, whose
 *   requests carry the attacker's host name, is refused even though it reaches 127.0.0.1;
 * - Origin, when a browser sends one, must be one of those allowed hosts: it is compared with the
 *   allow-list, never with the request's own Host header (which the attacker controls);
 * - the random access token from the printed URL (?token=…, or header x-fedleak-token).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import * as os from 'node:os';

export interface AccessPolicy {
  token: string;
  /** "host:port" values a request may carry in Host (lower case). */
  allowedHosts: ReadonlySet<string>;
}

export type AccessDecision = { ok: true } | { ok: false; status: 401 | 403; reason: string };

export function newAccessToken(): string {
  return randomBytes(16).toString('hex');
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}

function bracket(address: string): string {
  return address.includes(':') && !address.startsWith('[') ? `[${address}]` : address;
}

/** Loopback names always; the listen address; for a wildcard listen, this machine's name and addresses. */
export function allowedHostsFor(listenHost: string, port: number): Set<string> {
  const names = new Set(['localhost', '127.0.0.1', '[::1]']);
  if (!isWildcard(listenHost)) names.add(bracket(listenHost.toLowerCase()));
  else {
    names.add(os.hostname().toLowerCase());
    for (const list of Object.values(os.networkInterfaces())) for (const a of list ?? []) names.add(bracket(a.address.toLowerCase()));
  }
  return new Set([...names].map((n) => `${n}:${port}`));
}

function tokenOf(req: IncomingMessage): string {
  const header = req.headers['x-fedleak-token'];
  if (typeof header === 'string') return header;
  return new URL(req.url ?? '/', 'http://placeholder').searchParams.get('token') ?? '';
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Host and Origin only: for resources that are not private (the socket.io client script). */
export function checkHost(req: IncomingMessage, policy: AccessPolicy): AccessDecision {
  const host = (req.headers.host ?? '').toLowerCase();
  if (!policy.allowedHosts.has(host)) return { ok: false, status: 403, reason: `Host "${host.slice(0, 100)}" is not this dashboard` };
  const origin = req.headers.origin;
  if (origin !== undefined) {
    let originHost: string;
    try {
      const u = new URL(origin);
      originHost = u.protocol === 'http:' ? u.host.toLowerCase() : '';
    } catch {
      originHost = '';
    }
    if (!policy.allowedHosts.has(originHost)) return { ok: false, status: 403, reason: 'cross-origin request refused' };
  }
  return { ok: true };
}

/** Host, Origin and the access token. */
export function checkAccess(req: IncomingMessage, policy: AccessPolicy): AccessDecision {
  const host = checkHost(req, policy);
  if (!host.ok) return host;
  if (!sameToken(tokenOf(req), policy.token))
    return { ok: false, status: 401, reason: 'missing or wrong access token: open the URL that fedleak printed' };
  return { ok: true };
}
