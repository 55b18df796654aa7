/** A rewrite shown as its changes: deleted text struck through, inserted text marked; all as text. */

import { changeCount, type DiffOp } from "./diff";

export function DiffView({ ops, label }: { ops: DiffOp[]; label?: string }) {
  const { deleted, inserted } = changeCount(ops);
  return (
    <div class="diff-view">
      <p class="muted diff-count">
        {deleted || inserted ? `${deleted} character${deleted === 1 ? "" : "s"} deleted, ${inserted} inserted` : "No changes yet"}
      </p>
      <div class="diff" aria-label={label ?? "changes"}>
        {ops.map((o) => (o.op === "equal" ? <span>{o.text}</span> : o.op === "delete" ? <del>{o.text}</del> : <ins>{o.text}</ins>))}
      </div>
    </div>
  );
}
