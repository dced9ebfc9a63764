interface AlertProps {
  message: string | null | undefined;
  /** Smaller text, for an alert inside a dialog or a corner of the page. */
  small?: boolean;
  /** Offers a button to try again; its label is `retryLabel`, "Try again" unless given. */
  onRetry?: () => void;
  retryLabel?: string;
}

/** A message that something went wrong, announced to screen readers; nothing when there is none. */
export function Alert({ message, small = false, onRetry, retryLabel = 'Try again' }: AlertProps) {
  if (!message) return null;
  const className = small ? 'error small' : 'error';
  if (!onRetry) {
    return (
      <p className={className} role="alert">
        {message}
      </p>
    );
  }
  return (
    <div className={className} role="alert">
      <p>{message}</p>
      <button type="button" onClick={onRetry}>
        {retryLabel}
      </button>
    </div>
  );
}
