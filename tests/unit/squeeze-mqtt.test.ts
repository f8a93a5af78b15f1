/** The build's trim of mqtt.js (scripts/squeeze-mqtt.ts): log texts emptied, nothing else touched. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIN_MQTT_LOG_CALLS, quietMqttLogs } from '../../scripts/squeeze-mqtt';

describe('quietMqttLogs', () => {
  it('empties the text of each .log("...") call, escaped quotes included, and leaves its arguments and every other string', () => {
    const code = 'this.log("handlePublish :: topic %s",t),n.log("say \\"hi\\" %d",1);console.warn("keep me");a.logger("keep");x="this.log";';
    const { code: out, calls } = quietMqttLogs(code);
    expect(calls).toBe(2);
    expect(out).toBe('this.log("",t),n.log("",1);console.warn("keep me");a.logger("keep");x="this.log";');
  });

  it("finds mqtt.js's log calls in the installed bundle (the build refuses fewer than the minimum)", () => {
    const bundle = readFileSync(join(dirname(createRequire(import.meta.url).resolve('mqtt/package.json')), 'dist/mqtt.esm.js'), 'utf8');
    const { code, calls } = quietMqttLogs(bundle);
    expect(calls).toBeGreaterThanOrEqual(MIN_MQTT_LOG_CALLS);
    expect(code.length).toBeLessThan(bundle.length - 4_000);
    expect(code).not.toMatch(/\.log\("[^"]/);
  });
});
