/**
 * An impaired link for one network namespace (tests/helpers/netns.ts): a
 * bandwidth cap with tc tbf on both ends of its veth (so both directions are
 * capped) and random loss of UDP (the media; signaling is TCP) with nftables.
 * netem is not in this kernel, so there is no added fixed delay: tbf's
 * queue (up to `latency`) is the only delay, as on a congested mobile link.
 * See tests/netlab/README.md.
 */
import { execFileSync } from 'node:child_process';
import type { Netns } from '../helpers/netns';

export interface Impairment {
  /** Cap in each direction, kbit/s; null = unlimited. */
  rateKbit: number | null;
  /** Random UDP loss in each direction, percent (0–100). */
  lossPct: number;
}

export interface LabTools {
  ip: string;
  tc: string;
  nft: string;
}

/** How long tbf may queue a packet before it drops it: a mobile link's buffer. */
export const QUEUE_MS = 400;

const run = (cmd: string, args: string[], input?: string) => execFileSync(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], input });

/**
 * Loss is applied where packets arrive (input hooks): inside the namespace
 * for what comes in, and in the root namespace for what arrives from our
 * veth. Dropping in an output hook is not loss: the sender's socket gets
 * EPERM and Chromium learns about it (a 5 % output drop cost no audio at all).
 */
export class ImpairedLink {
  private current: Impairment = { rateKbit: null, lossPct: 0 };
  /** Unique per namespace, since the root-side table lives in the shared root namespace. */
  private readonly table: string;

  constructor(
    private readonly ns: Netns,
    private readonly tools: LabTools,
  ) {
    this.table = `${ns.name}_loss`;
  }

  get impairment(): Impairment {
    return this.current;
  }

  private inNs(cmd: string, args: string[], input?: string) {
    return run(this.tools.ip, ['netns', 'exec', this.ns.name, cmd, ...args], input);
  }

  /** Replaces whatever was set before (`rateKbit: null, lossPct: 0` is a clean link). */
  set(next: Impairment): void {
    if (next.rateKbit !== this.current.rateKbit) this.shape(next.rateKbit);
    if (next.lossPct !== this.current.lossPct) this.loss(next.lossPct);
    this.current = { ...next };
  }

  private shape(rateKbit: number | null): void {
    const ends: Array<(args: string[]) => void> = [
      (args) => run(this.tools.tc, args), // root side: traffic into the namespace
      (args) => this.inNs(this.tools.tc, args), // namespace side: traffic out of it
    ];
    const devs = [this.ns.hostIf, this.ns.nsIf];
    ends.forEach((tc, i) => {
      if (rateKbit === null) {
        try {
          tc(['qdisc', 'del', 'dev', devs[i]!, 'root']);
        } catch {
          /* no qdisc of ours */
        }
        return;
      }
      // burst: two full-size packets (a token bucket smaller than one MTU would stall).
      tc(['qdisc', 'replace', 'dev', devs[i]!, 'root', 'tbf', 'rate', `${rateKbit}kbit`, 'burst', '3200', 'latency', `${QUEUE_MS}ms`]);
    });
  }

  private loss(pct: number): void {
    const nft = this.tools.nft;
    const del = (f: (args: string[]) => unknown) => {
      try {
        f(['delete', 'table', 'inet', this.table]);
      } catch {
        /* not there */
      }
    };
    del((a) => this.inNs(nft, a));
    del((a) => run(nft, a));
    if (pct <= 0) return;
    const drop = `meta l4proto udp numgen random mod 100 < ${Math.round(pct)} drop`;
    // Into the namespace: everything arriving on its veth.
    this.inNs(nft, ['-f', '-'], `table inet ${this.table} {\n chain in { type filter hook input priority 0; policy accept; iifname "${this.ns.nsIf}" ${drop}; }\n}\n`);
    // Out of it: what arrives in the root namespace from our veth, and only that.
    run(nft, ['-f', '-'], `table inet ${this.table} {\n chain in { type filter hook input priority 0; policy accept; iifname "${this.ns.hostIf}" ${drop}; }\n}\n`);
  }

  /** Back to a clean link. Call it before the namespace's destroy(): the root-side table outlives the namespace. */
  clear(): void {
    this.set({ rateKbit: null, lossPct: 0 });
  }
}
