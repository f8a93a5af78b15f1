/**
 * Saved contacts and ringing, end to end: two people in two persistent
 * browser contexts have a call, both save the contact, hang up, and from then
 * on ring each other from Home through the real server.
 */
import type { BrowserContext, Page } from '@playwright/test';
import mqtt from 'mqtt';
import { importContactKey, inboxTopic, newContactKey, newPeerToken, newRingId, newSecret, peerIdOf, PROTOCOL_VERSION, seal, toBase64Url, type InboxId } from '../../protocol/index';
import { startServer, type ServerProcess } from '../helpers/server';
import { expect, expectFramesFlowing, expectState, hangUp, joinCall, newContext, startCall, test } from './fixtures';

test.describe.configure({ mode: 'serial' });

let server: ServerProcess;
let contexts: BrowserContext[] = [];
let alice: Page;
let bob: Page;
const logs: string[] = [];

test.beforeAll(async ({ browser }) => {
  server = await startServer();
  for (const name of ['alice', 'bob']) {
    const ctx = await newContext(browser, server.url);
    // The no-answer case waits 4 s instead of 30.
    await ctx.addInitScript(() => localStorage.setItem('tandem.ringTimeoutMs', '4000'));
    contexts.push(ctx);
    const page = await ctx.newPage();
    page.on('console', (m) => logs.push(`[${name}] ${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => logs.push(`[${name}] pageerror: ${e.message}`));
    if (name === 'alice') alice = page;
    else bob = page;
  }
});

test.afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  contexts = [];
  await server?.stop();
});

test.afterEach(async ({}, testInfo) => {
  if (testInfo.status !== testInfo.expectedStatus) console.log(logs.join('\n'));
  logs.length = 0;
});

async function save(page: Page, theirName: string | null, myName: string): Promise<void> {
  await page.getByRole('button', { name: 'Save contact' }).click();
  if (theirName !== null) await page.getByLabel('Their name').fill(theirName);
  await page.getByLabel('Your name on their phone').fill(myName);
  await page.getByRole('button', { name: 'Save', exact: true }).click();
}

/** Records whether the incoming-call screen ever appears (even for a moment). */
async function watchIncoming(page: Page): Promise<() => Promise<boolean>> {
  await page.evaluate(() => {
    const w = window as unknown as { __incoming: boolean };
    w.__incoming = false;
    new MutationObserver(() => {
      if (document.querySelector('[data-testid="incoming-call"]')) w.__incoming = true;
    }).observe(document.body, { subtree: true, childList: true });
  });
  return () => page.evaluate(() => (window as unknown as { __incoming: boolean }).__incoming);
}

test('a call, then both save each other: each Home lists the other with a Call button', async () => {
  const link = await startCall(alice);
  await joinCall(bob, link);
  await expectState(alice, 'connected');
  await expectState(bob, 'connected');
  await save(alice, 'Bob', 'Alice');
  // Bob's phone hears it at once, and his form suggests her own name.
  await expect(bob.getByText('Alice saved you as a contact.')).toBeVisible();
  await bob.getByRole('button', { name: 'Save contact' }).click();
  await expect(bob.getByLabel('Their name')).toHaveValue('Alice');
  await bob.getByLabel('Your name on their phone').fill('Bob');
  await bob.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(alice.getByText('Bob is saved.')).toBeVisible();
  await expect(bob.getByText('Alice is saved.')).toBeVisible();
  await hangUp(alice);
  await hangUp(bob);
  await expect(alice.getByRole('button', { name: 'Call Bob' })).toBeVisible();
  await expect(bob.getByRole('button', { name: 'Call Alice' })).toBeVisible();
  // Contacts live on the device only: the server never saw a name.
  expect(server.output()).not.toMatch(/"(Alice|Bob)"/);
});

test('Call Bob rings his phone within 2 s; Answer connects both with video', async () => {
  await alice.getByRole('button', { name: 'Call Bob' }).click();
  await expectState(alice, 'ringing');
  await expect(alice.getByText('Calling Bob…')).toBeVisible();
  const incoming = bob.getByTestId('incoming-call');
  await expect(incoming).toBeVisible({ timeout: 2_000 });
  await expect(incoming).toContainText('Alice');
  await expect(bob.getByTestId('ringtone')).toHaveJSProperty('paused', false);
  await incoming.getByRole('button', { name: 'Answer' }).click();
  await expectState(bob, 'connected');
  await expectState(alice, 'connected');
  await expectFramesFlowing(alice, 5);
  await expectFramesFlowing(bob, 5);
  // A call between saved contacts doesn't offer to save them again.
  await expect(bob.getByRole('button', { name: 'Save contact' })).toHaveCount(0);
  await hangUp(alice);
  await hangUp(bob);
  await expect(bob.getByRole('button', { name: 'Call Alice' })).toBeVisible();
});

test("Decline: the caller hears that Bob can't talk now", async () => {
  await expect(alice.getByRole('button', { name: 'Call Bob' })).toBeVisible();
  await alice.getByRole('button', { name: 'Call Bob' }).click();
  await bob.getByTestId('incoming-call').getByRole('button', { name: 'Decline' }).click();
  await expectState(alice, 'declined');
  await expect(alice.getByText("Bob can't talk now")).toBeVisible();
  await expect(bob.getByTestId('incoming-call')).toBeHidden();
  await alice.getByRole('button', { name: 'Back to start' }).click();
});

test('no answer: the caller sees no-answer, the callee a missed call with Call back', async () => {
  await alice.getByRole('button', { name: 'Call Bob' }).click();
  await expect(bob.getByTestId('incoming-call')).toBeVisible();
  await expectState(alice, 'no-answer', 10_000);
  await expect(bob.getByTestId('incoming-call')).toBeHidden();
  await expect(bob.getByTestId('missed-call')).toContainText('Missed call');
  await expect(bob.getByRole('button', { name: 'Call back' })).toBeVisible();
  await alice.getByRole('button', { name: 'Back to start' }).click();
});

test('a forged ring to Bob\'s inbox is dropped; a genuine one still rings', async () => {
  const seen = await watchIncoming(bob);
  // Bob's inbox for Alice, as someone who learned it (but not its key) would publish to it.
  const inbox = await bob.evaluate(
    () =>
      new Promise<string>((resolve, reject) => {
        const req = indexedDB.open('tandem-contacts');
        req.onsuccess = () => {
          const all = req.result.transaction('contacts').objectStore('contacts').getAll();
          all.onsuccess = () => resolve((all.result as Array<{ id: string }>)[0]!.id);
          all.onerror = () => reject(all.error);
        };
        req.onerror = () => reject(req.error);
      }),
  );
  const token = newPeerToken();
  const forger = await mqtt.connectAsync(`${server.url.replace(/^http/, 'ws')}/mqtt`, { clientId: `inbox.${await peerIdOf(token)}`, username: 'inbox', password: token, reconnectPeriod: 0 });
  const forged = { v: PROTOCOL_VERSION, type: 'ring', id: newRingId(), at: Date.now(), secret: newSecret() };
  await forger.publishAsync(inboxTopic(inbox as InboxId), Buffer.from(await seal(await importContactKey(newContactKey()), inboxTopic(inbox as InboxId), JSON.stringify(forged))), { qos: 1 });
  await forger.endAsync();
  // Then Alice rings for real: the incoming screen shows her, and it is the first one Bob saw.
  await alice.getByRole('button', { name: 'Call Bob' }).click();
  await expect(bob.getByTestId('incoming-call')).toContainText('Alice');
  // Had the forged ring been shown, Bob's phone would be busy and have turned Alice's ring away.
  await expectState(alice, 'ringing');
  await bob.getByRole('button', { name: 'Decline' }).click();
  await expectState(alice, 'declined');
  expect(logs.filter((l) => l.startsWith('[bob]') && l.includes('inbox message dropped'))).toHaveLength(1);
  expect(await seen()).toBe(true);
  await alice.getByRole('button', { name: 'Back to start' }).click();
});

/** A contact record from a page's IndexedDB (app/contacts/store.ts). */
function contactRecord(page: Page): Promise<{ id: string; theirInbox: string; theirKey: string }> {
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const req = indexedDB.open('tandem-contacts');
        req.onsuccess = () => {
          const all = req.result.transaction('contacts').objectStore('contacts').getAll();
          all.onsuccess = () => resolve(all.result[0]);
          all.onerror = () => reject(all.error);
        };
        req.onerror = () => reject(req.error);
      }),
  );
}

test("Bob's app closed: a push rings with Answer and Decline, a forged push shows nothing, and Answer opens the call", async () => {
  const ctx = bob.context();
  await ctx.grantPermissions(['notifications'], { origin: server.url });
  await bob.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
  const worker = ctx.serviceWorkers()[0] ?? (await ctx.waitForEvent('serviceworker'));
  // What Alice's app seals a ring with: Bob's inbox for her, and its key.
  const forBob = await contactRecord(alice);
  await bob.close();
  // Not a window of the app: Bob's app is closed, only its service worker runs.
  const blank = await ctx.newPage();
  const cdp = await ctx.newCDPSession(blank);
  const registrationId = new Promise<string>((resolve) =>
    cdp.on('ServiceWorker.workerRegistrationUpdated', (e: { registrations: Array<{ registrationId: string; scopeURL: string }> }) => {
      const r = e.registrations.find((x) => x.scopeURL.startsWith(server.url));
      if (r) resolve(r.registrationId);
    }),
  );
  await cdp.send('ServiceWorker.enable');
  const deliver = async (key: string, body: object) => {
    const topic = inboxTopic(forBob.theirInbox as InboxId);
    const sealed = await seal(await importContactKey(key), topic, JSON.stringify(body));
    const data = JSON.stringify({ i: forBob.theirInbox, m: toBase64Url(sealed) });
    await cdp.send('ServiceWorker.deliverPushMessage', { origin: server.url, registrationId: await registrationId, data });
  };
  const notifications = () =>
    worker.evaluate(async () =>
      (await (self as unknown as ServiceWorkerGlobalScope).registration.getNotifications()).map((n) => ({
        title: n.title,
        tag: n.tag,
        actions: ((n as unknown as { actions: Array<{ title: string }> }).actions ?? []).map((a) => a.title),
      })),
    );
  // Alice calls; Bob's closed app can only be reached by push.
  await alice.getByRole('button', { name: 'Call Bob' }).click();
  await expectState(alice, 'ringing');
  const secret = new URL(alice.url()).hash.slice(1);
  await deliver(newContactKey(), { v: PROTOCOL_VERSION, type: 'ring', id: newRingId(), at: Date.now(), secret: newSecret() });
  const ringId = newRingId();
  await deliver(forBob.theirKey, { v: PROTOCOL_VERSION, type: 'ring', id: ringId, at: Date.now(), secret });
  await expect.poll(notifications).toEqual([{ title: 'Alice is calling', tag: ringId, actions: ['Answer', 'Decline'] }]);
  // Answer opens the app into the call (the URL the notification opens).
  bob = await ctx.newPage();
  await bob.goto(`/call?answer#${secret}`);
  await expectState(bob, 'connected');
  await expectState(alice, 'connected');
  await expectFramesFlowing(bob, 5);
  await blank.close();
  await hangUp(alice);
  await hangUp(bob);
});

test('after Bob removes Alice, her rings never show on his phone', async () => {
  await bob.getByRole('button', { name: 'Remove Alice' }).click();
  await expect(bob.getByRole('button', { name: 'Call Alice' })).toHaveCount(0);
  const seen = await watchIncoming(bob);
  await alice.getByRole('button', { name: 'Call Bob' }).click();
  await expectState(alice, 'ringing');
  await expectState(alice, 'no-answer', 10_000);
  expect(await seen()).toBe(false);
});
