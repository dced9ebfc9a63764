// The layout of the bot image (built by tools/build-image.ts, run by the docker driver): where node, the bundled bot,
// the scratch folders and the egress socket are inside it, and the user it runs as. One place, so the image and the
// containers made from it agree.
import { BOT_BUNDLE_DIR } from '../bot-bundle.ts';

export const IN_IMAGE = {
  node: '/usr/bin/node',
  /** The app folder: the bundle sits at the same path below it as below the project (`out/bot`). */
  app: '/app',
  home: '/home/bot',
  tmp: '/tmp',
  /** The folder the egress proxy's socket is bound into (the folder, so a restarted proxy's new socket shows too). */
  egressDir: '/run/plutarc',
  egressSocket: '/run/plutarc/egress.sock',
  /** Numeric, so no passwd file is needed and no name can map to root. */
  uid: 65_532,
  gid: 65_532,
} as const;

/** Where the bundle is inside the image. */
export const IMAGE_BOT_DIR = `${IN_IMAGE.app}/${BOT_BUNDLE_DIR}`;

/**
 * The command a bot container runs: the image's node (an instance command's executable is the orchestrator host's)
 * with the runtime options (an instance's are the planner's heap caps: in argv, as in the local sandbox, since they
 * are never secret), then the program below the app folder and its arguments.
 */
export function imageCommand(entry: string, args: readonly string[], nodeOptions: readonly string[]): string[] {
  return [IN_IMAGE.node, ...nodeOptions, `${IN_IMAGE.app}/${entry}`, ...args];
}

/** The tag the build script gives the image unless told otherwise. */
export const DEFAULT_BOT_IMAGE = 'plutarc/bot:local';
