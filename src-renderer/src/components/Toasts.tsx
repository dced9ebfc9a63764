import { useNoticesStore } from '../stores/notices.ts';

/** Notices from main (a new sign-in elsewhere…) and from the app itself: info leaves by itself, warnings stay until dismissed. */
export function Toasts() {
  const notices = useNoticesStore((s) => s.notices);
  const dismiss = useNoticesStore((s) => s.dismiss);
  if (notices.length === 0) return null;
  return (
    <div className="toasts" role="region" aria-label="Notices">
      {notices.map((notice) => (
        <div key={notice.id} className={`toast toast-${notice.level}`} role="status" data-notice={notice.id}>
          <div className="toast-text">
            <strong>{notice.title}</strong>
            <span>{notice.body}</span>
          </div>
          <button type="button" className="toast-dismiss" aria-label={`Dismiss: ${notice.title}`} onClick={() => dismiss(notice.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
