/**
 * Browser tests' plumbing: Debian's Chromium when it is installed (the tests that need it skip,
 * saying so, when it is not), driven by playwright-core, and a loopback HTTP server with byte
 * ranges (what players send for single files and HLS byte ranges) that records every request.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { type Browser, chromium } from 'playwright-core';

/** Chromium's executable: `SANDCODEC_CHROMIUM`, else Debian's, else null. */
export function chromiumPath(): string | null {
  const candidates = [process.env.SANDCODEC_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  return candidates.find((p): p is string => typeof p === 'string' && p !== '' && existsSync(p)) ?? null;
}

export async function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({
    executablePath,
    headless: true,
    // No sandbox as root in a container; no background connections (the network is closed here);
    // media plays without a user gesture.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}

const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.mpd': 'application/dash+xml',
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.mp4': 'video/mp4',
  '.m4s': 'video/iso.segment',
};

export interface StaticServer {
  url: string;
  /** `path` (and `bytes=a-b` when ranged) of every request, in order. */
  requests: string[];
  close(): Promise<void>;
}

/**
 * Serves `root` on 127.0.0.1 at a free port; `routes` maps URL paths to files elsewhere (player
 * libraries), `pages` URL paths to HTML.
 */
export async function serveDirectory(root: string, routes: Record<string, string>, pages: Record<string, string>): Promise<StaticServer> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    requests.push(req.headers.range ? `${path} ${req.headers.range}` : path);
    if (pages[path] !== undefined) {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(pages[path]);
      return;
    }
    const file = routes[path] ?? normalize(join(root, path));
    if (!routes[path] && !file.startsWith(root + sep)) {
      res.writeHead(403).end();
      return;
    }
    let size: number;
    try {
      const st = statSync(file);
      if (!st.isFile()) throw new Error('not a file');
      size = st.size;
    } catch {
      res.writeHead(404).end();
      return;
    }
    const head = { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'accept-ranges': 'bytes', 'cache-control': 'no-store' };
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range) {
      const first = Number(range[1]);
      const last = Math.min(range[2] ? Number(range[2]) : size - 1, size - 1);
      if (first > last) {
        res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
        return;
      }
      res.writeHead(206, { ...head, 'content-range': `bytes ${first}-${last}/${size}`, 'content-length': last - first + 1 });
      createReadStream(file, { start: first, end: last }).pipe(res);
    } else {
      res.writeHead(200, { ...head, 'content-length': size });
      createReadStream(file).pipe(res);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
