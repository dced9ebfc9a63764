import { create } from 'zustand';

export const PAGE_IDS = ['regions', 'security', 'keys', 'strategies', 'bots', 'settings'] as const;
export type PageId = (typeof PAGE_IDS)[number];

/** Where the window is: a page and, on the Bots page, the bot open (and whether to ask at once to stop it). */
export interface Place {
  page: PageId;
  botId: string | null;
  /** The tray's "Stop…" opens the bot's page with the Stop confirmation showing. */
  confirmStop: boolean;
}

/** The place a location hash names (`#/keys`, `#/bots`, `#/bots/<id>`, `#/bots/<id>/stop`), or null for anything else. */
export function placeOfHash(hash: string): Place | null {
  const match = /^#\/([a-z]+)(?:\/([^/]{1,300})(\/stop)?)?$/.exec(hash);
  if (!match) return null;
  const page = PAGE_IDS.find((p) => p === match[1]);
  if (!page || (page !== 'bots' && match[2] !== undefined)) return null;
  let botId: string | null = null;
  if (match[2] !== undefined) {
    try {
      botId = decodeURIComponent(match[2]);
    } catch {
      return null;
    }
  }
  return { page, botId, confirmStop: botId !== null && match[3] !== undefined };
}

export const hashOfPlace = (place: Pick<Place, 'page' | 'botId'>): string =>
  place.botId ? `#/bots/${encodeURIComponent(place.botId)}` : `#/${place.page}`;

interface NavigationState extends Place {
  /** Opens a page (and a bot): the address changes too, so Back returns. */
  go(page: PageId, botId?: string | null): void;
  /** Follows the location hash (a tray click or a notification opens `#/bots/<id>`); returns the unsubscribe. */
  followHash(): () => void;
}

export const useNavigationStore = create<NavigationState>((set) => ({
  page: 'regions',
  botId: null,
  confirmStop: false,
  go(page, botId = null) {
    const place = { page, botId, confirmStop: false };
    set(place);
    const hash = hashOfPlace(place);
    if (window.location.hash !== hash) window.location.hash = hash;
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
