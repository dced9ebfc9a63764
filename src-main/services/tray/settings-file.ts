// The app's own settings on this device (today: the notification switches), in `settings.json` beside the
// local cache. Read through zod: a file edited by hand or cut short by a crash gives the defaults, never a
// half-read setting; written whole and renamed into place, so a crash never leaves half a file.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { DEFAULT_NOTIFICATION_SETTINGS, NotificationSettings } from '../../../src-shared/notifications.ts';
import { ServiceError } from '../errors.ts';

const StoredSettings = z.object({
  version: z.literal(1),
  notifications: NotificationSettings,
  /** The one-time hint that closing the window leaves plutarc in the tray was given. */
  closeHintShown: z.boolean().default(false),
});
type StoredSettings = z.infer<typeof StoredSettings>;

export interface LocalSettings {
  notifications: NotificationSettings;
  closeHintShown: boolean;
}

export const DEFAULT_LOCAL_SETTINGS: LocalSettings = { notifications: DEFAULT_NOTIFICATION_SETTINGS, closeHintShown: false };

/** Where the settings live between runs; `null` keeps them for this run only (no data folder). */
export class SettingsFile {
  private readonly path: string | null;
  private readonly log: (message: string) => void;
  private current: LocalSettings;

  constructor(path: string | null, log: (message: string) => void = () => {}) {
    this.path = path;
    this.log = log;
    this.current = this.load();
  }

  read(): LocalSettings {
    return this.current;
  }

  write(settings: LocalSettings): void {
    const stored: StoredSettings = { version: 1, notifications: NotificationSettings.parse(settings.notifications), closeHintShown: settings.closeHintShown };
    if (this.path) {
      try {
        mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
        const partial = `${this.path}.partial`;
        writeFileSync(partial, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 });
        renameSync(partial, this.path);
      } catch (error) {
        const reason = (error as NodeJS.ErrnoException).code ?? 'unknown error';
        throw new ServiceError('settings_not_saved', `Could not save the settings in ${this.path} (${reason}). Check that the folder can be written, then try again.`);
      }
    }
    this.current = { notifications: stored.notifications, closeHintShown: stored.closeHintShown };
  }

  private load(): LocalSettings {
    if (!this.path) return DEFAULT_LOCAL_SETTINGS;
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.log(`settings: could not read ${this.path}; using the defaults`);
      return DEFAULT_LOCAL_SETTINGS;
    }
    let parsed: ReturnType<typeof StoredSettings.safeParse>;
    try {
      parsed = StoredSettings.safeParse(JSON.parse(text));
    } catch {
      parsed = StoredSettings.safeParse(null);
    }
    if (!parsed.success) {
      this.log(`settings: ${this.path} is not a settings file plutarc wrote; using the defaults`);
      return DEFAULT_LOCAL_SETTINGS;
    }
    return { notifications: parsed.data.notifications, closeHintShown: parsed.data.closeHintShown };
  }
}
