/**
 * The service's URL inputs and outputs against real loopback HTTP servers (no undici mocks): the
 * SSRF policy (address table, URL checks, DNS lookup), streamed downloads with limits, retries and
 * deadlines, redirects re-checked on every hop, uploads, and output URL naming.
 */
import { randomBytes } from 'node:crypto';
import dns from 'node:dns';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbortedError, InputError, IOError, LimitError, OptionsError, SandcodecError, TimeoutError } from '../../src/errors.js';
import { contentTypeOf, downloadToFile, outputUrl, uploadFile } from '../../src/service/url-io.js';
import { checkUrl, isBlockedAddress, redact, safeLookup, type UrlPolicy, urlPolicy } from '../../src/service/url-policy.js';

interface TestServer {
  url: string;
  port: number;
  hits: () => number;
  close: () => Promise<void>;
}

/** A loopback HTTP server on an ephemeral port that counts the requests it gets. */
async function serve(handler: (req: IncomingMessage, res: ServerResponse, hit: number) => void): Promise<TestServer> {
  let hits = 0;
  const server = createServer((req, res) => handler(req, res, ++hits));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    hits: () => hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function withServer<T>(handler: (req: IncomingMessage, res: ServerResponse, hit: number) => void, body: (s: TestServer) => Promise<T>): Promise<T> {
  const s = await serve(handler);
  try {
    return await body(s);
  } finally {
    await s.close();
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The rejection of `p`, failing the test if it resolves. */
async function rejection(p: Promise<unknown>): Promise<SandcodecError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(SandcodecError);
    return err as SandcodecError;
  }
  throw new Error('expected a rejection');
}

function lookupAll(policy: UrlPolicy, host: string): Promise<dns.LookupAddress[]> {
  return new Promise((resolve, reject) =>
    safeLookup(policy)(host, { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses as dns.LookupAddress[]))),
  );
}

function lookupOne(policy: UrlPolicy, host: string): Promise<{ address: string; family: number | undefined }> {
  return new Promise((resolve, reject) =>
    safeLookup(policy)(host, {}, (err, address, family) => (err ? reject(err) : resolve({ address: address as string, family }))),
  );
}

const strict = urlPolicy();
// This machine's name, and whether it resolves only to non-public addresses (see the lookup test).
const self = hostname().toLowerCase();
const selfAddresses = await dns.promises.lookup(self, { all: true }).catch(() => []);
const selfIsPrivate = selfAddresses.length > 0 && selfAddresses.every((a) => isBlockedAddress(a.address));
const local = urlPolicy('127.0.0.1');
const fast = { timeoutMs: 5000, retries: 2, backoffMs: 10 };

let dir = '';
let files = 0;
const tempFile = (): string => join(dir, `f${files++}`);
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'url-io-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('isBlockedAddress', () => {
  const blocked = [
    '0.0.0.0',
    '0.1.2.3',
    '10.0.0.5',
    '100.64.0.1',
    '100.127.255.254',
    '127.0.0.1',
    '127.255.255.255',
    '169.254.169.254',
    '172.16.0.1',
    '172.31.255.255',
    '192.0.0.170',
    '192.0.2.1',
    '192.88.99.1',
    '192.168.1.1',
    '198.18.0.1',
    '198.19.255.255',
    '198.51.100.7',
    '203.0.113.9',
    '224.0.0.1',
    '239.255.255.250',
    '240.0.0.1',
    '255.255.255.255',
    '::',
    '::1',
    '0:0:0:0:0:0:0:1',
    'fc00::1',
    'fd00:ec2::254',
    'fe80::1',
    'fe80::1%eth0',
    'fec0::1',
    'ff02::1',
    '2001:db8::1',
    '100::1',
    '2001::1',
    '2001:1ff::1',
    '::ffff:127.0.0.1',
    '::FFFF:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:169.254.169.254',
    '::ffff:a9fe:a9fe',
    '::ffff:0:10.0.0.5',
    '64:ff9b::a9fe:a9fe',
    '64:ff9b::10.0.0.5',
    '2002:7f00:1::',
    '2002:c0a8:101::1',
    '::127.0.0.1',
    // Not an IP at all: fail closed.
    '',
    'example.com',
    '1.2.3',
    '127.0.0.01',
    '[::1]',
  ];
  const publicV4 = [
    '8.8.8.8',
    '1.1.1.1',
    '100.63.255.255',
    '100.128.0.1',
    '172.15.255.255',
    '172.32.0.1',
    '192.169.0.1',
    '198.17.255.255',
    '198.20.0.1',
    '223.255.255.255',
  ];
  const publicV6 = ['2606:4700::1111', '2001:4860:4860::8888', '2001:200::1', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1'];

  it.each(blocked)('blocks %s', (ip) => {
    expect(isBlockedAddress(ip)).toBe(true);
  });
  it.each([...publicV4, ...publicV6])('passes %s', (ip) => {
    expect(isBlockedAddress(ip)).toBe(false);
  });
});

describe('urlPolicy', () => {
  it('reads a comma-separated list or an array into canonical entries', () => {
    expect([...urlPolicy(' Media.Example , 127.0.0.1,[::1], ::ffff:1.2.3.4,, minio.internal.').allowHosts].sort()).toEqual(
      ['127.0.0.1', '::1', '::ffff:102:304', 'media.example', 'minio.internal'].sort(),
    );
    expect([...urlPolicy(['10.0.0.5', '0:0::1']).allowHosts]).toEqual(['10.0.0.5', '::1']);
    expect(urlPolicy().allowHosts.size).toBe(0);
  });

  it.each(['http://a.example', 'a.example:80', 'a.example/x', '*.example', 'a b', 'user@a.example', 'fe80::1%eth0'])('refuses %s, naming it', (entry) => {
    const err = (() => {
      try {
        urlPolicy(`ok.example,${entry}`);
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(OptionsError);
    expect((err as OptionsError).message).toContain(entry.trim());
    expect((err as OptionsError).details.option).toBe('allowHosts');
  });
});

describe('checkUrl', () => {
  const refused: Array<[string, RegExp]> = [
    ['ftp://media.example/a.mp4', /ftp: URLs are not supported/],
    ['file:///etc/passwd', /file: URLs are not supported/],
    ['http://user:secret@media.example/a.mp4', /user name or password/],
    ['http://127.0.0.1/', /127\.0\.0\.1 is a loopback address.*--allow-hosts/],
    ['http://[::1]:8080/', /::1 is a loopback address/],
    ['http://2130706433/', /127\.0\.0\.1 is a loopback address/],
    ['http://0x7f.1/', /127\.0\.0\.1 is a loopback address/],
    ['http://127.1/', /127\.0\.0\.1 is a loopback address/],
    ['http://0/', /0\.0\.0\.0 is a reserved/],
    ['http://localhost:3000/', /localhost is a loopback host.*--allow-hosts/],
    ['http://LOCALHOST./', /localhost is a loopback host/],
    ['http://api.localhost/', /api\.localhost is a loopback host/],
    ['http://169.254.169.254/latest/meta-data/', /169\.254\.169\.254 is a link-local address/],
    ['http://[::ffff:169.254.169.254]/', /link-local address/],
    ['http://[fd00:ec2::254]/', /fd00:ec2::254 is a private address/],
    ['http://10.0.0.5/a.mp4', /10\.0\.0\.5 is a private address/],
    ['not a url', /not a valid absolute URL/],
    [`https://media.example/${'a'.repeat(9000)}`, /at most 8192/],
  ];
  it.each(refused)('refuses %s', (url, message) => {
    let err: unknown;
    try {
      checkUrl(url, strict, 'input.url');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OptionsError);
    expect((err as OptionsError).details.option).toBe('input.url');
    expect((err as OptionsError).message).toMatch(/^input\.url: /);
    expect((err as OptionsError).message).toMatch(message);
  });

  it('refuses non-strings and never repeats a query string', () => {
    expect(() => checkUrl(42, strict, 'output.url')).toThrow(OptionsError);
    expect(() => checkUrl(undefined, strict, 'output.url')).toThrow(/must be a URL string/);
    expect(() => checkUrl('http://127.0.0.1/a?X-Amz-Signature=SECRET', strict, 'input.url')).toThrow(/^(?!.*SECRET)/);
    expect(redact('https://h.example/a/b.mp4?sig=SECRET#frag')).toBe('https://h.example/a/b.mp4');
  });

  it('passes public host names and allow-listed addresses and names', () => {
    expect(checkUrl('https://media.example/a.mp4?sig=x', strict, 'input.url').href).toBe('https://media.example/a.mp4?sig=x');
    expect(checkUrl('http://127.0.0.1:8080/x', local, 'input.url').port).toBe('8080');
    expect(checkUrl('http://2130706433/', local, 'input.url').hostname).toBe('127.0.0.1');
    expect(checkUrl('http://[::1]/', urlPolicy('::1'), 'input.url').hostname).toBe('[::1]');
    expect(checkUrl('http://localhost:9000/', urlPolicy('localhost'), 'input.url').hostname).toBe('localhost');
    expect(checkUrl('http://8.8.8.8/', strict, 'input.url').hostname).toBe('8.8.8.8');
  });
});

describe('safeLookup', () => {
  it('refuses a name that resolves to loopback unless allowed', async () => {
    const err = await lookupAll(strict, 'localhost').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).details.ssrf).toBe(true);
    expect((err as InputError).message).toMatch(
      /^localhost resolves to (127\.0\.0\.1|::1), a loopback address; refused \(allow the host with --allow-hosts\)$/,
    );
    await expect(lookupOne(strict, 'localhost')).rejects.toBeInstanceOf(InputError);
  });

  it('passes allow-listed names, and addresses that are themselves allow-listed', async () => {
    const addresses = await lookupAll(urlPolicy('localhost'), 'localhost');
    expect(addresses.map((a) => a.address)).toContain('127.0.0.1');
    const one = await lookupOne(urlPolicy('localhost'), 'LocalHost');
    expect(['127.0.0.1', '::1']).toContain(one.address);
    await expect(lookupAll(urlPolicy('127.0.0.1,::1'), 'localhost')).resolves.not.toHaveLength(0);
  });

  it('resolves IP literals to themselves, refusing blocked ones', async () => {
    await expect(lookupAll(strict, '127.0.0.1')).rejects.toThrow(/127\.0\.0\.1 resolves to 127\.0\.0\.1, a loopback address/);
    await expect(lookupAll(local, '127.0.0.1')).resolves.toEqual([{ address: '127.0.0.1', family: 4 }]);
    await expect(lookupAll(strict, '[::ffff:10.0.0.5]')).rejects.toThrow(/private address/);
    // The (hostname, callback) form dns.lookup also has.
    const one = await new Promise((resolve, reject) => {
      const callback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number): void =>
        err ? reject(err) : resolve([address, family]);
      safeLookup(strict)('8.8.8.8', callback);
    });
    expect(one).toEqual(['8.8.8.8', 4]);
  });
});

describe('downloadToFile', () => {
  it('streams a 1 MB body into a new file', async () => {
    const data = randomBytes(1 << 20);
    await withServer(
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': data.length });
        res.end(data);
      },
      async (s) => {
        const path = tempFile();
        const got = await downloadToFile(`${s.url}/a.mp4?sig=x`, path, { policy: local, ...fast, maxBytes: 2 << 20 });
        expect(got).toEqual({ size: data.length, contentType: 'video/mp4', finalUrl: `${s.url}/a.mp4?sig=x` });
        expect((await readFile(path)).equals(data)).toBe(true);
      },
    );
  });

  it('refuses a declared length over the limit without reading the body', async () => {
    await withServer(
      (_req, res) => {
        res.writeHead(200, { 'content-length': 10_000_000 });
        res.write(Buffer.alloc(1024)); // and never more: reading it would hang
      },
      async (s) => {
        const path = tempFile();
        const started = Date.now();
        const err = await rejection(downloadToFile(`${s.url}/big`, path, { policy: local, ...fast, maxBytes: 1 << 20 }));
        expect(err).toBeInstanceOf(LimitError);
        expect(err.details).toMatchObject({ limit: 'maxInputBytes', max: 1 << 20, actual: 10_000_000 });
        expect(Date.now() - started).toBeLessThan(2000);
        expect(existsSync(path)).toBe(false);
        expect(s.hits()).toBe(1);
      },
    );
  });

  it('stops an endless chunked body at the limit and removes the partial file', async () => {
    const chunk = Buffer.alloc(64 * 1024, 7);
    await withServer(
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' }); // chunked, no length
        const more = (): void => {
          while (!res.destroyed && res.write(chunk)) {}
          if (!res.destroyed) res.once('drain', more);
        };
        more();
      },
      async (s) => {
        const path = tempFile();
        const started = Date.now();
        const err = await rejection(downloadToFile(`${s.url}/endless`, path, { policy: local, ...fast, maxBytes: 300_000 }));
        expect(err).toBeInstanceOf(LimitError);
        expect(err.details.max).toBe(300_000);
        expect(err.details.actual).toBeGreaterThan(300_000);
        expect(err.details.actual).toBeLessThan(300_000 + 2 * chunk.length);
        expect(Date.now() - started).toBeLessThan(2000);
        expect(existsSync(path)).toBe(false);
        expect(s.hits()).toBe(1);
      },
    );
  });

  it('retries 500s and succeeds', async () => {
    await withServer(
      (_req, res, hit) => {
        if (hit <= 2) {
          res.writeHead(500).end('busy');
          return;
        }
        res.writeHead(200).end('media');
      },
      async (s) => {
        const path = tempFile();
        const got = await downloadToFile(`${s.url}/a`, path, { policy: local, ...fast, maxBytes: 100 });
        expect(got.size).toBe(5);
        expect(await readFile(path, 'utf8')).toBe('media');
        expect(s.hits()).toBe(3);
      },
    );
  });

  it('gives up with IOError after the last retry of a 503', async () => {
    await withServer(
      (_req, res) => {
        res.writeHead(503).end();
      },
      async (s) => {
        const path = tempFile();
        const err = await rejection(downloadToFile(`${s.url}/a?sig=SECRET`, path, { policy: local, ...fast, maxBytes: 100 }));
        expect(err).toBeInstanceOf(IOError);
        expect(err.code).toBe('E_IO');
        expect(err.message).toBe(`GET ${s.url}/a answered 503 (after 3 attempts)`);
        expect(err.details).toMatchObject({ status: 503, attempts: 3 });
        expect(s.hits()).toBe(3);
        expect(existsSync(path)).toBe(false);
      },
    );
  });

  it('reports a 404 as InputError without retrying or leaking the query string', async () => {
    await withServer(
      (_req, res) => {
        res.writeHead(404).end('no such thing');
      },
      async (s) => {
        const path = tempFile();
        const err = await rejection(downloadToFile(`${s.url}/missing.mp4?X-Amz-Signature=SECRET`, path, { policy: local, ...fast, maxBytes: 100 }));
        expect(err).toBeInstanceOf(InputError);
        expect(err.message).toBe(`GET ${s.url}/missing.mp4 answered 404`);
        expect(s.hits()).toBe(1);
        expect(existsSync(path)).toBe(false);
      },
    );
  });

  it('retries a refused connection, then reports IOError', async () => {
    const s = await serve(() => {});
    await s.close(); // the port is now closed
    const err = await rejection(downloadToFile(`${s.url}/a`, tempFile(), { policy: local, ...fast, maxBytes: 100 }));
    expect(err).toBeInstanceOf(IOError);
    expect(err.message).toMatch(/ECONNREFUSED/);
    expect(err.details).toMatchObject({ errno: 'ECONNREFUSED', attempts: 3 });
  });

  it('times out a stalled server within timeoutMs', async () => {
    await withServer(
      () => {}, // never answers
      async (s) => {
        const path = tempFile();
        const started = Date.now();
        const err = await rejection(
          downloadToFile(`${s.url}/slow?sig=SECRET`, path, { policy: local, timeoutMs: 300, retries: 3, backoffMs: 10, maxBytes: 100 }),
        );
        const elapsed = Date.now() - started;
        expect(err).toBeInstanceOf(TimeoutError);
        expect(err.message).toBe(`GET ${s.url}/slow did not finish within 300 ms`);
        expect(elapsed).toBeGreaterThanOrEqual(280);
        expect(elapsed).toBeLessThan(1500);
        expect(existsSync(path)).toBe(false);
      },
    );
  });

  it("turns the caller's abort into AbortedError", async () => {
    await withServer(
      () => {},
      async (s) => {
        const controller = new AbortController();
        setTimeout(() => controller.abort(), 100);
        const err = await rejection(downloadToFile(`${s.url}/slow`, tempFile(), { policy: local, ...fast, signal: controller.signal, maxBytes: 100 }));
        expect(err).toBeInstanceOf(AbortedError);
      },
    );
  });

  it('never overwrites an existing file', async () => {
    await withServer(
      (_req, res) => {
        res.end('new');
      },
      async (s) => {
        const path = tempFile();
        await writeFile(path, 'old');
        const err = await rejection(downloadToFile(`${s.url}/a`, path, { policy: local, ...fast, maxBytes: 100 }));
        expect(err).toBeInstanceOf(IOError);
        expect(err.details.errno).toBe('EEXIST');
        expect(await readFile(path, 'utf8')).toBe('old');
      },
    );
  });

  it('follows redirects, checking each hop', async () => {
    await withServer(
      (req, res) => {
        if (req.url === '/start') res.writeHead(302, { location: '/next?sig=y' }).end();
        else if (req.url === '/next?sig=y') res.writeHead(307, { location: 'final' }).end();
        else res.end('here');
      },
      async (s) => {
        const got = await downloadToFile(`${s.url}/start`, tempFile(), { policy: local, ...fast, maxBytes: 100 });
        expect(got.finalUrl).toBe(`${s.url}/final`);
        expect(s.hits()).toBe(3);
      },
    );
  });

  it('refuses a redirect to the metadata address without connecting', async () => {
    await withServer(
      (_req, res) => {
        res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/?token=SECRET' }).end();
      },
      async (s) => {
        const started = Date.now();
        const err = await rejection(downloadToFile(`${s.url}/x`, tempFile(), { policy: local, ...fast, maxBytes: 100 }));
        expect(err).toBeInstanceOf(InputError);
        expect(err.details.ssrf).toBe(true);
        expect(err.message).toMatch(/redirected to http:\/\/169\.254\.169\.254\/latest\/meta-data\/: 169\.254\.169\.254 is a link-local address/);
        expect(err.message).not.toContain('SECRET');
        expect(Date.now() - started).toBeLessThan(1000);
        expect(s.hits()).toBe(1);
      },
    );
  });

  it('refuses a redirect to a loopback name that is not allow-listed', async () => {
    await withServer(
      (req, res) => {
        if (req.url === '/x') res.writeHead(301, { location: `http://localhost:${(req.socket.localPort ?? 0).toString()}/y` }).end();
        else res.end('should not be reached');
      },
      async (s) => {
        const err = await rejection(downloadToFile(`${s.url}/x`, tempFile(), { policy: local, ...fast, maxBytes: 100 }));
        expect(err).toBeInstanceOf(InputError);
        expect(err.message).toMatch(/localhost is a loopback host/);
        expect(s.hits()).toBe(1);
      },
    );
  });

  it('stops after 5 redirects', async () => {
    await withServer(
      (req, res) => {
        res.writeHead(302, { location: `/r${req.url}` }).end();
      },
      async (s) => {
        const err = await rejection(downloadToFile(`${s.url}/a`, tempFile(), { policy: local, ...fast, maxBytes: 100 }));
        expect(err).toBeInstanceOf(InputError);
        expect(err.message).toMatch(/more than 5 times/);
        expect(s.hits()).toBe(6);
      },
    );
  });

  it('connects to an allow-listed name through the lookup', async () => {
    await withServer(
      (_req, res) => {
        res.end('ok');
      },
      async (s) => {
        const got = await downloadToFile(`http://localhost:${s.port}/a`, tempFile(), { policy: urlPolicy('localhost'), ...fast, maxBytes: 100 });
        expect(got.size).toBe(2);
      },
    );
  });

  // A name checkUrl cannot judge (not `localhost`) that resolves to loopback: this machine's own
  // name usually does. Only the DNS lookup of the connection can refuse it.
  it.skipIf(!selfIsPrivate)('refuses, in the lookup, a name that resolves to a private address', async () => {
    await withServer(
      (_req, res) => {
        res.end('should not be reached');
      },
      async (s) => {
        const started = Date.now();
        const err = await rejection(
          downloadToFile(`http://${self}:${s.port}/a`, tempFile(), { policy: strict, timeoutMs: 5000, retries: 3, backoffMs: 500, maxBytes: 100 }),
        );
        expect(err).toBeInstanceOf(InputError);
        expect(err.details.ssrf).toBe(true);
        expect(err.message).toMatch(
          new RegExp(`^${self.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} resolves to .*; refused \\(allow the host with --allow-hosts\\)$`),
        );
        expect(Date.now() - started).toBeLessThan(400); // not retried
        expect(s.hits()).toBe(0);
      },
    );
  });
});

describe('uploadFile', () => {
  async function fileWith(name: string, data: Buffer): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, data);
    return path;
  }

  it('PUTs the file byte for byte with its length and type', async () => {
    const data = randomBytes(300_000);
    const path = await fileWith('seg-1.m4s', data);
    const got: Array<{ method?: string; url?: string; type?: string; length?: string; body: Buffer }> = [];
    await withServer(
      async (req, res) => {
        got.push({ method: req.method, url: req.url, type: req.headers['content-type'], length: req.headers['content-length'], body: await readBody(req) });
        res.writeHead(201).end();
      },
      async (s) => {
        const result = await uploadFile(`${s.url}/out/seg-1.m4s?sig=x`, path, { policy: local, ...fast });
        expect(result).toEqual({ status: 201 });
      },
    );
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ method: 'PUT', url: '/out/seg-1.m4s?sig=x', type: 'video/iso.segment', length: '300000' });
    expect(got[0]?.body.equals(data)).toBe(true);
  });

  it('retries a 503 with a fresh body', async () => {
    const data = randomBytes(100_000);
    const path = await fileWith('a.m4a', data);
    const bodies: Buffer[] = [];
    await withServer(
      async (req, res, hit) => {
        bodies.push(await readBody(req));
        res.writeHead(hit === 1 ? 503 : 200).end();
      },
      async (s) => {
        const result = await uploadFile(`${s.url}/a.m4a`, path, { policy: local, ...fast, method: 'POST', contentType: 'audio/x-test' });
        expect(result.status).toBe(200);
        expect(s.hits()).toBe(2);
      },
    );
    expect(bodies.map((b) => b.equals(data))).toEqual([true, true]);
  });

  it('reports a 403 as OptionsError on output.url without retrying', async () => {
    const path = await fileWith('b.json', Buffer.from('{}'));
    await withServer(
      async (req, res) => {
        await readBody(req);
        res.writeHead(403).end('signature expired');
      },
      async (s) => {
        const err = await rejection(uploadFile(`${s.url}/b.json?X-Amz-Signature=SECRET`, path, { policy: local, ...fast }));
        expect(err).toBeInstanceOf(OptionsError);
        expect(err.message).toBe(`output.url: PUT ${s.url}/b.json answered 403`);
        expect(err.details).toMatchObject({ option: 'output.url', status: 403 });
        expect(s.hits()).toBe(1);
      },
    );
  });

  it('follows 307 with the body again, but not 302', async () => {
    const path = await fileWith('c.vtt', Buffer.from('WEBVTT\n'));
    const seen: string[] = [];
    await withServer(
      async (req, res) => {
        const body = (await readBody(req)).toString();
        seen.push(`${req.url} ${body.length}`);
        if (req.url === '/307') res.writeHead(307, { location: '/there' }).end();
        else if (req.url === '/302') res.writeHead(302, { location: '/there' }).end();
        else res.writeHead(200).end();
      },
      async (s) => {
        await expect(uploadFile(`${s.url}/307`, path, { policy: local, ...fast })).resolves.toEqual({ status: 200 });
        const err = await rejection(uploadFile(`${s.url}/302`, path, { policy: local, ...fast }));
        expect(err).toBeInstanceOf(OptionsError);
        expect(err.message).toMatch(/answered 302 \(uploads follow only 307 and 308 redirects\)/);
      },
    );
    expect(seen).toEqual(['/307 7', '/there 7', '/302 7']);
  });
  it.skipIf(!selfIsPrivate)('reports a lookup refusal on upload against output.url', async () => {
    const path = await fileWith('d.json', Buffer.from('{}'));
    const err = await rejection(uploadFile(`http://${self}:9/d.json`, path, { policy: strict, ...fast }));
    expect(err).toBeInstanceOf(OptionsError);
    expect(err.details).toMatchObject({ option: 'output.url', ssrf: true });
    expect(err.message).toMatch(/^output\.url: .* resolves to .*--allow-hosts/);
  });
});

describe('outputUrl and contentTypeOf', () => {
  it('appends the encoded name before the query string', () => {
    expect(outputUrl('https://h.example/put/?sig=x', 'a.m4a')).toBe('https://h.example/put/a.m4a?sig=x');
    expect(outputUrl('https://h.example/put/', 'video/720p/seg-1.m4s')).toBe('https://h.example/put/video/720p/seg-1.m4s');
    expect(outputUrl('https://h.example/', 'a b#?.m4a')).toBe('https://h.example/a%20b%23%3F.m4a');
  });

  it('fills every {name}, keeping / between segments', () => {
    expect(outputUrl('https://h.example/o/{name}?sig=x', 'v/seg 1.m4s')).toBe('https://h.example/o/v/seg%201.m4s?sig=x');
    expect(outputUrl('https://h.example/{name}/meta/{name}', 'a.json')).toBe('https://h.example/a.json/meta/a.json');
  });

  it.each([
    ['https://h.example/put', 'a.m4a'],
    ['https://h.example/put?sig=x', 'a.m4a'],
    ['https://h.example', 'a.m4a'],
    ['ftp://h.example/', 'a.m4a'],
    ['https://h.example/', '../a.m4a'],
    ['https://h.example/', 'v/../../a.m4a'],
    ['https://h.example/', '/etc/passwd'],
    ['https://h.example/', 'a//b'],
    ['https://h.example/', ''],
  ])('refuses %s + %s', (target, name) => {
    expect(() => outputUrl(target, name)).toThrow(OptionsError);
  });

  it('types outputs by extension', () => {
    const table: Record<string, string> = {
      'a.m4a': 'audio/mp4',
      'a.mp4': 'video/mp4',
      'v/seg-1.m4s': 'video/iso.segment',
      'manifest.mpd': 'application/dash+xml',
      'master.m3u8': 'application/vnd.apple.mpegurl',
      'a.opus': 'audio/ogg',
      'a.ogg': 'audio/ogg',
      'a.mp3': 'audio/mpeg',
      'a.flac': 'audio/flac',
      'a.wav': 'audio/wav',
      'a.webm': 'video/webm',
      'A.JPG': 'image/jpeg',
      'a.png': 'image/png',
      'a.webp': 'image/webp',
      'a.avif': 'image/avif',
      'a.vtt': 'text/vtt',
      'peaks.json': 'application/json',
      'a.bin': 'application/octet-stream',
      noext: 'application/octet-stream',
    };
    for (const [name, type] of Object.entries(table)) expect(contentTypeOf(name)).toBe(type);
  });
});
