/**
 * The dashboard in real headless Chromium (Debian's): a canary deployment with traffic, a
 * firing alert and drifting inputs, rendered from the page's own polling of `/v2/monitor`.
 * The screenshot lands in test/screenshots/dashboard.png for a person to look at.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createServer, Deployer, loadModel, Monitor, Profile, type Row, readCsv } from '@modelship/node';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { fixturesDir, modelPath } from './fixtures';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const shots = fileURLToPath(new URL('./screenshots/', import.meta.url));

describe('dashboard', () => {
  it('shows health, versions, the traffic split, alerts and drift at a glance', async () => {
    const deployer = new Deployer({
      random: (() => {
        let i = 0;
        return () => (i++ * 0.37) % 1;
      })(),
    });
    await deployer.deploy('fraud', () => loadModel(modelPath('fraud_baseline')), {
      version: '1',
      replace: false,
    });
    await deployer.deploy('fraud', () => loadModel(modelPath('fraud')), {
      version: '2',
      policy: { type: 'canary', weight: 0.3 },
    });
    const monitor = new Monitor({ windowMs: 60_000, intervalMs: 1_000 });
    monitor.attach(deployer);
    const rows: Row[] = [];
    for await (const r of readCsv(`${fixturesDir}data/fraud.csv`)) rows.push(r);
    const features = Array.from({ length: 12 }, (_, i) => `f${i}`);
    monitor.watchDrift('fraud', Profile.fromDataset(rows.slice(0, 250), { exclude: ['label'] }), {
      features,
      windowRows: 200,
    });
    monitor.addAlert({ name: 'slow', metric: 'p99LatencyMs', above: 0.001, minRequests: 10, version: '2' });
    // Live traffic: the held-out rows, with f3 and f7 moved.
    for (const r of rows.slice(250, 450)) {
      const x = features.map((f) => (r[f] as number) + (f === 'f3' || f === 'f7' ? 2.5 : 0));
      await deployer.predict('fraud', { features: [x] });
    }
    monitor.check();
    const server = createServer(deployer, { monitor, serverName: 'fraud service', closeDeployer: true });
    const { url } = await server.listen(0, '127.0.0.1');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(`${url}/dashboard`);
      await page.waitForSelector('.tile');
      await expect.poll(() => page.textContent('#status')).toBe('1 alert firing');
      const text = (await page.textContent('main'))!;
      expect(text).toContain('fraud v1');
      expect(text).toContain('fraud v2');
      expect(text).toContain('fraud traffic split');
      expect(text).toMatch(/■ v1 70%\s+■ v2 30%/);
      expect(text).toContain('fraud version 2: p99LatencyMs is');
      expect(text).toMatch(/200 recent rows · 2 of 12 features drifted/);
      const drifted = await page.$$eval('td b', (els) =>
        els.map((e) => e.closest('tr')!.querySelector('td')!.textContent),
      );
      expect(drifted.sort()).toEqual(['f3 drifted', 'f7 drifted']);
      mkdirSync(shots, { recursive: true });
      await page.screenshot({ path: `${shots}dashboard.png`, fullPage: true });
      expect(readFileSync(`${shots}dashboard.png`).byteLength).toBeGreaterThan(20_000);
    } finally {
      await browser.close();
      await server.close();
    }
  });
});
