/// <reference lib="webworker" />
/**
 * Service worker: precaches the app shell from the build manifest (no
 * hand-written file list) and serves navigations from it, so the app opens
 * offline. /mqtt, /config.json and other API routes are never cached.
 */
import { clientsClaim } from 'workbox-core';
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { listenForPushes } from './push';

declare const self: ServiceWorkerGlobalScope & { __WB_MANIFEST: Array<{ url: string; revision: string | null }> };

// The first install controls the open page at once, so it works offline
// without a reload. Updates still wait for the page's SKIP_WAITING (below).
clientsClaim();
cleanupOutdatedCaches();
precacheAndRoute(self.__WB_MANIFEST);

const NEVER_CACHE = [/^\/mqtt/, /^\/config\.json/, /^\/healthz/, /^\/metrics/, /^\/api\//];
registerRoute(new NavigationRoute(createHandlerBoundToURL('/index.html'), { denylist: NEVER_CACHE }));

// The page decides when to update (never during a call): it sends SKIP_WAITING.
self.addEventListener('message', (event) => {
  if ((event.data as { type?: string } | null)?.type === 'SKIP_WAITING') void self.skipWaiting();
});

// Rings for saved contacts while the app is closed (push.ts).
listenForPushes();
