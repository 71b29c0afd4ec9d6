import { createReadStream, readFileSync, realpathSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { sep } from 'node:path';
import { ensureDatasets, checkClaimData, datasetsOf, missingDatasets, skippedSummary } from '../claims/datasets.ts';
import { MissingTierError, SpecError, UnknownClaimError } from '../claims/errors.ts';
import { listing } from '../claims/listing.ts';
import { findSpecs, loadAllSpecs } from '../claims/load.ts';
import { parseOverride, type Override } from '../claims/overrides.ts';
import { planClaims } from '../claims/plan.ts';
import { DatasetMissingError } from '../data/data-dir.ts';
import { DataFileError } from '../data/errors.ts';
import { LAYOUTS } from '../data/layout.ts';
import { locateDataset } from '../data/locate.ts';
import type { Environment } from '../results/record-types.ts';
import { requireTier, tiersOf } from '../spec/claim.ts';
import { isDatasetName, isTier, TIERS } from '../spec/names.ts';

/**
 * `label-leak serve`'s HTTP server: the page, the claim specs and the data directory's
 * dataset files, nothing else. Every URL is matched against what may be served (the page's
 * own files by exact name, a spec by the id of a spec the claims folder holds, a dataset file
 * by the dataset's name and one of its official file names); no part of a URL is ever joined
 * onto a folder, so `..`, encoded or not, cannot reach a file. A dataset file is found the
 * way `label-leak run` finds it (locateDataset) and refused when it is a link to outside the
 * folder it was found in.
 */

export interface PageFile {
  type: string;
  body: Uint8Array | string;
}

export interface ServeOptions {
  /** Folder of claim specs (`--claims`). */
  claimsDir: string;
  /** `--data-dir`; else LABEL_LEAK_DATA_DIR, else the cache folder, as for `run`. */
  dataDir?: string;
  /** The page's files by URL path: `/`, `/page.js`, `/wasm/<name>.wasm`. */
  page: Map<string, PageFile>;
  /** The environment block of records made by the page: this checkout's packages and commit. */
  environment: Environment;
  /**
   * Answer only requests whose `Host:` is 127.0.0.1, localhost or [::1] at this port, so a web
   * site cannot reach the server by rebinding its own name to 127.0.0.1 (off with --host).
   */
  loopbackOnly: boolean;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The decoded segments of a request path, or an HttpError: empty, `.`, `..` or separator-bearing segments are refused. */
function pathSegments(rawUrl: string): string[] {
  if (!rawUrl.startsWith('/')) throw new HttpError(400, `request target ${JSON.stringify(rawUrl)} is not a path`);
  const path = rawUrl.split(/[?#]/, 1)[0];
  if (path === '/') return [];
  const segments = path.slice(1).split('/');
  return segments.map((s) => {
    let d: string;
    try {
      d = decodeURIComponent(s);
    } catch {
      throw new HttpError(400, `malformed percent-encoding in ${JSON.stringify(path)}`);
    }
    if (d === '' || d === '.' || d === '..' || /[/\\\0]/.test(d)) throw new HttpError(400, `path ${JSON.stringify(path)} has a segment that is not a plain name`);
    return d;
  });
}

const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';

/** Whether `file` (already resolved through links) lies inside `dir` (too). */
function inside(dir: string, file: string): boolean {
  return file === dir || file.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

function claimList(opts: ServeOptions) {
  const specs = loadAllSpecs(opts.claimsDir);
  return listing(specs).map((c) => {
    const spec = specs.find((s) => s.id === c.id)!;
    const tiers = Object.fromEntries(
      tiersOf(spec, TIERS).map((tier) => [
        tier,
        { ...c.tiers[tier], datasets: datasetsOf(requireTier(spec, tier).params), missing: missingDatasets(spec, tier, opts.dataDir).map((m) => m.reason) },
      ]),
    );
    return { id: c.id, version: c.version, title: c.title, experiment: c.experiment, statement: spec.statement, writeUpFigure: spec.writeUpFigure, tiers };
  });
}

/**
 * What a run of `claim` at `tier` needs, checked the way `label-leak run` checks it before
 * training (the datasets found, complete and large enough; no downloads): the URLs of the
 * dataset files the page must fetch.
 */
async function checkRun(opts: ServeOptions, query: URLSearchParams) {
  const claim = query.get('claim') ?? '';
  const tier = query.get('tier') ?? 'fast';
  if (!isTier(tier)) throw new HttpError(400, `unknown tier ${JSON.stringify(tier)}; one of ${TIERS.join(', ')}`);
  const sets: Override[] = query.getAll('set').map((s) => {
    try {
      return parseOverride(s);
    } catch (e) {
      throw new HttpError(400, (e as Error).message);
    }
  });
  const [loaded] = findSpecs([claim], opts.claimsDir);
  const [planned] = planClaims([loaded], { tier, overrides: sets }).claims;
  if (!planned) throw new HttpError(400, `claim ${loaded.id} has no ${tier} tier; it has ${tiersOf(loaded, TIERS).join(', ')}`);
  const { spec } = planned;
  const plan = await ensureDatasets([spec], tier, { dataDir: opts.dataDir, offline: true });
  // serve never downloads (as run --offline): the summary names the fix, `label-leak data fetch`.
  if (plan.skipped.length > 0) throw new HttpError(409, ['label-leak serve does not download datasets.', ...skippedSummary(plan.skipped)].join('\n'));
  await checkClaimData([spec], tier, opts.dataDir);
  return {
    claim: spec.id,
    tier,
    datasets: datasetsOf(planned.tier.params).map((name) => {
      const found = locateDataset(name, { dataDir: opts.dataDir }).found!;
      return {
        name,
        subdir: LAYOUTS[name].subdir,
        files: LAYOUTS[name].files.map((official) => {
          const served = found.paths[official]!.slice(found.dir.length + 1);
          return { official, url: `/data/${name}/${encodeURIComponent(served)}` };
        }),
      };
    }),
  };
}

/** The path of a dataset file to serve, or an HttpError saying why not. */
function datasetFile(dataset: string, name: string, dataDir: string | undefined): string {
  if (!isDatasetName(dataset)) throw new HttpError(404, `no dataset ${JSON.stringify(dataset)}; the datasets are ${Object.keys(LAYOUTS).join(', ')}`);
  const layout = LAYOUTS[dataset];
  const official = layout.files.find((f) => name === f || name === `${f}.gz`);
  if (official === undefined) throw new HttpError(404, `${dataset} has no file ${JSON.stringify(name)}; its files are ${layout.files.join(', ')} (each may end in .gz)`);
  const where = locateDataset(dataset, { dataDir });
  if (!where.found) throw new HttpError(404, new DatasetMissingError(dataset, where.dataDir, where.lookedAt, layout.subdir).message);
  const path = where.found.paths[official];
  if (path === undefined || path.slice(where.found.dir.length + 1) !== name) {
    throw new HttpError(404, `${where.found.dir} (${where.found.why}) has no ${name}; run \`label-leak data verify ${dataset}\` to see what is there`);
  }
  const real = realpathSync(path);
  if (!inside(realpathSync(where.found.dir), real) || !statSync(real).isFile()) {
    throw new HttpError(403, `${path} is a link to ${real}, outside ${where.found.dir}; the server serves only the dataset folder's own files — copy the file in instead of linking it`);
  }
  return real;
}

function send(res: ServerResponse, status: number, type: string, body: string | Uint8Array): void {
  res.writeHead(status, { 'content-type': type, 'content-length': typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength });
  res.end(body);
}

const SECURITY_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  // Nothing from a third party: scripts, data and styles come from this server only.
  // 'unsafe-eval': vega compiles its expressions to functions; 'wasm-unsafe-eval': tfjs-backend-wasm.
  'content-security-policy':
    "default-src 'self'; script-src 'self' 'unsafe-eval' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'",
};

async function handle(opts: ServeOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
  if (opts.loopbackOnly) {
    const p = req.socket.localPort;
    const allowed = [`127.0.0.1:${p}`, `localhost:${p}`, `[::1]:${p}`];
    if (!allowed.includes(req.headers.host ?? '')) throw new HttpError(421, `this server answers to ${allowed.join(', ')}, not Host: ${req.headers.host ?? '(none)'}`);
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, `${req.method} is not served; only GET`);
  const url = req.url ?? '/';
  const segments = pathSegments(url);
  const query = new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '');
  const pagePath = `/${segments.join('/')}`;
  const pageFile = opts.page.get(pagePath);
  if (pageFile) return send(res, 200, pageFile.type, pageFile.body);
  const [head, ...rest] = segments;
  if (head === 'api' && rest.length === 1) {
    if (rest[0] === 'claims') return send(res, 200, JSON_TYPE, JSON.stringify(claimList(opts)));
    if (rest[0] === 'environment') return send(res, 200, JSON_TYPE, JSON.stringify(opts.environment));
    if (rest[0] === 'check') return send(res, 200, JSON_TYPE, JSON.stringify(await checkRun(opts, query)));
  }
  if (head === 'claims' && rest.length === 1 && rest[0].endsWith('.json')) {
    const [spec] = findSpecs([rest[0].slice(0, -'.json'.length)], opts.claimsDir);
    return send(res, 200, JSON_TYPE, readFileSync(spec.file));
  }
  if (head === 'data' && rest.length === 2) {
    const file = datasetFile(rest[0], rest[1], opts.dataDir);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': statSync(file).size });
    if (req.method === 'HEAD') return void res.end();
    await new Promise<void>((resolve, reject) => {
      const stream = createReadStream(file);
      stream.on('error', reject);
      stream.on('end', () => resolve());
      stream.pipe(res);
    });
    return;
  }
  throw new HttpError(404, `nothing is served at ${pagePath}: the page is at /, specs at /claims/<id>.json, data at /data/<dataset>/<file>`);
}

/** How an error reaches the page: the status and the one-line (or CLI-style multi-line) message. */
function statusOf(e: unknown): number {
  if (e instanceof HttpError) return e.status;
  if (e instanceof UnknownClaimError) return 404;
  if (e instanceof MissingTierError || e instanceof SpecError) return 400;
  if (e instanceof DatasetMissingError || e instanceof DataFileError) return 409;
  return 500;
}

export function createServeServer(opts: ServeOptions): Server {
  return createServer((req, res) => {
    handle(opts, req, res).catch((e: unknown) => {
      const status = statusOf(e);
      const message = e instanceof Error ? e.message : String(e);
      if (status === 500) console.error(`label-leak serve: ${req.method} ${req.url}: ${e instanceof Error ? (e.stack ?? message) : message}`);
      if (res.headersSent) return void res.destroy();
      send(res, status, TEXT_TYPE, `${message}\n`);
    });
  });
}
