/**
 * Build-time trims of mqtt.js's prebuilt bundle (vite.config.ts), kept apart
 * so a unit test can hold them to what they promise.
 *
 * mqtt.js logs through the `debug` module (`this.log("handlePublish ::
 * received unexpected topic alias. alias: %d", alias)`): 131 calls, ~6 KB of
 * text before gzip, printed only when someone sets localStorage.debug =
 * 'mqttjs*', which a production page never does (`npm run dev` serves the
 * bundle untouched for that). Their texts are emptied; the calls, their
 * other arguments and every other string stay.
 */
const LOG_TEXT = /\.log\("(?:[^"\\]|\\.)*"/g;

/** Fewer than this means mqtt.js changed shape: the build stops instead of quietly growing. */
export const MIN_MQTT_LOG_CALLS = 100;

export function quietMqttLogs(code: string): { code: string; calls: number } {
  let calls = 0;
  const out = code.replace(LOG_TEXT, () => (calls++, '.log(""'));
  return { code: out, calls };
}
