// The orchestrator token file: the API refuses to start on one other users may read or one that holds no token.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readOrchestratorToken } from '../../../src-api/modules/bots/index.ts';
import { startTestApi } from '../../support/api.ts';
import { tempDir } from '../../support/temp.ts';

describe('the orchestrator token file', () => {
  const dir = tempDir('plutarc-orch-token-');
  afterAll(() => dir.cleanup());

  it('is read when only its owner may read it', () => {
    const file = join(dir.path, 'good');
    writeFileSync(file, `${'t'.repeat(43)}\n`, { mode: 0o600 });
    expect(readOrchestratorToken(file)).toBe('t'.repeat(43));
  });

  it('stops the API from starting when others may read it or it holds no token', async () => {
    const open = join(dir.path, 'open');
    writeFileSync(open, 'x'.repeat(43), { mode: 0o644 });
    await expect(startTestApi({ PLUTARC_ORCHESTRATOR_TOKEN_FILE: open })).rejects.toThrow(/chmod 600/);
    const short = join(dir.path, 'short');
    writeFileSync(short, 'tiny', { mode: 0o600 });
    await expect(startTestApi({ PLUTARC_ORCHESTRATOR_TOKEN_FILE: short })).rejects.toThrow(/does not hold an orchestrator token/);
    await expect(startTestApi({ PLUTARC_ORCHESTRATOR_TOKEN_FILE: join(dir.path, 'missing') })).rejects.toThrow(/ENOENT/);
  });
});
