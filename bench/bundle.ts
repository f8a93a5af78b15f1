/**
 * Benchmark 4 (issue 7): what a phone downloads, gzip-compressed (level 9, as
 * broker/static.ts serves it).
 *
 *   shell  = what index.html loads before Home can render: its entry script,
 *            every chunk that script imports statically (recursively, read
 *            from the chunks themselves) or that index.html modulepreloads,
 *            and its stylesheets;
 *   lazy   = every other chunk under assets/, loaded by a dynamic import()
 *            (the call page, mqtt.js, …), with the chunk that imports it.
 *
 *   npm run bench:bundle            # builds dist/ first if it is missing
 *   npm run bench:bundle -- --dist path/to/dist --smoke
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, posix } from 'node:path';
import { gzipSync } from 'node:zlib';
import { REPO } from '../tests/helpers/server';
import { machine, machineLine, table } from './lib/report';
import { parseBenchArgs, runIfMain, saveReport } from './lib/runner';

export interface FileSize {
  file: string;
  bytes: number;
  gzip: number;
  /** For lazy chunks: the chunks that import() it. */
  importedBy?: string[];
}

export interface BundleReport {
  shell: FileSize[];
  lazy: FileSize[];
  shellGzip: number;
  lazyGzip: number;
}

// Rolldown writes minified chunks: `import{a as e}from"./x.js";`, `import(`./y.js`)` (backticks too).
const STATIC_IMPORT = /(?:^|[;}\n])\s*(?:import|export)\s*(?:[\w*{}\s,$]+from\s*)?["'`]([^"'`]+)["'`]/g;
const DYNAMIC_IMPORT = /import\(\s*["'`]([^"'`]+)["'`]\s*\)/g;

function matches(re: RegExp, text: string): string[] {
  return [...text.matchAll(re)].map((m) => m[1] ?? '').filter((s) => s !== '');
}

/** `/assets/x.js` or `./x.js` relative to `from` (a dist-relative path) → dist-relative path. */
function resolveIn(from: string, spec: string): string | null {
  if (/^[a-z]+:/i.test(spec)) return null;
  if (spec.startsWith('/')) return spec.slice(1);
  if (!spec.startsWith('.')) return null;
  return posix.normalize(posix.join(posix.dirname(from), spec));
}

export function measureBundle(dist: string): BundleReport {
  const html = readFileSync(join(dist, 'index.html'), 'utf8');
  const attr = (tag: string, name: string): string | null => new RegExp(`\\s${name}=["']([^"']+)["']`).exec(tag)?.[1] ?? null;
  const tags = html.match(/<(script|link)\b[^>]*>/g) ?? [];
  const roots = new Set<string>();
  for (const tag of tags) {
    const src = tag.startsWith('<script') && /type=["']module["']/.test(tag) ? attr(tag, 'src') : null;
    const rel = tag.startsWith('<link') ? attr(tag, 'rel') : null;
    const href = rel === 'modulepreload' || rel === 'stylesheet' ? attr(tag, 'href') : null;
    const path = src ?? href;
    if (path) roots.add(resolveIn('index.html', path) ?? path);
  }
  if (![...roots].some((r) => r.endsWith('.js'))) throw new Error(`no module entry script in ${join(dist, 'index.html')}`);

  const read = (file: string): Buffer => readFileSync(join(dist, file));
  const assets = readdirSync(join(dist, 'assets')).filter((f) => f.endsWith('.js')).map((f) => `assets/${f}`);
  const edges = (file: string, re: RegExp): string[] =>
    matches(re, read(file).toString('utf8'))
      .map((spec) => resolveIn(file, spec))
      .filter((t): t is string => t !== null && existsSync(join(dist, t)));

  const shell = new Set<string>();
  const visit = (file: string): void => {
    if (shell.has(file) || !existsSync(join(dist, file))) return;
    shell.add(file);
    if (file.endsWith('.js')) for (const target of edges(file, STATIC_IMPORT)) visit(target);
  };
  for (const root of roots) visit(root);

  // Who loads each lazy chunk: an import() anywhere, or a static import from another lazy chunk.
  const importers = new Map<string, Set<string>>();
  const note = (from: string, to: string, how: string): void => {
    if (shell.has(to)) return;
    const set = importers.get(to) ?? new Set<string>();
    set.add(`${how} ${from.replace(/^assets\//, '')}`);
    importers.set(to, set);
  };
  for (const file of assets) {
    for (const target of edges(file, DYNAMIC_IMPORT)) note(file, target, 'import() in');
    if (!shell.has(file)) for (const target of edges(file, STATIC_IMPORT)) note(file, target, 'static in');
  }

  const size = (file: string): FileSize => {
    const body = read(file);
    return { file, bytes: body.length, gzip: gzipSync(body, { level: 9 }).length };
  };
  const shellSizes = [...shell].map(size);
  const lazy = assets
    .filter((f) => !shell.has(f))
    .map((f) => ({ ...size(f), importedBy: [...(importers.get(f) ?? [])] }));
  const total = (xs: FileSize[]): number => xs.reduce((n, x) => n + x.gzip, 0);
  return { shell: shellSizes, lazy, shellGzip: total(shellSizes), lazyGzip: total(lazy) };
}

const kib = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;


export function main(argv: string[]): BundleReport {
  const args = parseBenchArgs(argv, { dist: join(REPO, 'dist') });
  if (!existsSync(join(args.dist, 'index.html'))) {
    console.error(`${args.dist} has no build: running vite build`);
    execFileSync('npx', ['vite', 'build'], { cwd: REPO, stdio: 'inherit' });
  }
  const report = measureBundle(args.dist);
  const m = machine();
  console.log(`\nBundle benchmark · ${machineLine(m)} · ${args.dist}`);
  console.log('gzip -9 sizes; "shell" is what index.html needs before Home renders, "lazy" loads on demand.\n');
  const row = (kind: string, f: FileSize): string[] => [kind, f.file, kib(f.bytes), kib(f.gzip), f.importedBy?.join(', ') ?? ''];
  console.log(
    table(
      ['part', 'file', 'raw', 'gzip', 'imported by'],
      [
        ...report.shell.map((f) => row('shell', f)),
        ['shell total', '', kib(report.shell.reduce((n, f) => n + f.bytes, 0)), kib(report.shellGzip), ''],
        ...report.lazy.map((f) => row('lazy', f)),
        ['lazy total', '', kib(report.lazy.reduce((n, f) => n + f.bytes, 0)), kib(report.lazyGzip), ''],
      ],
    ),
  );
  saveReport('bundle', { machine: m, dist: args.dist, ...report }, args.json);
  return report;
}

runIfMain(import.meta, main);
