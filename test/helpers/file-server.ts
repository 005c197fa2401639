/**
 * Loopback HTTP servers for URL inputs and outputs: one serves files from a folder (with a hit
 * count, and an optional answer to force), one takes uploads (PUT or POST) into memory.
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export interface TestServer {
  url: string;
  server: Server;
  hits: Map<string, number>;
  close(): Promise<void>;
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<TestServer> {
  const hits = new Map<string, number>();
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    server,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Serves `root`; `/status/NNN/...` answers NNN. */
export function fileServer(root: string): Promise<TestServer> {
  return listen((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const forced = /^\/status\/(\d{3})\//.exec(path);
    if (forced) {
      res.writeHead(Number(forced[1])).end();
      return;
    }
    try {
      const file = join(root, path);
      const size = statSync(file).size;
      res.writeHead(200, { 'content-length': size });
      createReadStream(file).pipe(res);
    } catch {
      res.writeHead(404).end();
    }
  });
}

export interface UploadServer extends TestServer {
  /** Path (with query) → body and content type. */
  received: Map<string, { body: Buffer; type: string | undefined; method: string }>;
  /** Answers this status to the next N requests, then 201. */
  failNext(status: number, n: number): void;
}

export async function uploadServer(): Promise<UploadServer> {
  const received = new Map<string, { body: Buffer; type: string | undefined; method: string }>();
  let failing = { status: 0, n: 0 };
  const s = await listen((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (failing.n > 0) {
        failing.n--;
        res.writeHead(failing.status).end();
        return;
      }
      received.set(req.url ?? '/', { body: Buffer.concat(chunks), type: req.headers['content-type'], method: req.method ?? '' });
      res.writeHead(201).end();
    });
  });
  return Object.assign(s, {
    received,
    failNext(status: number, n: number) {
      failing = { status, n };
    },
  });
}
