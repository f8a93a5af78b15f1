import type { Clock } from './ports';

/** Named one-shot timers on an injected clock; setting a name again replaces it. */
export class Timers<N extends string> {
  private handles = new Map<N, unknown>();

  constructor(private readonly clock: Clock) {}

  set(name: N, ms: number, fn: () => void): void {
    this.clear(name);
    this.handles.set(name, this.clock.setTimeout(() => {
      this.handles.delete(name);
      fn();
    }, ms));
  }

  clear(name: N): void {
    const h = this.handles.get(name);
    if (h !== undefined) this.clock.clearTimeout(h);
    this.handles.delete(name);
  }

  clearAll(): void {
    for (const h of this.handles.values()) this.clock.clearTimeout(h);
    this.handles.clear();
  }
}
