/**
 * One per-object attribute (a choice or a short text) of a shape, an audio segment or a video
 * track, as the side panels of those questions show it for the selected object.
 */

import { attributeOptions } from "../canvas/shape";
import type { ShapeAttribute } from "../types";

export function ObjectAttribute({ a, now, onChange }: {
  a: ShapeAttribute;
  now: string | undefined;
  onChange: (v: string | undefined) => void;
}) {
  const name = a.label || a.name;
  if (a.type === "choice") {
    return (
      <label class="shape-attr">
        {name}
        <select value={now ?? ""} onChange={(e) => onChange((e.currentTarget as HTMLSelectElement).value || undefined)}>
          <option value="">{a.required === false ? "(none)" : "(choose)"}</option>
          {attributeOptions(a).map((opt) => <option value={opt.value}>{opt.label}</option>)}
        </select>
      </label>
    );
  }
  return (
    <label class="shape-attr">
      {name}
      <input type="text" value={now ?? ""} onInput={(e) => onChange((e.currentTarget as HTMLInputElement).value || undefined)} />
    </label>
  );
}
