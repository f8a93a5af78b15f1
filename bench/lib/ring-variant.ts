/**
 * The ring variant of the call setup benchmark (issue 13): a call to a saved
 * contact, from the callee's Answer tap to the first remote frame on both
 * sides. The caller's offer waits in the room while it rings, as a link
 * call's does while its link travels; unlike a link's Join, Answer also
 * opens the camera (a phone doesn't turn it on while it rings).
 *
 * The two contexts are paired once per benchmark (a link call, both save the
 * contact) and reused: each run reloads both Home pages, Alice taps
 * "Call Bob", and t0 is the click on Bob's Answer.
 */
import type { BrowserContext, Page } from '@playwright/test';
import { newBenchContext, timeline, waitForFirstFrames, waitInPage } from './browser';
import type { BenchEnv, Measured } from './call-variants';

interface Pair {
  alice: Page;
  bob: Page;
  contexts: BrowserContext[];
}

const pairs = new WeakMap<BenchEnv, Promise<Pair>>();
const CONNACK = `window.__tl.some((e) => e.ev === 'ws-in' && e.packets && e.packets.some((p) => p[0] === 2))`;
const settle = (ms: number) => new Promise((r) => setTimeout(r, ms)); // equal quiet time before t0, as in every variant

async function save(page: Page, theirName: string, myName: string): Promise<void> {
  await page.getByRole('button', { name: 'Save contact' }).click();
  await page.getByLabel('Their name').fill(theirName);
  await page.getByLabel('Your name on their phone').fill(myName);
  await page.getByRole('button', { name: 'Save', exact: true }).click();
}

async function pair(env: BenchEnv): Promise<Pair> {
  const contexts = [await newBenchContext(env.browser, env.server.url), await newBenchContext(env.browser, env.server.url)];
  const [alice, bob] = [await contexts[0]!.newPage(), await contexts[1]!.newPage()];
  await alice.goto('/');
  await alice.getByRole('button', { name: 'Start a call' }).click();
  const link = await alice.getByTestId('call-link').textContent({ timeout: env.timeoutMs });
  await bob.goto(link!);
  await bob.getByRole('button', { name: /^Join/ }).click({ timeout: env.timeoutMs });
  await alice.locator('[data-testid=call-screen][data-state=connected]').waitFor({ timeout: env.timeoutMs });
  await save(alice, 'Bob', 'Alice');
  await bob.getByText('Alice saved you as a contact.').waitFor({ timeout: env.timeoutMs });
  await save(bob, 'Alice', 'Bob');
  await alice.getByText('Bob is saved.').waitFor({ timeout: env.timeoutMs });
  for (const p of [alice, bob]) {
    await p.getByRole('button', { name: 'Hang up' }).click();
    await p.getByRole('button', { name: 'Back to start' }).click();
  }
  return { alice, bob, contexts };
}

export async function runRing(env: BenchEnv): Promise<Measured> {
  if (!pairs.has(env)) pairs.set(env, pair(env));
  const { alice: a, bob: b } = await pairs.get(env)!;
  // Fresh pages each run (the instrumentation counts first frames per page load).
  await Promise.all([a.goto('/'), b.goto('/')]);
  const call = a.getByRole('button', { name: 'Call Bob' });
  await call.waitFor({ timeout: env.timeoutMs });
  // Bob's inbox connection is up (its CONNACK): Home listens for rings.
  await waitInPage(b, CONNACK, env.timeoutMs, "callee's inbox connection");
  await call.click();
  await a.locator('[data-testid=call-screen][data-state=ringing]').waitFor({ timeout: env.timeoutMs });
  await waitInPage(a, `window.__pcs.length > 0 && window.__pcs[window.__pcs.length - 1].iceGatheringState === 'complete'`, env.timeoutMs, 'caller gathering');
  const answer = b.getByTestId('incoming-call').getByRole('button', { name: 'Answer' });
  await answer.waitFor({ timeout: env.timeoutMs });
  await settle(env.settleMs);
  await b.evaluate(`addEventListener('click', () => { window.__t0 ??= Date.now(); }, { capture: true })`);
  if (env.mediaTrace) for (const p of [a, b]) await p.evaluate('window.__traceMedia()');
  const before = Date.now();
  await answer.click();
  const [fa, fb] = await Promise.all([waitForFirstFrames(a, 1, env.timeoutMs), waitForFirstFrames(b, 1, env.timeoutMs)]);
  const t0 = (await b.evaluate('window.__t0')) as number;
  const measured: Measured = {
    t0,
    caller: await timeline(a),
    joiner: await timeline(b),
    callerFrame: fa[0]!.t,
    joinerFrame: fb[0]!.t,
    callerReceived: fa[0]!.received,
    joinerReceived: fb[0]!.received,
    offerer: 'caller',
    clickOverheadMs: t0 - before,
  };
  // Each run starts with a fresh page load anyway; hanging up frees the room.
  await a.getByRole('button', { name: 'Hang up' }).click();
  await b.getByRole('button', { name: 'Hang up' }).click();
  return measured;
}
