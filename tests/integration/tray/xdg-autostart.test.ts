// The Linux "Start at login" setting, as the file in a real (temporary) autostart folder.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { XdgAutostart, xdgAutostartPath } from '../../../src-main/services/tray/start-at-login.ts';
import { tempDir } from '../../support/temp.ts';
import { readExec } from '../../unit/tray/desktop-entry.ts';

const temps: (() => void)[] = [];
afterEach(() => temps.splice(0).forEach((cleanup) => cleanup()));

describe('the XDG autostart entry', () => {
  it('is written whole when switched on, read back as on, and removed when switched off', () => {
    const { path, cleanup } = tempDir();
    temps.push(cleanup);
    const file = xdgAutostartPath({ XDG_CONFIG_HOME: path }, '/nonexistent', 'plutarc');
    const autostart = new XdgAutostart(file, 'plutarc', ['/home/ann/plutarc 0.1.0.AppImage']);
    expect(autostart.isEnabled()).toBe(false);

    autostart.setEnabled(true);
    expect(autostart.isEnabled()).toBe(true);
    const entry = readFileSync(file, 'utf8');
    expect(readExec(entry.match(/^Exec=(.*)$/m)![1]!)).toEqual(['/home/ann/plutarc 0.1.0.AppImage']);
    // Only the entry is left: no partial file beside it.
    expect(readdirSync(join(path, 'autostart'))).toEqual(['plutarc.desktop']);

    autostart.setEnabled(true);
    expect(readFileSync(file, 'utf8')).toBe(entry);

    autostart.setEnabled(false);
    expect(existsSync(file)).toBe(false);
    expect(autostart.isEnabled()).toBe(false);
    autostart.setEnabled(false);
  });
});
