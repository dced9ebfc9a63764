// "Start at login": macOS and Windows keep login items themselves (Electron's login-item settings);
// Electron's API does nothing on Linux, where desktops start what `~/.config/autostart/` lists (XDG).
import { mkdirSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

export type StartAtLoginMethod = 'login-item' | 'xdg-autostart' | 'unsupported';

export function startAtLoginMethod(platform: NodeJS.Platform): StartAtLoginMethod {
  if (platform === 'darwin' || platform === 'win32') return 'login-item';
  if (platform === 'linux') return 'xdg-autostart';
  return 'unsupported';
}

/** `$XDG_CONFIG_HOME/autostart/<name>.desktop`, `~/.config` when the variable is unset or not absolute. */
export function xdgAutostartPath(env: { XDG_CONFIG_HOME?: string | undefined }, home: string, name: string): string {
  const configured = env.XDG_CONFIG_HOME;
  const configHome = configured && configured.startsWith('/') ? configured : join(home, '.config');
  return join(configHome, 'autostart', `${name}.desktop`);
}

// Characters that make the Desktop Entry spec require an argument to be quoted.
const RESERVED = /[\s"'\\><~|&;$*?#()`]/;

/** One argument of an `Exec=` line, quoted and escaped as the Desktop Entry spec asks. */
export function execArgument(arg: string): string {
  // A line break would end the key; nothing legitimate (a path to the app) contains one.
  if (/[\r\n]/.test(arg)) throw new Error('an autostart command cannot contain a line break');
  const fieldCodesEscaped = arg.replaceAll('%', '%%');
  if (!RESERVED.test(fieldCodesEscaped)) return fieldCodesEscaped;
  const quoted = `"${fieldCodesEscaped.replace(/["`$\\]/g, (c) => `\\${c}`)}"`;
  // The string-value escape applies after quoting: every backslash is written twice again.
  return quoted.replaceAll('\\', '\\\\');
}

/** The autostart entry that starts `command` (the app's executable and its arguments) at login. */
export function xdgAutostartEntry(appName: string, command: readonly string[]): string {
  return [
    '[Desktop Entry]',
    'Type=Application',
    `Name=${appName}`,
    'Comment=Watches your bots from the tray',
    `Exec=${command.map(execArgument).join(' ')}`,
    'Terminal=false',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n');
}

/** The Linux setting, as the file that holds it. */
export class XdgAutostart {
  private readonly file: string;
  private readonly entry: string;

  constructor(file: string, appName: string, command: readonly string[]) {
    this.file = file;
    this.entry = xdgAutostartEntry(appName, command);
  }

  isEnabled(): boolean {
    return existsSync(this.file);
  }

  setEnabled(enabled: boolean): void {
    if (!enabled) {
      rmSync(this.file, { force: true });
      return;
    }
    mkdirSync(dirname(this.file), { recursive: true });
    // Written whole then renamed, so a desktop session never reads half an entry.
    const partial = `${this.file}.partial`;
    writeFileSync(partial, this.entry, { mode: 0o644 });
    renameSync(partial, this.file);
  }
}
