/** A message that something went wrong, announced to screen readers; nothing when there is none. */
export function Alert({ message }: { message: string | null | undefined }) {
  return message ? (
    <p className="error" role="alert">
      {message}
    </p>
  ) : null;
}
