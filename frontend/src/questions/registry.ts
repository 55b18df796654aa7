/** Question types by name; a new type is one module here and one line below. */

import type { Question } from "../types";
import { choice } from "./choice";
import { freeText } from "./freeText";
import type { Kind } from "./kind";
import { multiChoice } from "./multiChoice";
import { rating } from "./rating";
import { spans } from "./spans";

const KINDS: Record<string, Kind<never>> = {
  choice,
  multi_choice: multiChoice,
  rating,
  text: freeText,
  spans,
} as unknown as Record<string, Kind<never>>;

export function kindOf(q: Question): Kind<Question> | null {
  return (KINDS[q.type] as unknown as Kind<Question> | undefined) ?? null;
}
