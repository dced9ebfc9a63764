import { create } from 'zustand';
import type { Notice } from '../../../src-shared/ipc-identity.ts';
import { bridge } from '../bridge.ts';

interface NoticesState {
  notices: Notice[];
  /** Subscribes to main's notices (a new sign-in elsewhere…); returns the unsubscribe. */
  connect(): () => void;
  /** A notice of the renderer's own, e.g. after a change the user made. */
  notify(notice: Omit<Notice, 'id'>): void;
  dismiss(id: string): void;
}

/** More than this and the oldest go: toasts are for what just happened. */
const MAX_SHOWN = 4;
let localIds = 0;

export const useNoticesStore = create<NoticesState>((set) => {
  const add = (notice: Notice) =>
    set((s) => ({ notices: [...s.notices.filter((n) => n.id !== notice.id), notice].slice(-MAX_SHOWN) }));
  return {
    notices: [],
    connect() {
      return bridge()?.app.onNotice(add) ?? (() => {});
    },
    notify(notice) {
      add({ ...notice, id: `local-${++localIds}` });
    },
    dismiss(id) {
      set((s) => ({ notices: s.notices.filter((n) => n.id !== id) }));
    },
  };
});
