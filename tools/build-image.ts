// `node tools/build-image.ts [tag] [archive]`: builds the bot image offline with buildah, FROM scratch: the node binary
// and exactly the shared libraries ldd lists for it, the bundled bot (tools/bundle-bot.ts), empty mount points for
// the scratch folders and the egress socket, and nothing else: no shell, no package manager, no passwd file. It runs
// as a numeric non-root user and keeps nothing writable of its own (containers mount a read-only root with tmpfs
// home and /tmp). The image is written as a docker-archive file (what `podman save` writes) for `docker load`, and
// its size printed.
//
// buildah's storage and its containers.conf live in a temp folder of this script, removed at the end: the machine's
// own container storage and settings are never touched.
import { execFile } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { DEFAULT_BOT_IMAGE, IMAGE_BOT_DIR, IN_IMAGE, imageCommand } from '../src-orchestrator/docker/image.ts';
import { BOT_BUNDLE_ENTRY, BOT_NODE_OPTIONS } from '../src-orchestrator/bot-bundle.ts';
import { sharedLibraries } from '../src-orchestrator/local/sandbox.ts';
import { bundleBot } from './bundle-bot.ts';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..');

export interface BotImage {
  tag: string;
  /** The docker-archive file holding the image. */
  archive: string;
  /** Bytes of the image's one layer, uncompressed: what it takes in an engine's storage. */
  layerBytes: number;
  /** The libraries copied in, as ldd listed them. */
  libraries: string[];
}

/** Podman and buildah read this; crun fails on some hosts (this build machine), runc works everywhere here. */
const CONTAINERS_CONF = `[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
`;

function sizeOfTree(path: string): number {
  const info = statSync(path, { throwIfNoEntry: false });
  if (!info) return 0;
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const entry of readdirSync(path)) total += sizeOfTree(join(path, entry));
  return total;
}

/** `appFiles`: more files of the project (relative paths) placed at the same path below the app folder: tests' stand-in bots. */
export async function buildBotImage(options: { tag?: string; archive?: string; node?: string; appFiles?: readonly string[] } = {}): Promise<BotImage> {
  const tag = options.tag ?? DEFAULT_BOT_IMAGE;
  const archive = options.archive ?? join(ROOT, 'out', 'image', 'plutarc-bot.tar');
  const node = realpathSync(options.node ?? process.execPath);
  const work = mkdtempSync(join(tmpdir(), 'plutarc-image-'));
  const confFile = join(work, 'containers.conf');
  writeFileSync(confFile, CONTAINERS_CONF);
  const env = { ...process.env, CONTAINERS_CONF: confFile };
  const buildah = (...args: string[]) =>
    run('buildah', ['--root', join(work, 'storage'), '--runroot', join(work, 'run'), '--storage-driver', 'vfs', ...args], { env, maxBuffer: 16 * 1024 * 1024 });
  try {
    // The root filesystem, staged in a folder first so every mode is exactly as meant.
    const rootfs = join(work, 'rootfs');
    const place = (source: string, target: string) => {
      mkdirSync(dirname(join(rootfs, target)), { recursive: true });
      cpSync(realpathSync(source), join(rootfs, target));
    };
    place(node, IN_IMAGE.node);
    const libraries = await sharedLibraries(node);
    for (const library of libraries) place(library, library);
    await bundleBot({ dir: join(rootfs, IMAGE_BOT_DIR) });
    for (const file of options.appFiles ?? []) place(join(ROOT, file), join(IN_IMAGE.app, file));
    for (const dir of [IN_IMAGE.home, IN_IMAGE.egressDir]) mkdirSync(join(rootfs, dir), { recursive: true, mode: 0o755 });
    mkdirSync(join(rootfs, IN_IMAGE.tmp), { recursive: true });
    chmodSync(join(rootfs, IN_IMAGE.tmp), 0o1777);

    const container = (await buildah('from', 'scratch')).stdout.trim();
    await buildah('copy', '--chown', '0:0', container, `${rootfs}/`, '/');
    await buildah(
      'config',
      '--user',
      `${IN_IMAGE.uid}:${IN_IMAGE.gid}`,
      '--env',
      `HOME=${IN_IMAGE.home}`,
      '--env',
      `TMPDIR=${IN_IMAGE.tmp}`,
      '--env',
      `PATH=${dirname(IN_IMAGE.node)}`,
      '--workingdir',
      IN_IMAGE.home,
      '--cmd',
      // What `docker run <image>` runs alone: the bot under its default heap caps. Drivers give each container the planner's.
      JSON.stringify(imageCommand(BOT_BUNDLE_ENTRY, [], BOT_NODE_OPTIONS)),
      '--label',
      'org.opencontainers.image.title=plutarc bot',
      container,
    );
    await buildah('commit', '--quiet', '--format', 'docker', '--rm', container, tag);
    mkdirSync(dirname(archive), { recursive: true });
    rmSync(archive, { force: true });
    await buildah('push', '--quiet', tag, `docker-archive:${archive}:${tag}`);
    return { tag, archive, layerBytes: sizeOfTree(rootfs), libraries };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const image = await buildBotImage({ tag: process.argv[2], archive: process.argv[3] });
  console.log(`bot image ${image.tag}: ${(image.layerBytes / 1024 / 1024).toFixed(1)} MiB (one layer: node, ${image.libraries.length} libraries, the bundled bot)`);
  console.log(`  docker-archive: ${image.archive} (${(statSync(image.archive).size / 1024 / 1024).toFixed(1)} MiB); load it with: docker load -i ${image.archive}`);
}
