/**
 * Bundle budget, run by `npm test` on the production build (gzip sizes):
 *   the JS needed to render Home ≤ 35 KB, all JS ≤ 150 KB, each locale ≤ 8 KB.
 * "Needed for Home" = the entry chunk and everything it imports statically,
 * read from Vite's build manifest; lazy chunks (the call page, mqtt.js) are not.
 * A locale chunk (app/i18n/de.ts, fr.ts…; English is in Home) is budgeted on
 * its own and left out of "All JS": a person downloads at most one of them.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';

export const BUDGET = { homeJs: 35 * 1024, allJs: 150 * 1024, localeJs: 8 * 1024 };

/** The sources of locale chunks, as the manifest names them (relative to the app root). */
const LOCALE_SRC = /(^|\/)i18n\/[a-z]{2}\.ts$/;

interface ManifestChunk {
  file: string;
  src?: string;
  isEntry?: boolean;
  imports?: string[];
  dynamicImports?: string[];
}

const gz = (path: string) => gzipSync(readFileSync(path), { level: 9 }).length;

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

export interface BundleSizes {
  homeFiles: Array<{ file: string; gzip: number }>;
  lazyFiles: Array<{ file: string; gzip: number }>;
  localeFiles: Array<{ file: string; gzip: number }>;
  homeJs: number;
  allJs: number;
}

export function bundleSizes(dist: string): BundleSizes {
  const manifest = JSON.parse(readFileSync(join(dist, '.vite', 'manifest.json'), 'utf8')) as Record<string, ManifestChunk>;
  const entry = Object.entries(manifest).find(([, c]) => c.isEntry && c.file.endsWith('.js'));
  if (!entry) throw new Error('no JS entry in the build manifest');
  const home = new Set<string>();
  const visit = (key: string) => {
    const chunk = manifest[key];
    if (!chunk || home.has(chunk.file)) return;
    home.add(chunk.file);
    for (const k of chunk.imports ?? []) visit(k);
  };
  visit(entry[0]);
  // The service worker is not page JS; every chunk under assets/ is.
  const js = walk(join(dist, 'assets')).filter((f) => f.endsWith('.js'));
  const sized = js.map((f) => ({ file: relative(dist, f), gzip: gz(f) }));
  const locales = new Set(Object.values(manifest).filter((c) => c.src && LOCALE_SRC.test(c.src)).map((c) => c.file));
  const homeFiles = sized.filter((s) => home.has(s.file));
  const localeFiles = sized.filter((s) => !home.has(s.file) && locales.has(s.file));
  const lazyFiles = sized.filter((s) => !home.has(s.file) && !locales.has(s.file));
  const sum = (xs: Array<{ gzip: number }>) => xs.reduce((n, x) => n + x.gzip, 0);
  return { homeFiles, lazyFiles, localeFiles, homeJs: sum(homeFiles), allJs: sum(homeFiles) + sum(lazyFiles) };
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;

if (import.meta.url === `file://${process.argv[1]}`) {
  const dist = process.argv[2] ?? 'dist';
  const s = bundleSizes(dist);
  for (const f of s.homeFiles) console.log(`  home  ${kb(f.gzip).padStart(9)}  ${f.file}`);
  for (const f of s.lazyFiles) console.log(`  lazy  ${kb(f.gzip).padStart(9)}  ${f.file}`);
  const lines: Array<readonly [string, number, number]> = [
    [`Home JS`, s.homeJs, BUDGET.homeJs],
    [`All JS (without locales)`, s.allJs, BUDGET.allJs],
    ...s.localeFiles.map((f) => [`Locale ${f.file}`, f.gzip, BUDGET.localeJs] as const),
  ];
  let over = false;
  for (const [name, size, budget] of lines) {
    const ok = size <= budget;
    over ||= !ok;
    console.log(`${ok ? 'ok  ' : 'OVER'} ${name}: ${kb(size)} gzip (budget ${kb(budget)})`);
  }
  if (over) {
    console.error('Bundle budget exceeded: see the sizes above.');
    process.exit(1);
  }
}
