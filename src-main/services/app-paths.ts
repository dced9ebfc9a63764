import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The per-user folder where the local stack keeps its data, as each OS expects it;
 * PLUTARC_DATA_DIR overrides it (tests, portable installs).
 */
export function userDataDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  if (env.PLUTARC_DATA_DIR) return env.PLUTARC_DATA_DIR;
  switch (platform) {
    case 'darwin':
      return join(home, 'Library', 'Application Support', 'plutarc');
    case 'win32':
      return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'plutarc');
    default:
      return join(env.XDG_DATA_HOME || join(home, '.local', 'share'), 'plutarc');
  }
}
