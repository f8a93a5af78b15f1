/**
 * A budget for the log lines a client can cause (refusals, dropped
 * connections). Before it, one SUBSCRIBE with 5,000 foreign filters wrote
 * 5,000 info lines, and 20 of them 16 MB (issue 11, "filter flood"). Lines
 * past the budget are counted, not written; the next line that is written
 * carries that count as `suppressed`, so the log still says how much happened.
 *
 * One budget per process, not per client: a flood from many clients must not
 * add up to a log flood either. Metrics count every refusal regardless.
 */
import { TokenBucket, type Clock } from './limits';

/** Lines per second sustained, and burst: far above what honest traffic causes, far below a disk's worth. */
export const DEFAULT_LOG_LINES_PER_SECOND = 20;
export const DEFAULT_LOG_LINES_BURST = 200;

export class LogBudget {
  private readonly bucket: TokenBucket;
  private dropped = 0;

  constructor(perSecond = DEFAULT_LOG_LINES_PER_SECOND, burst = DEFAULT_LOG_LINES_BURST, now?: Clock) {
    this.bucket = new TokenBucket(perSecond, burst, now);
  }

  /**
   * Asks to write one line. Null = don't write it (it is counted); otherwise
   * the number of lines suppressed since the last one written (usually 0),
   * to attach to this line.
   */
  take(): number | null {
    if (!this.bucket.take()) {
      this.dropped += 1;
      return null;
    }
    const suppressed = this.dropped;
    this.dropped = 0;
    return suppressed;
  }
}
