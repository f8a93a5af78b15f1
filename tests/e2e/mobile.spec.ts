import { writeFileSync } from 'node:fs';
import { devices, type Page } from '@playwright/test';
import { expect, expectFramesFlowing, expectState, joinCall, newContext, startCall, test } from './fixtures';

type Box = { name: string; x: number; y: number; width: number; height: number };

async function controlBoxes(page: Page): Promise<{ boxes: Box[]; viewport: { width: number; height: number } }> {
  return page.evaluate(() => {
    const boxes = [...document.querySelectorAll('button')]
      .filter((b) => b.offsetParent !== null)
      .map((b) => {
        const r = b.getBoundingClientRect();
        return { name: b.getAttribute('aria-label') ?? b.textContent ?? '', x: r.x, y: r.y, width: r.width, height: r.height };
      });
    return { boxes, viewport: { width: innerWidth, height: innerHeight } };
  });
}

const overlaps = (a: Box, b: Box) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

const phones = {
  'Pixel 7': devices['Pixel 7'],
  'iPhone 15': devices['iPhone 15'],
  'small 360×640': { ...devices['Pixel 7'], viewport: { width: 360, height: 640 } },
};

for (const [name, descriptor] of Object.entries(phones)) {
  test(`call screen on ${name}: nothing overlaps or is cut off, every button ≥ 44×44`, async ({ browser, server, peer }, testInfo) => {
    const { defaultBrowserType: _ignored, ...options } = descriptor as typeof descriptor & { defaultBrowserType?: string };
    const ctx = await newContext(browser, server.url, options);
    try {
      const phone = await ctx.newPage();
      const link = await startCall(phone);
      const other = await peer();
      await joinCall(other, link);
      await expectState(phone, 'connected');
      await expectFramesFlowing(phone, 5);
      for (const orientation of ['portrait', 'landscape'] as const) {
        if (orientation === 'landscape') {
          const { width, height } = options.viewport!;
          await phone.setViewportSize({ width: height, height: width });
        }
        const shot = await phone.screenshot();
        await testInfo.attach(`${name}-${orientation}.png`, { body: shot, contentType: 'image/png' });
        // SCREENSHOT_DIR=... keeps the pictures for a person to look at.
        if (process.env.SCREENSHOT_DIR) writeFileSync(`${process.env.SCREENSHOT_DIR}/${name}-${orientation}.png`.replace(/ /g, '_'), shot);
        const { boxes, viewport } = await controlBoxes(phone);
        expect(boxes.map((b) => b.name)).toEqual(expect.arrayContaining(['Mute microphone', 'Camera off', 'Switch camera', 'Hang up']));
        for (const b of boxes) {
          expect(b.width, `${b.name} width`).toBeGreaterThanOrEqual(44);
          expect(b.height, `${b.name} height`).toBeGreaterThanOrEqual(44);
          expect(b.x >= 0 && b.y >= 0 && b.x + b.width <= viewport.width && b.y + b.height <= viewport.height, `${b.name} inside the screen`).toBe(true);
        }
        for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
          expect(overlaps(boxes[i]!, boxes[j]!), `${boxes[i]!.name} overlaps ${boxes[j]!.name}`).toBe(false);
        }
        // Rotating re-lays out; it does not reconnect anything.
        await expectState(phone, 'connected');
      }
    } finally {
      await ctx.close();
    }
  });
}
