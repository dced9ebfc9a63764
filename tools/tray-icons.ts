// `node tools/tray-icons.ts`: draws every tray icon from the one drawing below and writes the PNGs to
// resources/tray/. The same drawing makes the macOS template images (black, shape only: the OS tints
// them) and the colour images for Windows and Linux, so the variants stay alike everywhere.
// Deterministic: the tests draw them again and compare with the committed files.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { TRAY_ICON_FILES } from '../src-main/services/tray/icon-files.ts';
import type { TrayIcon } from '../src-main/services/tray/tray-model.ts';

type Rgb = readonly [number, number, number];

// Colours that read on light and dark task bars alike.
const RING: Rgb = [0x4f, 0x7c, 0xe8];
const RING_IDLE: Rgb = [0x8a, 0x93, 0xa3];
const BADGE: Readonly<Record<TrayIcon, Rgb>> = {
  'all-online': [0x1f, 0xb8, 0x5a],
  'paused-or-deploying': [0xf0, 0x9b, 0x0b],
  'offline-or-error': [0xe5, 0x39, 0x35],
  'api-unreachable': [0x8a, 0x93, 0xa3],
  'no-bots': [0x8a, 0x93, 0xa3],
};
const BLACK: Rgb = [0, 0, 0];

// The drawing, on a 16-unit square: a ring (plutarc's mark) and, bottom right, a badge whose shape
// alone tells the state (a template image has no colour): a dot, a pause sign, a warning triangle, a cross.
const BADGE_X = 11.8;
const BADGE_Y = 11.8;

const distance = (x: number, y: number, cx: number, cy: number) => Math.hypot(x - cx, y - cy);

/** Distance from (x, y) to the segment a–b. */
function segmentDistance(x: number, y: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(x - (ax + t * dx), y - (ay + t * dy));
}

function insideTriangle(x: number, y: number): boolean {
  const [ax, ay, bx, by, cx, cy] = [BADGE_X, 8.0, 15.6, 15.2, 8.0, 15.2];
  const side = (px: number, py: number, qx: number, qy: number) => (qx - px) * (y - py) - (qy - py) * (x - px);
  const s1 = side(ax, ay, bx, by);
  const s2 = side(bx, by, cx, cy);
  const s3 = side(cx, cy, ax, ay);
  return (s1 >= 0 && s2 >= 0 && s3 >= 0) || (s1 <= 0 && s2 <= 0 && s3 <= 0);
}

function insideBadge(icon: TrayIcon, x: number, y: number): boolean {
  switch (icon) {
    case 'all-online':
      return distance(x, y, BADGE_X, BADGE_Y) <= 3.4;
    case 'paused-or-deploying':
      return y >= 8.6 && y <= 15.2 && ((x >= 8.9 && x <= 10.9) || (x >= 12.7 && x <= 14.7));
    case 'offline-or-error':
      return insideTriangle(x, y);
    case 'api-unreachable':
      return (
        segmentDistance(x, y, BADGE_X - 3, BADGE_Y - 3, BADGE_X + 3, BADGE_Y + 3) <= 1.0 ||
        segmentDistance(x, y, BADGE_X - 3, BADGE_Y + 3, BADGE_X + 3, BADGE_Y - 3) <= 1.0
      );
    case 'no-bots':
      return false;
  }
}

/** The colour at a point of the 16-unit square, or null where it is clear. */
function paint(icon: TrayIcon, template: boolean, x: number, y: number): Rgb | null {
  if (insideBadge(icon, x, y)) return template ? BLACK : BADGE[icon];
  // A clear margin around the badge keeps it apart from the ring at 16 px.
  const badgeArea = icon !== 'no-bots' && distance(x, y, BADGE_X, BADGE_Y) <= 5.2;
  const d = distance(x, y, 7.5, 7.5);
  if (!badgeArea && d >= 4.4 && d <= 7.0) return template ? BLACK : icon === 'no-bots' || icon === 'api-unreachable' ? RING_IDLE : RING;
  return null;
}

const SUPERSAMPLING = 4;

/** RGBA pixels, straight (not premultiplied) alpha, anti-aliased by supersampling. */
export function drawTrayIcon(icon: TrayIcon, size: number, template: boolean): Uint8Array {
  const pixels = new Uint8Array(size * size * 4);
  const unit = 16 / size;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let covered = 0;
      const sum = [0, 0, 0];
      for (let sy = 0; sy < SUPERSAMPLING; sy++) {
        for (let sx = 0; sx < SUPERSAMPLING; sx++) {
          const colour = paint(icon, template, (px + (sx + 0.5) / SUPERSAMPLING) * unit, (py + (sy + 0.5) / SUPERSAMPLING) * unit);
          if (!colour) continue;
          covered++;
          for (let c = 0; c < 3; c++) sum[c]! += colour[c]!;
        }
      }
      const at = (py * size + px) * 4;
      if (covered === 0) continue;
      for (let c = 0; c < 3; c++) pixels[at + c] = Math.round(sum[c]! / covered);
      pixels[at + 3] = Math.round((255 * covered) / SUPERSAMPLING ** 2);
    }
  }
  return pixels;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** An 8-bit RGBA PNG of square `size`. */
export function encodePng(pixels: Uint8Array, size: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 6, 0, 0, 0], 8); // 8 bits, RGBA, deflate, no filter choice, not interlaced
  const rows = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    // Each row starts with its filter byte: 0, none.
    rows.set(pixels.subarray(y * size * 4, (y + 1) * size * 4), y * (size * 4 + 1) + 1);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** Every tray image by file name. */
export function renderTrayIcons(): Map<string, Buffer> {
  return new Map(TRAY_ICON_FILES.map((file) => [file.name, encodePng(drawTrayIcon(file.icon, file.size, file.template), file.size)]));
}

export const TRAY_ICON_DIR = join(import.meta.dirname, '..', 'resources', 'tray');

if (import.meta.main) {
  mkdirSync(TRAY_ICON_DIR, { recursive: true });
  for (const [name, png] of renderTrayIcons()) writeFileSync(join(TRAY_ICON_DIR, name), png);
  console.log(`tray icons: wrote ${TRAY_ICON_FILES.length} files to ${TRAY_ICON_DIR}`);
}
