/**
 * The dashboard's classroom paths: /draw (the page), /draw.js (the browser client, bundled on
 * first request) and /classroom/slot (one reserved client slot per request, each handed out once).
 * The caller has checked the access token already.
 */
import type * as http from 'node:http';
import { drawPageHtml } from './draw-page';
import { browserClientBundle } from './browser-bundle';

/** One reserved client of the run: the coordinator's port and that client's token. */
export interface BrowserSlot {
  port: number;
  token: string;
}

export const CLASSROOM_PATHS: ReadonlySet<string> = new Set(['/draw', '/draw.js', '/classroom/slot']);

const HEADERS = { 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' };

function text(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, { ...HEADERS, 'content-type': 'text/plain; charset=utf-8' }).end(body);
}

export interface ClassroomRoutes {
  offer(slots: BrowserSlot[]): void;
  handle(req: http.IncomingMessage, res: http.ServerResponse, pathname: string): void;
}

export function classroomRoutes(title: string): ClassroomRoutes {
  const slots: BrowserSlot[] = [];
  const page = drawPageHtml(title);
  const handOut = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const slot = slots.shift();
    if (!slot) return text(res, 409, 'dashboard: no browser client slot is free in this run (federation.browserClients)\n');
    // The coordinator listens beside the dashboard: same host name as this page, its own port.
    const hostname = new URL(`http://${req.headers.host ?? '127.0.0.1'}`).hostname;
    res
      .writeHead(200, { ...HEADERS, 'content-type': 'application/json' })
      .end(JSON.stringify({ url: `ws://${hostname}:${slot.port}`, token: slot.token }));
  };
  return {
    offer: (offered) => void slots.push(...offered),
    handle(req, res, pathname) {
      if (req.method !== 'GET') return text(res, 405, 'dashboard: GET only\n');
      if (pathname === '/draw') return void res.writeHead(200, { ...HEADERS, 'content-type': 'text/html; charset=utf-8' }).end(page);
      if (pathname === '/classroom/slot') return handOut(req, res);
      browserClientBundle().then(
        (js) => res.writeHead(200, { ...HEADERS, 'content-type': 'text/javascript; charset=utf-8' }).end(js),
        (err: unknown) => text(res, 500, `dashboard: cannot bundle the browser client: ${String(err)}\n`),
      );
    },
  };
}
