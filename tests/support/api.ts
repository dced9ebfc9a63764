import { Writable } from 'node:stream';
import { join } from 'node:path';
import { buildApp, type BuildAppOptions, type PlutarcApi } from '../../src-api/app.ts';
import { loadConfig, type ApiConfig } from '../../src-api/config.ts';
import { tempDir } from './temp.ts';

export interface TestApi {
  app: PlutarcApi;
  url: string;
  config: ApiConfig;
  /** Every log line the API wrote so far. */
  logs(): string;
  close(): Promise<void>;
}

/** A real API on 127.0.0.1:0 with its own SQLite file, logs captured. */
export async function startTestApi(
  env: Record<string, string> = {},
  beforeListen: (app: PlutarcApi) => void = () => {},
  options: Omit<BuildAppOptions, 'logDestination'> = {},
): Promise<TestApi> {
  const dir = tempDir('plutarc-api-');
  const config = loadConfig({
    PLUTARC_API_PORT: '0',
    PLUTARC_DATABASE_URL: `sqlite:${join(dir.path, 'api.db')}`,
    PLUTARC_LOG_LEVEL: 'info',
    ...env,
  });
  let captured = '';
  const logDestination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      captured += chunk.toString();
      done();
    },
  });
  const app = await buildApp(config, { logDestination, ...options });
  beforeListen(app);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    app,
    url,
    config,
    logs: () => captured,
    async close() {
      await app.close();
      dir.cleanup();
    },
  };
}
