/**
 * What every benchmark shares: percentiles, /proc readings of another
 * process, plain-text tables, and the JSON file in bench/results/.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

/** The p-th percentile (0..100) of already sorted values, nearest-rank. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function sortedCopy(values: Iterable<number>): Float64Array {
  return Float64Array.from(values).sort();
}

/** Resident set size of a process in KiB (VmRSS in /proc/<pid>/status). */
export function rssKiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]);
}

/** Linux clock ticks per second (`getconf CLK_TCK`); 100 on every kernel Debian ships. */
const CLK_TCK = 100;

/** CPU time (user + system) a process has used so far, in ms, from /proc/<pid>/stat. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / CLK_TCK;
}

export interface Machine {
  date: string;
  nproc: number;
  cpu: string;
  memoryGiB: number;
  node: string;
  /** 1-minute load average when the run started: other work on the machine skews every number. */
  loadAverage: number;
}

export function machine(): Machine {
  return {
    date: new Date().toISOString(),
    nproc: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadAverage: Math.round(loadavg()[0]! * 100) / 100,
  };
}

export function machineLine(m: Machine = machine()): string {
  const busy = m.loadAverage > m.nproc / 2 ? ` (BUSY: other processes compete for the cores; treat the numbers as rough)` : '';
  return `${m.date.slice(0, 10)} · nproc ${m.nproc} (${m.cpu}) · ${m.memoryGiB} GiB · Node ${m.node} · load average ${m.loadAverage}${busy}`;
}

/** A table with a header row; numbers are right-aligned, text left-aligned. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? formatNumber(c) : c)))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const numeric = header.map((_, i) => rows.every((r) => typeof r[i] === 'number' || /^[\d.,×%x-]+( \S+)?$/.test(String(r[i] ?? ''))));
  const line = (r: string[]): string =>
    `| ${r.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (numeric[i] ? `${'-'.repeat(w + 1)}:` : `-${'-'.repeat(w)}-`)).join('|')}|`;
  return [line(cells[0]!), rule, ...cells.slice(1).map(line)].join('\n');
}

export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return '–';
  if (Number.isInteger(n)) return n.toLocaleString('en-US');
  if (Math.abs(n) >= 100) return Math.round(n).toLocaleString('en-US');
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

/** Writes bench/results/<name>-<YYYY-MM-DD>.json (or `path`) and returns the path. */
export function writeResults(name: string, data: unknown, path?: string): string {
  const file = path ?? join(RESULTS_DIR, `${name}-${new Date().toISOString().slice(0, 10)}.json`);
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
  return file;
}

/** `--name value` / `--flag` parsing; unknown flags are an error so a typo doesn't run the default silently. */
export function parseArgs<T extends Record<string, string | boolean>>(argv: string[], defaults: T): T {
  const out: Record<string, string | boolean> = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument "${arg}"`);
    const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
    if (!(name in defaults)) throw new Error(`unknown option --${name}; known: ${Object.keys(defaults).map((k) => `--${k}`).join(' ')}`);
    if (typeof defaults[name] === 'boolean') out[name] = inline === undefined ? true : inline !== 'false';
    else out[name] = inline ?? argv[++i] ?? '';
  }
  return out as T;
}

export function positiveInt(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive whole number, got "${value}"`);
  return n;
}
