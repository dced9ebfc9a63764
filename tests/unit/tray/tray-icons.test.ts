// The committed tray images, read back as PNG: the sizes each platform needs, template images that are
// black with alpha, and files that are exactly what the one drawing in tools/tray-icons.ts makes.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { TRAY_ICON_FILES, trayIconFileName } from '../../../src-main/services/tray/icon-files.ts';
import { TRAY_ICONS } from '../../../src-main/services/tray/tray-model.ts';
import { renderTrayIcons } from '../../../tools/tray-icons.ts';
import { ROOT } from '../../support/build.ts';

const DIR = join(ROOT, 'resources', 'tray');

/** Width, height and RGBA pixels of an 8-bit RGBA PNG, undoing every row filter the format allows. */
function readPng(file: Buffer): { width: number; height: number; colourType: number; bitDepth: number; pixels: Uint8Array } {
  expect([...file.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  let offset = 8;
  let header: Buffer | null = null;
  const data: Buffer[] = [];
  while (offset < file.length) {
    const length = file.readUInt32BE(offset);
    const type = file.toString('ascii', offset + 4, offset + 8);
    const body = file.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') header = body;
    if (type === 'IDAT') data.push(body);
    offset += 12 + length;
  }
  if (!header) throw new Error('no IHDR');
  const width = header.readUInt32BE(0);
  const height = header.readUInt32BE(4);
  const bitDepth = header[8]!;
  const colourType = header[9]!;
  const raw = inflateSync(Buffer.concat(data));
  const stride = width * 4;
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    for (let x = 0; x < stride; x++) {
      const byte = raw[y * (stride + 1) + 1 + x]!;
      const a = x >= 4 ? pixels[y * stride + x - 4]! : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + x]! : 0;
      const c = x >= 4 && y > 0 ? pixels[(y - 1) * stride + x - 4]! : 0;
      const paeth = () => {
        const p = a + b - c;
        const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      };
      const predictor = [0, a, b, (a + b) >> 1, paeth()][filter]!;
      pixels[y * stride + x] = (byte + predictor) & 0xff;
    }
  }
  return { width, height, colourType, bitDepth, pixels };
}

describe('the tray images', () => {
  it('exist for every icon: a template pair for macOS and a colour pair for Windows and Linux, at 16 and 32 px', () => {
    expect(TRAY_ICON_FILES).toHaveLength(TRAY_ICONS.length * 4);
    for (const file of TRAY_ICON_FILES) {
      const path = join(DIR, file.name);
      expect(existsSync(path), file.name).toBe(true);
      const png = readPng(readFileSync(path));
      expect({ width: png.width, height: png.height, colourType: png.colourType, bitDepth: png.bitDepth }, file.name).toEqual({
        width: file.size,
        height: file.size,
        colourType: 6,
        bitDepth: 8,
      });
    }
    for (const icon of TRAY_ICONS) {
      expect(trayIconFileName(icon, 'darwin')).toBe(`${icon}Template.png`);
      for (const platform of ['win32', 'linux'] as const) expect(trayIconFileName(icon, platform)).toBe(`${icon}.png`);
      expect(existsSync(join(DIR, `${icon}Template@2x.png`))).toBe(true);
      expect(existsSync(join(DIR, `${icon}@2x.png`))).toBe(true);
    }
  });

  it('are black with alpha on macOS, coloured elsewhere, and never empty or fully opaque', () => {
    for (const file of TRAY_ICON_FILES) {
      const { pixels } = readPng(readFileSync(join(DIR, file.name)));
      let drawn = 0;
      let clear = 0;
      let coloured = 0;
      for (let i = 0; i < pixels.length; i += 4) {
        const alpha = pixels[i + 3]!;
        if (alpha > 0) drawn++;
        else clear++;
        if (pixels[i]! > 0 || pixels[i + 1]! > 0 || pixels[i + 2]! > 0) coloured++;
      }
      expect(drawn, file.name).toBeGreaterThan(file.size);
      expect(clear, file.name).toBeGreaterThan(file.size);
      if (file.template) expect(coloured, `${file.name} has colour`).toBe(0);
      else expect(coloured, file.name).toBeGreaterThan(0);
    }
  });

  it('tell the states apart by shape alone (the template images have no colour)', () => {
    const templates = TRAY_ICON_FILES.filter((file) => file.template && file.size === 16).map((file) => readFileSync(join(DIR, file.name)).toString('base64'));
    expect(new Set(templates).size).toBe(TRAY_ICONS.length);
  });

  it('are exactly what tools/tray-icons.ts draws from its one source', () => {
    const drawn = renderTrayIcons();
    expect([...drawn.keys()].sort()).toEqual(TRAY_ICON_FILES.map((file) => file.name).sort());
    for (const [name, png] of drawn) expect(readFileSync(join(DIR, name)).equals(png), `${name}: run node tools/tray-icons.ts`).toBe(true);
  });

  it('are packaged beside the app, where the tray adapter looks for them', () => {
    const config = parse(readFileSync(join(ROOT, 'electron-builder.yml'), 'utf8')) as { extraResources?: { from: string; to: string }[] };
    expect(config.extraResources).toContainEqual({ from: 'resources/tray', to: 'tray' });
    expect(readFileSync(join(ROOT, 'src-main/electron/tray.ts'), 'utf8')).toContain("join(process.resourcesPath, 'tray')");
  });
});
