/**
 * A shape family as a question type (questions/kind.ts): the stage in the image field's place,
 * the panel under the item, the class keys, and the checks made before submitting.
 */

import type { ShapeQuestion } from "../types";
import type { Kind, KeyResult, QuestionUi } from "../questions/kind";
import type { Family } from "./family";
import { Panel } from "./Panel";
import {
  flagsOf, labelForKey, labelName, LOCKED, replaced, selectedIndex, shapesOf, withFlagsOf, type ShapeUi,
} from "./shape";
import { Stage } from "./Stage";

/** A class key: picks the class for new objects, and gives it to the selected object. */
function onKey(q: ShapeQuestion, value: unknown, key: string, active: boolean, ui: QuestionUi): KeyResult | null {
  const picked = labelForKey(q.labels, key, active);
  if (picked === null) return null;
  const su: ShapeUi = ui.shape ?? {};
  const name = labelName(q.labels[picked]!);
  const shapes = shapesOf(value);
  const i = active ? selectedIndex(su, shapes) : null;
  const o = i !== null ? shapes[i]! : null;
  if (i === null || !o || flagsOf(su, o) & LOCKED) {
    return { ui: { ...ui, shape: { ...su, label: picked, notice: `New objects: ${name}.` } } };
  }
  const relabelled = { ...o, label: q.labels[picked]!.value };
  return {
    value: replaced(shapes, i, relabelled),
    ui: { ...ui, shape: { ...withFlagsOf(su, o, relabelled), label: picked, notice: `Object ${i + 1} is now ${name}.` } },
  };
}

export function shapeKind(family: Family): Kind<ShapeQuestion> {
  return {
    View: (p) => <Panel family={family} {...p} />,
    Target: (p) => <Stage family={family} {...p} />,
    onKey,
    problem: (q, value) => {
      const shapes = shapesOf(value);
      const most = q.max_objects ?? 1000;
      if (shapes.length > most) return `at most ${most} objects`;
      for (const [i, o] of shapes.entries()) {
        const p = family.problem?.(o, q);
        if (p) return `object ${i + 1}: ${p}`;
        for (const a of q.attributes ?? []) {
          if (a.required !== false && !o.attributes?.[a.name]) return `object ${i + 1} needs “${a.label || a.name}”`;
        }
      }
      return null;
    },
    given: (value) => Array.isArray(value),
    empty: () => [],
  };
}
