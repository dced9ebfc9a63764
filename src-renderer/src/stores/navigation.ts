import { create } from 'zustand';
import { parseWindowHash } from '../../../src-shared/notifications.ts';

export const PAGE_IDS = ['regions', 'security', 'keys', 'strategies', 'bots', 'settings', 'your-data', 'trades'] as const;
export type PageId = (typeof PAGE_IDS)[number];

/** Where the window is: a page and, on the Bots page, the bot open (and whether to ask at once to stop it); on the Trades page, the trade open. */
export interface Place {
  page: PageId;
  botId: string | null;
  tradeId: string | null;
  /** The tray's "Stop…" opens the bot's page with the Stop confirmation showing. */
  confirmStop: boolean;
}

/** `#/trades/<id>`: a trade opened from a link. */
function tradeOfHash(hash: string): string | null {
  const match = /^#\/trades\/([^/]+)$/.exec(hash);
  if (!match) return null;
  try {
    const id = decodeURIComponent(match[1]!);
    return id.length <= 200 ? id : null;
  } catch {
    return null;
  }
}

/**
 * The place a location hash names: a page (`#/keys`), a trade (`#/trades/<id>`), or what a notification or the tray
 * opens (`#/bots/<id>`, `#/bots/<id>/stop`, `#/home`, read by src-shared/notifications.ts); null for anything else.
 */
export function placeOfHash(hash: string): Place | null {
  const nowhere = { botId: null, tradeId: null, confirmStop: false };
  const page = PAGE_IDS.find((p) => `#/${p}` === hash);
  if (page) return { ...nowhere, page };
  const tradeId = tradeOfHash(hash);
  if (tradeId) return { ...nowhere, page: 'trades', tradeId };
  const target = parseWindowHash(hash);
  if (target?.page === 'bot') return { ...nowhere, page: 'bots', botId: target.botId, confirmStop: target.confirmStop === true };
  if (target?.page === 'home') return { ...nowhere, page: 'regions' };
  return null;
}

export function hashOfPlace(place: Pick<Place, 'page' | 'botId'> & { tradeId?: string | null }): string {
  if (place.botId) return `#/bots/${encodeURIComponent(place.botId)}`;
  if (place.tradeId) return `#/trades/${encodeURIComponent(place.tradeId)}`;
  return `#/${place.page}`;
}

interface NavigationState extends Place {
  /** Opens a page (and a bot): the address changes too, so Back returns. */
  go(page: PageId, botId?: string | null): void;
  /** Opens a trade on the Trades page (null: the page with none open); the address says which, so a link opens it. */
  goTrade(tradeId: string | null): void;
  /** Follows the location hash (a tray click or a notification opens `#/bots/<id>`); returns the unsubscribe. */
  followHash(): () => void;
}

export const useNavigationStore = create<NavigationState>((set) => {
  const moveTo = (place: Place) => {
    set(place);
    const hash = hashOfPlace(place);
    if (window.location.hash !== hash) window.location.hash = hash;
  };
  return {
    page: 'regions',
    botId: null,
    tradeId: null,
    confirmStop: false,
    go: (page, botId = null) => moveTo({ page, botId, tradeId: null, confirmStop: false }),
    goTrade: (tradeId) => moveTo({ page: 'trades', botId: null, tradeId, confirmStop: false }),
    followHash() {
      const follow = () => {
        const place = placeOfHash(window.location.hash);
        if (place) set(place);
      };
      follow();
      window.addEventListener('hashchange', follow);
      return () => window.removeEventListener('hashchange', follow);
    },
  };
});
