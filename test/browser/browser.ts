import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { panelBuildState } from '../../web/build-state.ts';

/**
 * Shared plumbing for the browser suite: the panel build, Debian's Chromium through playwright-core,
 * an axe-core scan and a focus-visibility probe.
 */

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
];

/** Runs the suite when Chromium is there; when CI requires it (REQUIRE_BROWSER=1) it runs anyway and fails. */
export function browserSuiteEnabled(): boolean {
  return existsSync(CHROMIUM_PATH) || process.env.REQUIRE_BROWSER === '1';
}

/** Builds web/dist when it is missing, older than its sources, or a development build (about a second with Vite). */
export function ensurePanelBuilt(): void {
  // The same check `npm start` makes (web/build-state.ts).
  if (panelBuildState(ROOT) === 'fresh') return;
  const r = spawnSync(
    process.execPath,
    [
      join(ROOT, 'node_modules/vite/bin/vite.js'),
      'build',
      '--config',
      'web/vite.config.ts',
      '--logLevel',
      'warn',
    ],
    {
      cwd: ROOT,
      // vitest sets NODE_ENV=test, which Vite would honour with a development React build.
      env: { ...process.env, NODE_ENV: 'production' },
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  if (r.status !== 0) throw new Error(`panel build failed (${r.status}): ${r.stderr || r.stdout}`);
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH} (REQUIRE_BROWSER=1): install it (apt-get install -y chromium) or set CHROMIUM_PATH`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: 30_000 });
}

let axeSource: string | null = null;

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/**
 * Runs axe-core in the page. The script goes in through the DevTools protocol (page.evaluate),
 * not a <script> tag, so the panel's Content-Security-Policy stays on while it is scanned.
 */
export async function axeScan(page: Page): Promise<AxeViolation[]> {
  axeSource ??= readFileSync(join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8');
  const loaded = await page.evaluate(
    () => typeof (window as unknown as { axe?: unknown }).axe !== 'undefined',
  );
  if (!loaded) await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run(
            ctx: Document,
            opts: unknown,
          ): Promise<{
            violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[];
          }>;
        };
      }
    ).axe;
    const r = await axe.run(document, {
      runOnly: {
        type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'],
      },
    });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => n.target.join(' ')),
    }));
  });
}

export interface FocusProbe {
  testId: string | null;
  /** The element or, for a visually hidden switch input, its drawn track: outline width in px. */
  outlineWidth: number;
  outlineStyle: string;
  focusVisible: boolean;
  /** The focus ring's box is on screen (not a zero-size or clipped element). */
  boxWidth: number;
  boxHeight: number;
}

/** What the focused element looks like: is there a focus ring a sighted keyboard user can see? */
export function probeFocus(page: Page): Promise<FocusProbe | null> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el || el === document.body) return null;
    // The opt-in switches hide the native checkbox and draw the ring on the track next to it.
    const drawn = el.matches('.switch input') ? (el.nextElementSibling as HTMLElement) : el;
    const cs = getComputedStyle(drawn);
    const box = drawn.getBoundingClientRect();
    return {
      testId: el.closest('[data-testid]')?.getAttribute('data-testid') ?? null,
      outlineWidth: parseFloat(cs.outlineWidth) || 0,
      outlineStyle: cs.outlineStyle,
      focusVisible: el.matches(':focus-visible'),
      boxWidth: box.width,
      boxHeight: box.height,
    };
  });
}

/** Horizontal overflow of the document: scrollWidth beyond the viewport, in px (0 = no horizontal scroll). */
export function horizontalOverflow(page: Page): Promise<{ overflow: number; culprits: string[] }> {
  return page.evaluate(() => {
    const doc = document.documentElement;
    const overflow = Math.max(doc.scrollWidth, document.body.scrollWidth) - doc.clientWidth;
    const culprits: string[] = [];
    if (overflow > 0) {
      for (const el of Array.from(document.querySelectorAll<HTMLElement>('body *'))) {
        const r = el.getBoundingClientRect();
        if (r.right > doc.clientWidth + 1 && r.width > 0) {
          culprits.push(
            `${el.tagName.toLowerCase()}.${el.className || ''}[${el.getAttribute('data-testid') ?? ''}] right=${Math.round(r.right)}`,
          );
          if (culprits.length >= 8) break;
        }
      }
    }
    return { overflow, culprits };
  });
}
