import { spawn } from 'node:child_process';

/** Opens a URL in the user's browser where there is a desktop to show it; says whether it tried. */
export function openInBrowser(url: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const [command, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '""', url]]
        : env.DISPLAY || env.WAYLAND_DISPLAY
          ? ['xdg-open', [url]]
          : [null, []];
  if (!command) return false;
  const child = spawn(command, args, { stdio: 'ignore', detached: true });
  child.on('error', () => {});
  child.unref();
  return true;
}
