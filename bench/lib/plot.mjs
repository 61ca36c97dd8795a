// Renders the results as a PNG: throughput relative to the floor and p99 per scenario, drawn as SVG
// and photographed by headless Chromium (already used by the UI tests).
import { createRequire } from 'node:module';
import { join } from 'node:path';

const escape = (text) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function bars(title, rows, value, format, max, colour) {
  const height = 26;
  const width = 360;
  const items = rows.map((r, i) => {
    const v = value(r);
    const w = v === null ? 0 : Math.max(1, Math.round((Math.min(v, max) / max) * width));
    return `<text x="0" y="${i * height + 17}" font-size="13">${escape(r.name)}</text>
      <rect x="250" y="${i * height + 4}" width="${w}" height="18" fill="${colour}"/>
      <text x="${256 + w}" y="${i * height + 17}" font-size="12">${v === null ? 'n/a' : format(v)}</text>`;
  }).join('');
  return `<h3 style="font:600 15px sans-serif;margin:8px 0">${title}</h3><svg width="700" height="${rows.length * height + 8}" font-family="sans-serif">${items}</svg>`;
}

export async function plot(root, rows, file, subtitle) {
  const require = createRequire(join(root, 'package.json'));
  const { chromium } = require('playwright-core');
  const html = `<html><body style="margin:16px;background:#fff">
    <h2 style="font:700 18px sans-serif;margin:0">prefect-auth-proxy benchmark</h2>
    <div style="font:12px sans-serif;color:#555">${subtitle}</div>
    ${bars('Throughput, % of the pass-through floor (higher is better)', rows, (r) => r.ratio === null ? null : r.ratio * 100, (v) => `${v.toFixed(0)} %`, 120, '#2f6fdd')}
    ${bars('p99 latency, ms (lower is better)', rows, (r) => r.p99, (v) => `${v.toFixed(2)} ms`, Math.max(...rows.map((r) => r.p99 ?? 0), 1), '#dd7a2f')}
  </body></html>`;
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'] });
  const page = await browser.newPage({ viewport: { width: 760, height: 200 } });
  await page.setContent(html);
  await page.screenshot({ path: file, fullPage: true });
  await browser.close();
}
