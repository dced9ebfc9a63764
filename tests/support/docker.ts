// The Docker engine the docker driver's tests run against: its own dockerd on a unix socket (`.ci/dockerd.sh`
// starts one; `.ci/run` always does), named by PLUTARC_TEST_DOCKER_SOCKET. The tests skip nothing: without an
// engine they fail, saying how to start one.
import { createReadStream, existsSync } from 'node:fs';
import Docker from 'dockerode';
import { buildBotImage, type BotImage } from '../../tools/build-image.ts';
import { PROBE } from '../integration/orchestrator/driver-contract.ts';

export function testDockerSocket(): string {
  const socket = process.env.PLUTARC_TEST_DOCKER_SOCKET;
  if (!socket || !existsSync(socket)) {
    throw new Error(
      `the docker driver's tests need a Docker engine of their own: run \`eval "$(bash .ci/dockerd.sh start)"\` (as root; it starts dockerd on a socket in a temp folder and prints the PLUTARC_TEST_DOCKER_SOCKET to export), then run the tests again${socket ? ` (nothing listens at ${socket})` : ''}`,
    );
  }
  return socket;
}

/** Builds the bot image with the probe in it and loads it into the engine. */
export async function loadTestImage(socket: string, tag: string, archive: string): Promise<BotImage> {
  const image = await buildBotImage({ tag, archive, appFiles: [PROBE] });
  const docker = new Docker({ socketPath: socket });
  const progress = await docker.loadImage(createReadStream(image.archive));
  await new Promise<void>((resolve, reject) => docker.modem.followProgress(progress, (error: Error | null) => (error ? reject(error) : resolve())));
  return image;
}
