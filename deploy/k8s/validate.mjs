#!/usr/bin/env node
// Offline validation of the Kubernetes manifests in this folder (no cluster, no kubeconform:
// neither it nor hadolint installs from the npm registry or Debian here).
//
// Its dependencies live in a scratch folder, never in the repository (package.json is not
// touched):
//
//   npm install --prefix /tmp/deploy-lint --no-audit --no-fund \
//     yaml@2 kubernetes-models@5 @kubernetes-models/keda@2 typescript@5
//   DEPLOY_LINT_DIR=/tmp/deploy-lint node deploy/k8s/validate.mjs            # every *.yaml here
//   kubectl kustomize deploy/k8s | DEPLOY_LINT_DIR=/tmp/deploy-lint node deploy/k8s/validate.mjs -
//
// (kubernetes-models asks for Node ≥ 22 in its "engines"; it runs on Node 20, npm only warns.)
//
// Four passes over every YAML document:
//  1. YAML: parse errors, warnings and duplicate keys are failures.
//  2. Schema: the object is validated against the Kubernetes OpenAPI schema of its apiVersion and
//     kind, compiled into the kubernetes-models packages (types, required fields, enums, formats;
//     KEDA's ScaledObject from @kubernetes-models/keda, from KEDA's CRDs).
//  3. Strict: those schemas accept unknown fields (a misspelt `readinessProbe` would pass), so
//     every document is also type-checked by TypeScript against the same packages' interfaces,
//     whose excess-property check reports any field the API does not define.
//  4. Policy: what deploy/README.md promises — the hardening of every pod, /tmp on a bounded
//     emptyDir, probes, --host 0.0.0.0, grace period above the drain deadline, the API taking
//     no queue jobs, a worker's --workers = --concurrency = CPU request = the autoscaler's
//     per-pod target, and every "Sizing:" figure recomputed from the Sizing table in
//     deploy/README.md (change the table, and this fails until the YAML follows).
// Exit status 0 when every document passes, 1 otherwise.

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const lintDir = process.env.DEPLOY_LINT_DIR ?? '/tmp/deploy-lint';
const modulePath = (spec) => join(lintDir, 'node_modules', spec);
if (!existsSync(modulePath('yaml'))) {
  console.error(`validate: no dependencies in ${lintDir}; see the header of ${fileURLToPath(import.meta.url)}`);
  process.exit(2);
}
const load = (spec) => import(pathToFileURL(modulePath(spec)).href);
const YAML = await load('yaml/dist/index.js');
const ts = (await load('typescript/lib/typescript.js')).default;

// ---- inputs -------------------------------------------------------------------------------
const args = process.argv.slice(2);
const inputs = [];
if (args[0] === '-') inputs.push({ name: '<stdin>', text: readFileSync(0, 'utf8') });
else {
  const files = args.length
    ? args
    : readdirSync(here)
        .filter((f) => f.endsWith('.yaml'))
        .sort()
        .map((f) => join(here, f));
  for (const file of files) inputs.push({ name: basename(file), text: readFileSync(file, 'utf8') });
}

let failures = 0;
const fail = (where, message) => {
  failures++;
  console.log(`FAIL ${where}: ${message}`);
};

// ---- 1. YAML ------------------------------------------------------------------------------
const docs = [];
for (const { name, text } of inputs) {
  const parsed = YAML.parseAllDocuments(text, { uniqueKeys: true, strict: true, prettyErrors: true });
  const list = Array.isArray(parsed) ? parsed : [parsed];
  list.forEach((doc, i) => {
    const where = `${name}#${i + 1}`;
    for (const e of [...doc.errors, ...doc.warnings]) fail(where, `YAML ${e.code}: ${e.message.split('\n')[0]}`);
    const obj = doc.toJS();
    if (obj == null) return; // an empty document (a trailing ---)
    docs.push({ where: `${where} ${obj.kind ?? '?'}/${obj.metadata?.name ?? '?'}`, file: name, obj });
  });
}

// ---- 2. schema ----------------------------------------------------------------------------
// apiVersion + kind → module of kubernetes-models (or a CRD package) exporting class <Kind>.
const moduleOf = ({ apiVersion, kind }) => {
  if (!apiVersion || !kind) return null;
  if (apiVersion.startsWith('kustomize.config.k8s.io/')) return 'kustomize';
  if (apiVersion.startsWith('keda.sh/')) return `@kubernetes-models/keda/${apiVersion}/${kind}`;
  return `kubernetes-models/${apiVersion}/${kind}`; // core: v1/Namespace; groups: apps/v1/Deployment
};
const typed = [];
for (const d of docs) {
  const mod = moduleOf(d.obj);
  if (mod === 'kustomize') {
    checkKustomization(d);
    continue;
  }
  if (!mod || !existsSync(modulePath(`${mod}.js`))) {
    fail(d.where, `no schema for ${d.obj.apiVersion} ${d.obj.kind}`);
    continue;
  }
  const Model = (await load(`${mod}.js`))[d.obj.kind];
  try {
    new Model(d.obj).validate();
  } catch (e) {
    fail(d.where, `schema: ${e.message}`);
    continue;
  }
  typed.push({ ...d, mod });
}

// ---- 3. strict (unknown fields) -----------------------------------------------------------
{
  const dir = mkdtempSync(join(lintDir, '.strict-'));
  try {
    // One `const dN: I<Kind> = {…}` per document; firstLine[N] is where document N starts.
    let source = typed.map((d, i) => `import type { I${d.obj.kind} as T${i} } from ${JSON.stringify(d.mod)};\n`).join('');
    const firstLine = [];
    typed.forEach((d, i) => {
      firstLine.push(source.split('\n').length - 1);
      source += `export const d${i}: T${i} = ${JSON.stringify(d.obj, null, 1)};\n`;
    });
    const file = join(dir, 'manifests.ts');
    writeFileSync(file, source);
    const program = ts.createProgram([file], {
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
    });
    const sf = program.getSourceFile(file);
    const docAt = (ln) => firstLine.findLastIndex((start) => start <= ln);
    for (const diag of ts.getPreEmitDiagnostics(program)) {
      const msg = ts.flattenDiagnosticMessageText(diag.messageText, ' ');
      if (diag.file === sf && diag.start !== undefined) {
        const { line: ln } = sf.getLineAndCharacterOfPosition(diag.start);
        const i = docAt(ln);
        fail(i >= 0 ? typed[i].where : 'strict', `strict: ${msg} (near: ${sf.text.split('\n')[ln].trim()})`);
      } else fail('strict', msg);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- 4. policy ----------------------------------------------------------------------------
const readme = readFileSync(join(here, '..', 'README.md'), 'utf8');
const sizing = {};
for (const m of readme.matchAll(/^\|\s*`(\w+)`\s*\|[^|\n]*\|\s*([\d.]+)\s*(MiB|GiB)\s*\|/gm)) {
  sizing[m[1]] = Number(m[2]) * (m[3] === 'GiB' ? 1024 : 1);
}
for (const key of ['B', 'W_av', 'W_video', 'I', 'O', 'S']) {
  if (!(key in sizing)) fail('deploy/README.md', `Sizing table has no row \`${key}\``);
}
const mib = (q) => {
  const m = /^(\d+(?:\.\d+)?)(Mi|Gi)$/.exec(String(q ?? ''));
  return m ? Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1) : NaN;
};
const flag = (args, name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const equal = (where, what, got, want) => {
  if (got !== want) fail(where, `${what} is ${got}, Sizing gives ${want}`);
};

let workerConcurrency;
for (const d of docs.filter((x) => x.obj.kind === 'Deployment')) {
  const spec = d.obj.spec.template.spec;
  const psc = spec.securityContext ?? {};
  if (psc.runAsNonRoot !== true) fail(d.where, 'pod securityContext.runAsNonRoot is not true');
  if (psc.seccompProfile?.type !== 'RuntimeDefault') fail(d.where, 'pod seccompProfile is not RuntimeDefault');
  const tmp = spec.volumes?.find((v) => spec.containers.some((c) => c.volumeMounts?.some((m) => m.name === v.name && m.mountPath === '/tmp')));
  if (!tmp?.emptyDir?.sizeLimit) fail(d.where, '/tmp is not an emptyDir with a sizeLimit');
  for (const c of spec.containers) {
    const sc = c.securityContext ?? {};
    if (sc.allowPrivilegeEscalation !== false) fail(d.where, `${c.name}: allowPrivilegeEscalation is not false`);
    if (sc.readOnlyRootFilesystem !== true) fail(d.where, `${c.name}: readOnlyRootFilesystem is not true`);
    if (!sc.capabilities?.drop?.includes('ALL')) fail(d.where, `${c.name}: capabilities do not drop ALL`);
    if (c.livenessProbe?.httpGet?.path !== '/healthz') fail(d.where, `${c.name}: no livenessProbe on /healthz`);
    const args = c.args ?? [];
    const cpu = Number(c.resources?.requests?.cpu);
    const req = mib(c.resources?.requests?.memory);
    const lim = mib(c.resources?.limits?.memory);
    const tmpMiB = mib(tmp?.emptyDir?.sizeLimit);
    if (mib(c.resources?.requests?.['ephemeral-storage']) !== tmpMiB) fail(d.where, 'requests.ephemeral-storage differs from the /tmp sizeLimit');
    const preStop = c.lifecycle?.preStop?.exec?.command;
    const preStopSeconds = preStop?.[0] === 'sleep' ? Number(preStop[1]) : 0;
    const drain = Number(flag(args, '--drain-seconds', '60'));
    if (!(spec.terminationGracePeriodSeconds > preStopSeconds + drain)) {
      fail(d.where, `terminationGracePeriodSeconds ${spec.terminationGracePeriodSeconds} is not above preStop ${preStopSeconds} s + drain ${drain} s`);
    }
    if (flag(args, '--host') !== '0.0.0.0') fail(d.where, `${args[0]}: no --host 0.0.0.0 (the default 127.0.0.1 is unreachable for probes and Services)`);
    if (args[0] === 'serve') {
      const n = Number(flag(args, '--workers'));
      const q = Number(flag(args, '--max-sync-queue', '16'));
      if (flag(args, '--concurrency') !== '0') fail(d.where, 'serve: without --concurrency 0 the API also runs queue jobs (chunks) on its engine');
      if (c.readinessProbe?.httpGet?.path !== '/readyz') fail(d.where, 'serve: no readinessProbe on /readyz');
      equal(d.where, 'requests.cpu', cpu, n);
      equal(d.where, 'requests.memory (MiB)', req, sizing.B + n * sizing.W_av);
      equal(d.where, 'limits.memory (MiB)', lim, sizing.B + n * sizing.W_video);
      equal(d.where, '/tmp sizeLimit (MiB)', tmpMiB, (n + q) * sizing.I + sizing.S);
    } else if (args[0] === 'worker') {
      const n = Number(flag(args, '--concurrency'));
      workerConcurrency = n;
      if (Number(flag(args, '--workers')) !== n) fail(d.where, "worker: --workers (default: the node's cores) must be given and equal --concurrency");
      if (c.lifecycle?.preStop) fail(d.where, 'worker: a preStop hook only delays the drain');
      if (drain !== 60 || spec.terminationGracePeriodSeconds !== 90) fail(d.where, 'worker: expected --drain-seconds 60 and terminationGracePeriodSeconds 90');
      equal(d.where, 'requests.cpu (= --concurrency)', cpu, n);
      equal(d.where, 'requests.memory (MiB)', req, sizing.B + n * sizing.W_video);
      equal(d.where, 'limits.memory (MiB)', lim, sizing.B + n * sizing.W_video);
      equal(d.where, '/tmp sizeLimit (MiB)', tmpMiB, n * (sizing.I + sizing.O) + sizing.S);
    } else fail(d.where, `unknown command ${args[0]}`);
  }
}
for (const d of docs) {
  if (workerConcurrency === undefined) break;
  if (d.obj.kind === 'ScaledObject') {
    for (const t of d.obj.spec.triggers) {
      if (Number(t.metadata?.threshold) !== workerConcurrency)
        fail(d.where, `trigger threshold ${t.metadata?.threshold} ≠ worker --concurrency ${workerConcurrency}`);
    }
  }
  if (d.obj.kind === 'HorizontalPodAutoscaler') {
    for (const m of d.obj.spec.metrics) {
      const v = Number(m.external?.target?.averageValue);
      if (v !== workerConcurrency) fail(d.where, `averageValue ${v} ≠ worker --concurrency ${workerConcurrency}`);
    }
  }
}

function checkKustomization(d) {
  const res = d.obj.resources ?? [];
  for (const r of res) if (args[0] !== '-' && !existsSync(join(here, r))) fail(d.where, `resource ${r} does not exist`);
  if (res.some((r) => r.includes('.example.'))) fail(d.where, 'an .example. template is listed (it would overwrite the real object)');
  if (res.includes('worker-hpa.yaml') && res.includes('worker-scaledobject.yaml')) fail(d.where, 'both the HPA and the ScaledObject are listed');
}

console.log(
  `${inputs.length} input(s), ${docs.length} documents (${typed.length} schema- and strict-checked); Sizing (MiB) from deploy/README.md: ${JSON.stringify(sizing)}`,
);
console.log(failures ? `${failures} failure(s)` : 'all passed');
process.exit(failures ? 1 : 0);
