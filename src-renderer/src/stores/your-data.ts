import { create } from 'zustand';
import type { DeletionAccepted } from '../../../src-shared/account-data.ts';
import type { ExportOutcome } from '../../../src-shared/ipc-account-data.ts';
import type { Result } from '../../../src-shared/result.ts';
import { callMain } from '../bridge.ts';
import { sensitive } from './reverification.ts';

interface YourDataState {
  exporting: boolean;
  /** Exports the account's data: saved by main (Electron) or downloaded by this page (browser host). */
  exportData(): Promise<Result<ExportOutcome>>;
  /** Asks for the account's deletion; main signs this device out once the API has accepted it. */
  deleteAccount(email: string): Promise<Result<DeletionAccepted>>;
}

/** Starts the browser's download of each link main handed out (same origin, single use). */
function download(files: { url: string; name: string }[]): void {
  for (const file of files) {
    const link = document.createElement('a');
    link.href = file.url;
    link.download = file.name;
    link.rel = 'noopener';
    document.body.append(link);
    link.click();
    link.remove();
  }
}

export const useYourDataStore = create<YourDataState>((set) => ({
  exporting: false,
  async exportData() {
    set({ exporting: true });
    try {
      const result = await sensitive(() => callMain((p) => p.yourData.export()));
      if (result.ok && result.value.state === 'download') download(result.value.files);
      return result;
    } finally {
      set({ exporting: false });
    }
  },
  deleteAccount: (email) => sensitive(() => callMain((p) => p.yourData.deleteAccount({ email }))),
}));
