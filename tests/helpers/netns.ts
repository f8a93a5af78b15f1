/**
 * A throwaway network namespace joined to the root namespace by a veth pair,
 * so one browser can be cut off from the other for real (nftables drops its
 * UDP, i.e. the media path) while everything stays inside this machine.
 * Everything made here is named uniquely and removed by destroy().
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromiumPath } from './chromium';

export interface Netns {
  name: string;
  /** Our address on the root side of the veth (the server listens here). */
  hostIp: string;
  nsIp: string;
  /** The veth ends: in the root namespace, and inside ours (tests/netlab shapes both). */
  hostIf: string;
  nsIf: string;
  /** An executable that starts Chromium inside the namespace (use as executablePath). */
  chromium: string;
  /** Drops all UDP in and out of the namespace: media stops, signaling (TCP) stays. */
  cutMedia(): void;
  restoreMedia(): void;
  destroy(): void;
}

const run = (cmd: string, args: string[], input?: string) => execFileSync(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], input });

export function createNetns(ip: string, nft: string): Netns {
  const id = `${process.pid % 1000}${Math.floor(Math.random() * 1000)}`;
  const name = `tandem${id}`;
  const host = `tdh${id}`;
  const inner = `tdn${id}`;
  const subnet = 10 + (Number(id) % 200); // 10.213.<subnet>.0/30: only ever on this veth pair
  const hostIp = `10.213.${subnet}.1`;
  const nsIp = `10.213.${subnet}.2`;
  const dir = mkdtempSync(join(tmpdir(), 'tandem-netns-'));
  const inNs = (...args: string[]) => run(ip, ['netns', 'exec', name, ...args]);
  const destroy = () => {
    try {
      run(ip, ['netns', 'del', name]); // also removes the veth pair
    } catch {
      /* already gone */
    }
    try {
      run(ip, ['link', 'del', host]);
    } catch {
      /* removed with the namespace */
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    run(ip, ['netns', 'add', name]);
    run(ip, ['link', 'add', host, 'type', 'veth', 'peer', 'name', inner]);
    run(ip, ['link', 'set', inner, 'netns', name]);
    run(ip, ['addr', 'add', `${hostIp}/30`, 'dev', host]);
    run(ip, ['link', 'set', host, 'up']);
    inNs(ip, 'addr', 'add', `${nsIp}/30`, 'dev', inner);
    inNs(ip, 'link', 'set', inner, 'up');
    inNs(ip, 'link', 'set', 'lo', 'up');
    inNs(ip, 'route', 'add', 'default', 'via', hostIp);
  } catch (e) {
    destroy();
    throw e;
  }
  const chromium = join(dir, 'chromium-in-netns.sh');
  writeFileSync(chromium, `#!/bin/sh\nexec ${ip} netns exec ${name} ${chromiumPath()} "$@"\n`);
  chmodSync(chromium, 0o755);
  const table = 'tandem_cut';
  return {
    name,
    hostIp,
    nsIp,
    hostIf: host,
    nsIf: inner,
    chromium,
    cutMedia: () => {
      const rules = `table inet ${table} {
        chain in { type filter hook input priority 0; policy accept; meta l4proto udp drop; }
        chain out { type filter hook output priority 0; policy accept; meta l4proto udp drop; }
      }`;
      run(ip, ['netns', 'exec', name, nft, '-f', '-'], rules);
    },
    restoreMedia: () => {
      inNs(nft, 'delete', 'table', 'inet', table);
    },
    destroy,
  };
}
