// The Electron file picker adapter: one file of the kinds asked for, from a dialog attached to the app's
// window when there is one; a cancelled dialog is no file.
import { describe, expect, it } from 'vitest';
import { filePickerWith } from '../../../src-main/electron/os-ports.ts';

type DialogPort = Parameters<typeof filePickerWith>[0];
type WindowOf = NonNullable<ReturnType<Parameters<typeof filePickerWith>[1]>>;

function fakeDialog(answer: { canceled: boolean; filePaths: string[] }) {
  const calls: { parent: boolean; options: unknown }[] = [];
  const showOpenDialog = ((...args: unknown[]) => {
    calls.push(args.length === 2 ? { parent: true, options: args[1] } : { parent: false, options: args[0] });
    return Promise.resolve(answer);
  }) as DialogPort['showOpenDialog'];
  return { dialog: { showOpenDialog }, calls };
}

const request = { title: 'Candles for a backtest', kinds: [{ name: 'Kline CSV', extensions: ['csv'] }] };

describe('the file picker', () => {
  it('asks for one file of the given kinds, on the app window, and answers its path', async () => {
    const { dialog, calls } = fakeDialog({ canceled: false, filePaths: ['/home/trader/BTCUSDT-1h.csv'] });
    const window = {} as WindowOf;
    expect(await filePickerWith(dialog, () => window)(request)).toBe('/home/trader/BTCUSDT-1h.csv');
    expect(calls).toEqual([{ parent: true, options: { title: 'Candles for a backtest', properties: ['openFile'], filters: [{ name: 'Kline CSV', extensions: ['csv'] }] } }]);
  });

  it('answers no file when the user cancels, with or without a window', async () => {
    const { dialog, calls } = fakeDialog({ canceled: true, filePaths: [] });
    expect(await filePickerWith(dialog, () => null)(request)).toBeNull();
    expect(calls[0]?.parent).toBe(false);
  });
});
