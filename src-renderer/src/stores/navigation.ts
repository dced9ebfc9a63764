import { create } from 'zustand';

export const PAGE_IDS = ['regions', 'security', 'keys', 'strategies', 'bots', 'settings'] as const;
export type PageId = (typeof PAGE_IDS)[number];

/** Where the window is: a page, and on the Bots page the bot open, if any. */
export interface Place {
  page: PageId;
  botId: string | null;
}

/** The place a location hash names (`#/keys`, `#/bots`, `#/bots/<id>`), or null for anything else. */
export function placeOfHash(hash: string): Place | null {
  const match = /^#\/([a-z]+)(?:\/([^/]{1,100}))?$/.exec(hash);
  if (!match) return null;
  const page = PAGE_IDS.find((p) => p === match[1]);
  if (!page) return null;
  const botId = page === 'bots' && match[2] ? decodeURIComponent(match[2]) : null;
  return { page, botId };
}

export const hashOfPlace = (place: Place): string => (place.botId ? `#/bots/${encodeURIComponent(place.botId)}` : `#/${place.page}`);

interface NavigationState extends Place {
  go(page: PageId, botId?: string | null): void;
  /** Follows the location hash (a tray click or notification opens `#/bots/<id>`); returns the unsubscribe. */
  followHash(): () => void;
}

export const useNavigationStore = create<NavigationState>((set) => ({
  page: 'regions',
  botId: null,
  go(page, botId = null) {
    const place = { page, botId };
    set(place);
    const hash = hashOfPlace(place);
    if (window.location.hash !== hash) window.history.replaceState(null, '', hash);
  },
  followHash() {
    const follow = () => {
      const place = placeOfHash(window.location.hash);
      if (place) set(place);
    };
    follow();
    window.addEventListener('hashchange', follow);
    return () => window.removeEventListener('hashchange', follow);
  },
}));
