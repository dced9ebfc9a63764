// The Electron preload: bundled into one CommonJS file (a sandboxed preload cannot load ESM or our files).
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { wireEvent, wireInvoke } from '../src-shared/ipc.ts';
import { buildBridge } from './bridge.ts';

const bridge = buildBridge({
  invoke: (channel, input) => ipcRenderer.invoke(wireInvoke(channel), input),
  subscribe: (channel, listener) => {
    const wire = wireEvent(channel);
    const handler = (_event: IpcRendererEvent, payload: unknown) => listener(payload);
    ipcRenderer.on(wire, handler);
    return () => {
      ipcRenderer.removeListener(wire, handler);
    };
  },
});

contextBridge.exposeInMainWorld('plutarc', bridge);
