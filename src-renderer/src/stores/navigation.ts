import { create } from 'zustand';
import { parseWindowHash } from '../../../src-shared/notifications.ts';

export const PAGE_IDS = ['regions', 'security', 'keys', 'strategies', 'bots', 'settings', 'your-data'] as const;
export type PageId = (typeof PAGE_IDS)[number];

/** Where the window is: a page and, on the Bots page, the bot open (and whether to ask at once to stop it). */
export interface Place {
  page: PageId;
  botId: string | null;
  /** The tray's "Stop…" opens the bot's page with the Stop confirmation showing. */
  confirmStop: boolean;
}

/**
 * The place a location hash names: a page (`#/keys`), or what a notification or the tray opens (`#/bots/<id>`,
 * `#/bots/<id>/stop`, `#/home`, read by src-shared/notifications.ts); null for anything else.
 */
export function placeOfHash(hash: string): Place | null {
  const page = PAGE_IDS.find((p) => `#/${p}` === hash);
  if (page) return { page, botId: null, confirmStop: false };
  const target = parseWindowHash(hash);
  if (target?.page === 'bot') return { page: 'bots', botId: target.botId, confirmStop: target.confirmStop === true };
  if (target?.page === 'home') return { page: 'regions', botId: null, confirmStop: false };
  return null;
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
