/**
 * Reads a V8 .cpuprofile (`node --cpu-prof`) and says where the time went:
 * self time per function and per package, the view that finds a slow hook
 * or a hot JSON.parse quickly without opening DevTools.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface Hotspot {
  name: string;
  selfMs: number;
  share: number;
}

/** "node_modules/aedes/lib/x.js" → "aedes"; our files by top directory; V8/Node internals by kind. */
export function ownerOf(url: string, functionName: string): string {
  if (url === '') return functionName === '(garbage collector)' ? '(gc)' : functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return url.replace(/^node:(internal\/)?/, 'node:').split('/')[0]!;
  const ours = /\/(broker|protocol)\//.exec(url);
  return ours ? `${ours[1]}/` : url;
}

export function summarizeProfile(file: string, top = 15): { total: number; functions: Hotspot[]; owners: Hotspot[] } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  // Prefer sample timing (µs per sample) over hit counts: samples are not evenly spaced.
  if (profile.samples && profile.timeDeltas) {
    for (let i = 0; i < profile.samples.length; i++) {
      const id = profile.samples[i]!;
      self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0));
    }
  } else {
    const interval = (profile.endTime - profile.startTime) / Math.max(1, profile.nodes.reduce((n, x) => n + (x.hitCount ?? 0), 0));
    for (const n of profile.nodes) self.set(n.id, (n.hitCount ?? 0) * interval);
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0) / 1000;
  const functions = new Map<string, number>();
  const owners = new Map<string, number>();
  for (const [id, us] of self) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url === '' ? '' : ` ${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(broker|protocol)\//, '$1/')}:${lineNumber + 1}`;
    const name = `${functionName || '(anonymous)'}${where}`;
    functions.set(name, (functions.get(name) ?? 0) + us / 1000);
    const owner = ownerOf(url, functionName);
    owners.set(owner, (owners.get(owner) ?? 0) + us / 1000);
  }
  const rank = (m: Map<string, number>): Hotspot[] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, selfMs]) => ({ name, selfMs, share: selfMs / total }));
  return { total, functions: rank(functions), owners: rank(owners) };
}
