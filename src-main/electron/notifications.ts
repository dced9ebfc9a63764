// Shows what the notification policy (src-main/services/tray) decided, as the OS's own notifications.
// Construct after `app.whenReady()`. macOS asks the user's permission itself the first time one is shown.
import type { Notification } from 'electron';
import type { WindowTarget } from '../../src-shared/notifications.ts';
import { notificationText, type PlannedNotification } from '../services/tray/notification-policy.ts';

// macOS keeps delivered notifications in its centre without telling us when they go: past this many,
// the oldest references are let go (their click then does nothing) rather than kept for the app's life.
const MAX_HELD = 50;

/** Returns the `show` the policy calls; a click opens the window where the notification says. */
export function nativeNotifications(
  NotificationClass: typeof Notification,
  onClick: (target: WindowTarget) => void,
): (notification: PlannedNotification) => void {
  // Held until clicked, closed or failed: a notification collected early loses its click handler.
  const held = new Set<Notification>();
  return (planned) => {
    if (!NotificationClass.isSupported()) return;
    const notification = new NotificationClass({
      title: planned.title,
      // Linux servers read markup in the body only.
      body: notificationText(planned.body, process.platform),
      // Not `critical`: that would pierce the user's do-not-disturb.
      urgency: planned.urgent ? 'normal' : 'low',
    });
    const forget = () => held.delete(notification);
    notification.on('click', () => {
      forget();
      onClick(planned.opens);
    });
    notification.on('close', forget);
    notification.on('failed', forget);
    held.add(notification);
    if (held.size > MAX_HELD) held.delete(held.values().next().value!);
    notification.show();
  };
}
