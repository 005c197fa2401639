/**
 * Which URLs the media service may fetch from or upload to. A job names URLs, and the worker
 * connects to them from inside our network, so a URL is a request to reach any address the
 * worker can: without these checks a job could read cloud metadata (169.254.169.254), admin
 * ports on loopback or hosts on the private network (SSRF). Two layers:
 * - `checkUrl`, synchronous, at job submission and on every redirect hop: scheme, credentials,
 *   and IP literals (after WHATWG normalisation, so `http://2130706433/` is seen as 127.0.0.1);
 * - `safeLookup`, the DNS lookup of every new connection: a host name is refused when any
 *   address it resolves to is not public (checking the address actually connected to, not a
 *   name, defeats DNS tricks such as a name that resolves to 127.0.0.1).
 * The operator can allow specific hosts or addresses (`--allow-hosts`), e.g. a MinIO on 10.0.0.5.
 */
import dns from 'node:dns';
import { BlockList, isIP, isIPv4, isIPv6 } from 'node:net';
import { InputError, OptionsError } from '../errors.js';

export interface UrlPolicy {
  /** Lower-case host names and IP literals (IPv6 without brackets), in canonical form. */
  readonly allowHosts: ReadonlySet<string>;
}

/** Longest URL accepted; presigned URLs are long, but nothing legitimate is this long. */
const MAX_URL_LENGTH = 8 * 1024;

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

const ALLOW_HINT = 'refused (allow the host with --allow-hosts)';

/**
 * Builds a policy from `--allow-hosts` (a comma-separated string) or a list. Entries are host
 * names or IP literals, matched exactly (no wildcards: an allow-list should be explicit).
 */
export function urlPolicy(allowHosts?: string | readonly string[]): UrlPolicy {
  const raw: unknown[] = allowHosts === undefined ? [] : typeof allowHosts === 'string' ? allowHosts.split(',') : [...allowHosts];
  const set = new Set<string>();
  for (const entry of raw) {
    if (typeof entry !== 'string') throw new OptionsError('allowHosts', `entries must be strings, got ${typeof entry}`);
    const trimmed = entry.trim();
    if (trimmed === '') continue;
    const host = canonicalEntry(trimmed);
    if (host === null) {
      throw new OptionsError('allowHosts', `"${trimmed}" is not a host name or IP address (give a bare host: no scheme, port or path)`);
    }
    set.add(host);
  }
  return { allowHosts: set };
}

/** An allow-list entry in the form URL parsing and DNS produce, or null if it is not a bare host. */
function canonicalEntry(entry: string): string | null {
  let s = entry.toLowerCase();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  if (isIPv6(s)) return s.includes('%') ? null : canonicalHost(s);
  // Anything that would make the entry more than a host (scheme, port, path, userinfo, brackets).
  if (/[\s:/?#@[\]\\]/.test(s)) return null;
  let hostname: string;
  try {
    hostname = new URL(`http://${s}/`).hostname;
  } catch {
    return null;
  }
  const host = stripDot(hostname);
  if (isIPv4(host)) return host;
  return HOST_NAME.test(host) ? host : null;
}

function stripDot(host: string): string {
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

/**
 * The canonical spelling of a host for allow-list matching: lower case, no brackets, no trailing
 * dot, and IPv6 in WHATWG's compressed form (DNS writes `::ffff:1.2.3.4` where URL parsing writes
 * `::ffff:102:304`; both must match the same entry).
 */
function canonicalHost(host: string): string {
  let s = stripDot(host.toLowerCase());
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  if (isIPv6(s) && !s.includes('%')) {
    try {
      return new URL(`http://[${s}]/`).hostname.slice(1, -1);
    } catch {
      return s;
    }
  }
  return s;
}

function isAllowed(policy: UrlPolicy, host: string): boolean {
  return policy.allowHosts.has(canonicalHost(host));
}

// ---------------------------------------------------------------------------------------------
// Address classification

type AddressKind = 'loopback' | 'private' | 'link-local' | 'multicast' | 'reserved';

/** Every non-public range, with the kind named in refusals (so an operator sees why). */
const V4_RANGES: ReadonlyArray<readonly [string, number, AddressKind]> = [
  ['0.0.0.0', 8, 'reserved'], // "this network"; 0.0.0.0 reaches loopback on Linux
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'private'], // shared address space (CGNAT); some clouds put metadata here
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'], // includes 169.254.169.254, the cloud metadata service
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'], // IETF protocol assignments
  ['192.0.2.0', 24, 'reserved'], // documentation
  ['192.88.99.0', 24, 'reserved'], // 6to4 relay anycast
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'reserved'], // benchmarking
  ['198.51.100.0', 24, 'reserved'], // documentation
  ['203.0.113.0', 24, 'reserved'], // documentation
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'], // includes 255.255.255.255
];

const V6_RANGES: ReadonlyArray<readonly [string, number, AddressKind]> = [
  ['::', 128, 'reserved'], // unspecified
  ['::1', 128, 'loopback'],
  ['fc00::', 7, 'private'], // unique local; includes fd00:ec2::254 (AWS metadata over IPv6)
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'private'], // deprecated site-local
  ['ff00::', 8, 'multicast'],
  ['2001:db8::', 32, 'reserved'], // documentation
  ['3fff::', 20, 'reserved'], // documentation (RFC 9637)
  ['100::', 64, 'reserved'], // discard-only
  ['2001::', 23, 'reserved'], // IETF protocol assignments (Teredo, ORCHID, …)
  // Only 2000::/3 is global unicast; everything else is unassigned or special. The embedded-IPv4
  // forms that live outside it (::ffff:0:0/96, 64:ff9b::/96) are handled before these rules.
  ['::', 3, 'reserved'],
  ['4000::', 2, 'reserved'],
  ['8000::', 1, 'reserved'],
];

type Family = 'ipv4' | 'ipv6';

/**
 * One BlockList per family and kind. Families are kept apart on purpose: a BlockList checks an
 * IPv4 address against IPv6 rules too (as ::ffff:a.b.c.d), which would put every IPv4 address
 * in ::/3; embedded IPv4 addresses are extracted and judged by the IPv4 rules instead.
 */
function buildLists(ranges: typeof V4_RANGES, type: Family): Map<AddressKind, BlockList> {
  // Specific kinds first, 'reserved' last: its IPv6 catch-alls (everything outside 2000::/3)
  // overlap ::1 and fc00::/7, which should be reported as what they are.
  const kinds: AddressKind[] = ['loopback', 'link-local', 'private', 'multicast', 'reserved'];
  const lists = new Map<AddressKind, BlockList>(kinds.map((k) => [k, new BlockList()]));
  for (const [network, prefix, kind] of ranges) lists.get(kind)?.addSubnet(network, prefix, type);
  return lists;
}

const BLOCK_LISTS: Readonly<Record<Family, Map<AddressKind, BlockList>>> = { ipv4: buildLists(V4_RANGES, 'ipv4'), ipv6: buildLists(V6_RANGES, 'ipv6') };

/** The eight 16-bit groups of a valid IPv6 address (a trailing dotted quad folded in), or null. */
function ipv6Groups(ip: string): number[] | null {
  let s = ip;
  const lastColon = s.lastIndexOf(':');
  const last = s.slice(lastColon + 1);
  if (last.includes('.')) {
    if (!isIPv4(last)) return null;
    const [a = 0, b = 0, c = 0, d = 0] = last.split('.').map(Number);
    s = `${s.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const parse = (part: string | undefined): string[] => (part ? part.split(':') : []);
  const head = parse(halves[0]);
  const tail = parse(halves[1]);
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  if (fill < 0) return null;
  const groups = [...head, ...Array<string>(fill).fill('0'), ...tail];
  if (groups.length !== 8 || !groups.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null;
  return groups.map((g) => Number.parseInt(g, 16));
}

function v4FromGroups(hi: number, lo: number): string {
  return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
}

/**
 * The IPv4 address an IPv6 address stands for, when the network delivers it to that IPv4 host:
 * IPv4-mapped (::ffff:a.b.c.d, also written ::ffff:7f00:1), IPv4-translated (::ffff:0:a.b.c.d),
 * NAT64 (64:ff9b::/96) and 6to4 (2002::/16). `http://[::ffff:169.254.169.254]/` is the
 * metadata service, so the embedded address is what must be judged.
 */
function embeddedV4(g: readonly number[]): string | null {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = g;
  const zeroPrefix = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0;
  if (zeroPrefix && g4 === 0 && g5 === 0xffff) return v4FromGroups(g6, g7);
  if (zeroPrefix && g4 === 0xffff && g5 === 0) return v4FromGroups(g6, g7);
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return v4FromGroups(g6, g7);
  if (g0 === 0x2002) return v4FromGroups(g1, g2);
  return null;
}

/** Why an address is not public, or null when it is public. Invalid input is 'reserved'. */
function addressKind(address: string): AddressKind | null {
  let ip = address.toLowerCase();
  // A zone id (fe80::1%eth0) only qualifies a link-local address; judge the address itself.
  const zone = ip.indexOf('%');
  if (zone >= 0) ip = ip.slice(0, zone);
  const family = isIP(ip);
  if (family === 4) return kindIn(ip, 'ipv4');
  if (family !== 6) return 'reserved'; // not an IP at all: fail closed
  const groups = ipv6Groups(ip);
  if (!groups) return 'reserved';
  const v4 = embeddedV4(groups);
  if (v4 !== null) return kindIn(v4, 'ipv4');
  return kindIn(ip, 'ipv6');
}

function kindIn(ip: string, type: Family): AddressKind | null {
  for (const [kind, list] of BLOCK_LISTS[type]) if (list.check(ip, type)) return kind;
  return null;
}

function describeKind(kind: AddressKind): string {
  return kind === 'reserved' ? 'a reserved (non-public) address' : `a ${kind} address`;
}

/** True for every address that is not public unicast, and for anything that is not an IP. */
export function isBlockedAddress(ip: string): boolean {
  return addressKind(ip) !== null;
}

// ---------------------------------------------------------------------------------------------
// URLs

/**
 * A URL without its query string and fragment (presigned URLs carry signatures there) or
 * credentials: the only form of a job URL that may appear in a message or a log line.
 */
export function redact(url: string | URL): string {
  try {
    const u = typeof url === 'string' ? new URL(url) : url;
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    const s = String(url);
    const cut = s.search(/[?#]/);
    return (cut >= 0 ? s.slice(0, cut) : s).slice(0, 200);
  }
}

/**
 * The synchronous check of a URL a job names (and of every redirect target): http(s) only, no
 * credentials, and no IP literal or loopback name that is not public unless allow-listed. Other
 * host names pass here; their addresses are checked by `safeLookup` when connecting.
 * Throws `OptionsError(option, …)`.
 */
export function checkUrl(value: unknown, policy: UrlPolicy, option: string): URL {
  if (typeof value !== 'string') throw new OptionsError(option, `must be a URL string, got ${value === null ? 'null' : typeof value}`);
  if (value.length > MAX_URL_LENGTH) throw new OptionsError(option, `URL is ${value.length} characters long; at most ${MAX_URL_LENGTH} are accepted`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new OptionsError(option, `${redact(value)} is not a valid absolute URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new OptionsError(option, `${url.protocol} URLs are not supported; use http: or https:`);
  }
  // Credentials in a URL end up in logs and Authorization headers sent across redirects.
  if (url.username !== '' || url.password !== '') throw new OptionsError(option, `${redact(url)}: URLs with a user name or password are not accepted`);
  if (url.hostname === '') throw new OptionsError(option, `${redact(url)} has no host`);
  // url.hostname is already normalised by WHATWG parsing: 2130706433, 0x7f.1 and 127.1 are all
  // 127.0.0.1 by now, which is also the address the connection would use.
  const host = canonicalHost(url.hostname);
  if (isAllowed(policy, host)) return url;
  if (isIP(host)) {
    const kind = addressKind(host);
    if (kind !== null) throw new OptionsError(option, `${redact(url)}: ${host} is ${describeKind(kind)}; ${ALLOW_HINT}`);
  } else if (host === 'localhost' || host.endsWith('.localhost')) {
    // RFC 6761: these names are loopback whatever DNS says, and resolvers answer them locally.
    throw new OptionsError(option, `${redact(url)}: ${host} is a loopback host; ${ALLOW_HINT}`);
  }
  return url;
}

// ---------------------------------------------------------------------------------------------
// DNS

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;
export type SafeLookup = (hostname: string, options: dns.LookupOptions | LookupCallback, callback?: LookupCallback) => void;

/**
 * A `dns.lookup` replacement for undici's `connect: { lookup }`: resolves every address of the
 * host and refuses the connection if any is not public (checking only the first would let a name
 * with one public and one private address win by ordering). Allow-listed hosts, and resolved
 * addresses that are themselves allow-listed, pass. Refusals are `InputError`s with
 * `details.ssrf = true`, so callers can tell them from network failures and not retry them.
 */
export function safeLookup(policy: UrlPolicy): SafeLookup {
  return (hostname, optionsOrCallback, maybeCallback) => {
    const callback = typeof optionsOrCallback === 'function' ? optionsOrCallback : maybeCallback;
    const options: dns.LookupOptions = typeof optionsOrCallback === 'object' && optionsOrCallback !== null ? optionsOrCallback : {};
    if (!callback) throw new TypeError('safeLookup: a callback is required');
    const host = canonicalHost(hostname);

    const fail = (err: NodeJS.ErrnoException): void => callback(err, options.all ? [] : '', undefined);
    const finish = (err: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]): void => {
      const refusal = err ?? refuse(policy, host, addresses);
      const first = addresses[0];
      if (refusal) fail(refusal);
      else if (options.all) callback(null, addresses);
      else if (!first) fail(Object.assign(new Error(`${host}: no address`), { code: 'ENOTFOUND' }));
      else callback(null, first.address, first.family);
    };

    // An IP literal resolves to itself; getaddrinfo would too, but without a round trip.
    const family = isIP(host);
    if (family !== 0) {
      if (options.family !== undefined && options.family !== 0 && familyNumber(options.family) !== family) {
        const err = Object.assign(new Error(`${host} is not an IPv${familyNumber(options.family)} address`), { code: 'ENOTFOUND' });
        process.nextTick(finish, err, []);
        return;
      }
      process.nextTick(finish, null, [{ address: host, family }]);
      return;
    }
    dns.lookup(host, { ...options, all: true }, (err, addresses) => finish(err, addresses ?? []));
  };
}

/** The refusal for a host whose resolved addresses include a non-public one, or null. */
function refuse(policy: UrlPolicy, host: string, addresses: readonly dns.LookupAddress[]): InputError | null {
  if (isAllowed(policy, host)) return null;
  for (const { address } of addresses) {
    const kind = addressKind(address);
    if (kind !== null && !isAllowed(policy, address)) {
      return new InputError(`${host} resolves to ${address}, ${describeKind(kind)}; ${ALLOW_HINT}`, { ssrf: true, host, address });
    }
  }
  return null;
}

function familyNumber(family: number | string): number {
  return family === 'IPv4' ? 4 : family === 'IPv6' ? 6 : Number(family);
}
