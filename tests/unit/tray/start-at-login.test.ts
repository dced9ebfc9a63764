import { describe, expect, it } from 'vitest';
import { execArgument, startAtLoginMethod, xdgAutostartEntry, xdgAutostartPath } from '../../../src-main/services/tray/start-at-login.ts';
import { readExec } from './desktop-entry.ts';

describe('start at login', () => {
  it('uses login items on macOS and Windows, an autostart entry on Linux, and nothing elsewhere', () => {
    expect(startAtLoginMethod('darwin')).toBe('login-item');
    expect(startAtLoginMethod('win32')).toBe('login-item');
    expect(startAtLoginMethod('linux')).toBe('xdg-autostart');
    expect(startAtLoginMethod('freebsd')).toBe('unsupported');
  });

  it('finds the autostart folder from XDG_CONFIG_HOME, or ~/.config', () => {
    expect(xdgAutostartPath({ XDG_CONFIG_HOME: '/cfg' }, '/home/ann', 'plutarc')).toBe('/cfg/autostart/plutarc.desktop');
    expect(xdgAutostartPath({}, '/home/ann', 'plutarc')).toBe('/home/ann/.config/autostart/plutarc.desktop');
    // The spec ignores a relative value.
    expect(xdgAutostartPath({ XDG_CONFIG_HOME: 'cfg' }, '/home/ann', 'plutarc')).toBe('/home/ann/.config/autostart/plutarc.desktop');
  });

  it.each([
    '/opt/plutarc/plutarc',
    '/home/ann/Apps/plutarc 0.1.0.AppImage',
    '/home/ann/"quoted" $HOME `x` back\\slash/100%/plutarc',
    "/tmp/it's;here&|now>(x)*?#~",
  ])('writes %s so a desktop reads it back the same', (path) => {
    const entry = xdgAutostartEntry('plutarc', [path, '--from-login']);
    const exec = entry.split('\n').find((line) => line.startsWith('Exec='))!.slice('Exec='.length);
    expect(readExec(exec)).toEqual([path, '--from-login']);
    expect(entry.split('\n')[0]).toBe('[Desktop Entry]');
    expect(entry).toContain('Type=Application\n');
  });

  it('refuses a command with a line break, which would add keys to the entry', () => {
    expect(() => execArgument('/opt/plutarc\nHidden=true')).toThrow(/line break/);
  });
});
