/** Rename and remove buttons for a table row, named for the thing they act on (screen readers say which). */
export function RowActions({
  name,
  onRename,
  onRemove,
  removeWord = 'Remove',
}: {
  name: string;
  onRename: () => void;
  onRemove: () => void;
  removeWord?: 'Remove' | 'Delete';
}) {
  return (
    <>
      <button type="button" onClick={onRename} aria-label={`Rename ${name}`}>
        Rename
      </button>
      <button type="button" className="danger" onClick={onRemove} aria-label={`${removeWord} ${name}`}>
        {removeWord}
      </button>
    </>
  );
}
