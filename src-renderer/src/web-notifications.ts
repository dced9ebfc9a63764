// The browser host's notifications: what main's notification policy let through, shown with the web
// Notification API. Permission is asked the first time one would be shown, never when the page opens.
import type { ShownNotification } from '../../src-shared/ipc-tray.ts';
import type { WindowTarget } from '../../src-shared/notifications.ts';

/** Where this browser stands on notifications from plutarc: `unsupported` where it has no Notification API. */
export type WebNotificationPermission = NotificationPermission | 'unsupported';

export function webNotificationPermission(): WebNotificationPermission {
  return typeof Notification === 'undefined' ? 'unsupported' : Notification.permission;
}

/** Asks the browser (once it is asked, it answers from then on without asking the user again). */
export async function askWebNotificationPermission(): Promise<WebNotificationPermission> {
  if (typeof Notification === 'undefined') return 'unsupported';
  if (Notification.permission !== 'default') return Notification.permission;
  try {
    return await Notification.requestPermission();
  } catch {
    return Notification.permission;
  }
}

// Held until clicked or closed: a collected notification loses its click handler in some browsers.
const held = new Set<Notification>();

/** Shows one notification, asking for permission first if the user has not been asked; a click opens its page. */
export async function showWebNotification(shown: ShownNotification, open: (target: WindowTarget) => void): Promise<boolean> {
  if ((await askWebNotificationPermission()) !== 'granted') return false;
  // The tag replaces an older notification with the same id rather than stacking a copy.
  const notification = new Notification(shown.title, { body: shown.body, tag: shown.id, requireInteraction: shown.urgent });
  held.add(notification);
  notification.onclick = () => {
    held.delete(notification);
    window.focus();
    open(shown.opens);
    notification.close();
  };
  notification.onclose = () => held.delete(notification);
  return true;
}
