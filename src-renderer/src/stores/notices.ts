import { create } from 'zustand';
import type { Notice } from '../../../src-shared/ipc-identity.ts';
import { bridge } from '../bridge.ts';
import { selectUser, useIdentityStore } from './identity.ts';

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
/** How long an info notice stays: long enough to read two lines. Warnings stay until dismissed. */
export const INFO_NOTICE_MS = 6000;
let localIds = 0;

export const useNoticesStore = create<NoticesState>((set) => {
  const leaving = new Map<string, ReturnType<typeof setTimeout>>();
  const forget = (id: string) => {
    clearTimeout(leaving.get(id));
    leaving.delete(id);
  };
  const add = (notice: Notice) => {
    forget(notice.id);
    if (notice.level === 'info') leaving.set(notice.id, setTimeout(() => dismiss(notice.id), INFO_NOTICE_MS));
    set((s) => {
      const kept = [...s.notices.filter((n) => n.id !== notice.id), notice];
      for (const dropped of kept.slice(0, -MAX_SHOWN)) forget(dropped.id);
      return { notices: kept.slice(-MAX_SHOWN) };
    });
  };
  const dismiss = (id: string) => {
    forget(id);
    set((s) => ({ notices: s.notices.filter((n) => n.id !== id) }));
  };
  return {
    notices: [],
    connect() {
      return bridge()?.app.onNotice(add) ?? (() => {});
    },
    notify(notice) {
      add({ ...notice, id: `local-${++localIds}` });
    },
    dismiss,
  };
});

// A notice names the account's own things (a key, a bot): when another user signs in on this window, the last
// user's notices go. Signing out alone keeps them, so the reason the app signed out stays readable.
let lastUserId: string | null = null;
useIdentityStore.subscribe((state) => {
  const user = selectUser(state);
  if (!user) return;
  if (lastUserId !== null && user.id !== lastUserId) {
    const { notices, dismiss } = useNoticesStore.getState();
    for (const notice of notices) dismiss(notice.id);
  }
  lastUserId = user.id;
});
