import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';
import solid from 'vite-plugin-solid';
import { minimal2023Preset } from '@vite-pwa/assets-generator/config';
import { minify } from 'terser';
import { MIN_MQTT_LOG_CALLS, quietMqttLogs } from './scripts/squeeze-mqtt';

// Maskable and Apple icons get a full-bleed background in the brand colour
// (launchers crop them to circles or squircles), not the default white.
const iconPreset = {
  ...minimal2023Preset,
  maskable: { ...minimal2023Preset.maskable, resizeOptions: { background: '#0f766e' } },
  apple: { ...minimal2023Preset.apple, resizeOptions: { background: '#0f766e' } },
};

/**
 * mqtt.js ships one prebuilt, already minified bundle (~96 KB gz, most of the
 * 150 KB budget). Two things take ~2.5 KB off it; our own code keeps the
 * default minifier: the texts of its debug log calls are emptied
 * (scripts/squeeze-mqtt.ts, ~1.5 KB), and Terser's whole-module passes go
 * where the default minifier stops (~1 KB).
 */
const squeezeMqtt = {
  name: 'tandem:squeeze-mqtt',
  apply: 'build' as const,
  async renderChunk(code: string, chunk: { fileName: string }) {
    if (!/mqtt\.esm/.test(chunk.fileName)) return null;
    const quiet = quietMqttLogs(code);
    if (quiet.calls < MIN_MQTT_LOG_CALLS) throw new Error(`tandem:squeeze-mqtt: ${quiet.calls} mqtt.js log calls found, expected ${MIN_MQTT_LOG_CALLS} or more: check scripts/squeeze-mqtt.ts against this mqtt.js`);
    const out = await minify(quiet.code, { module: true, toplevel: true, compress: { passes: 3 }, format: { comments: false } });
    return out.code ? { code: out.code, map: null } : null;
  },
};

export default defineConfig({
  root: 'app',
  publicDir: 'public',
  // manifest: scripts/check-size.ts reads it to know which chunks Home needs.
  build: { outDir: '../dist', emptyOutDir: true, target: 'es2022', sourcemap: false, manifest: true },
  server: { proxy: { '/mqtt': { target: 'ws://127.0.0.1:3000', ws: true }, '/config.json': 'http://127.0.0.1:3000' } },
  plugins: [
    solid(),
    squeezeMqtt,
    VitePWA({
      strategies: 'injectManifest',
      srcDir: '../sw',
      filename: 'sw.ts',
      injectRegister: false,
      registerType: 'prompt',
      injectManifest: { globPatterns: ['**/*.{js,css,html,svg,png,ico}'] /* the plugin adds the manifest itself */ },
      // Every icon (192, 512, maskable, Apple touch) is generated from this one SVG at build time.
      pwaAssets: { image: 'public/icon.svg', preset: iconPreset, includeHtmlHeadLinks: true, overrideManifestIcons: true, injectThemeColor: false },
      manifest: {
        name: 'Tandem video calls',
        short_name: 'Tandem',
        description: 'Quick, private two-person video calls from your phone.',
        // A manifest has one language: browsers don't pick a translation per person (README "Languages").
        // English, and 'auto' so the name and description are laid out by their own script's direction.
        lang: 'en',
        // The manifest spec allows 'auto'; vite-plugin-pwa's type lists only ltr/rtl.
        dir: 'auto' as 'ltr',
        display: 'standalone',
        start_url: '/',
        scope: '/',
        theme_color: '#0f766e',
        background_color: '#0b1416',
        icons: [],
      },
    }),
  ],
});
