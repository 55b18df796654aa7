/**
 * The contract every question type implements in the browser, mirroring the server's label
 * types (src/labelloop/schema/types): one module per type, found by name in `registry.ts`.
 */

import type { FunctionComponent } from "preact";
import type { AudioUi } from "../audio/segments";
import type { ShapeUi } from "../canvas/shape";
import type { VideoUi } from "../video/tracks";
import type { Question } from "../types";

/** Per-question state that is not part of the answer (e.g. the current span label). */
export interface QuestionUi {
  /** Spans: the label that the next selection gets. */
  label?: number;
  /** Spans: the keyboard caret and the other end of a keyboard selection (token indices). */
  caret?: number;
  anchor?: number | null;
  /** Spans: what the last label key or selection did, or why it did nothing (shown by the question). */
  notice?: string;
  /** Shape questions: the class for new objects, the selection, hidden and locked objects, the brush. */
  shape?: ShapeUi;
  /** Audio segments: the label for new segments, the selection, the start mark, the loop (audio/segments.ts). */
  audio?: AudioUi;
  /** Video tracks and events: the class, the selected track, the tracker's proposals (video/tracks.ts). */
  video?: VideoUi;
  /**
   * Feedback questions (docs/feedback.md): the response being rewritten or flagged, the criteria
   * row that digits rate, and a count bumped each time a digit hands a ranking row the focus.
   */
  response?: string;
  row?: number;
  grab?: number;
}

/**
 * Another value of the same question, shown beside the answer being made: the model's suggestion
 * (not applied yet), or, in the review queue, each person's answer and the gold answer (managers
 * only: the server sends gold to no one else). Shape questions draw them on the image.
 */
export interface OtherValue {
  /** Stable while the page shows the item: "model", "answer:12", "gold". */
  id: string;
  /** Who gave it, as text (a username, "Model 3", "gold answer"). */
  who: string;
  kind: "model" | "answer" | "gold";
  value: unknown;
}

export interface ViewProps<Q extends Question = Question> {
  q: Q;
  value: unknown;
  set: (value: unknown) => void;
  active: boolean;
  /** The annotator moved here on purpose (↓ ↑ or a click): a text field may take the focus. */
  focus: boolean;
  activate: () => void;
  data: Record<string, unknown>;
  ui: QuestionUi;
  setUi: (ui: QuestionUi) => void;
  /** Shown as a model suggestion until the annotator changes it. */
  suggested: boolean;
  /** Other values of this question to show beside it (the suggestion, others' answers). */
  others?: OtherValue[];
  /** The item on screen (interactive masks ask the server about its image). */
  itemId?: number;
}

export interface KeyResult {
  value?: unknown;
  ui?: QuestionUi;
  /** Move on to the next question (after a single pick). */
  advance?: boolean;
  /** Something to tell the annotator (e.g. why a span was refused). */
  message?: string;
}

export interface Kind<Q extends Question = Question> {
  View: FunctionComponent<ViewProps<Q>>;
  /**
   * The question's own view of the item field it works on (its `target`), shown in the item in
   * that field's place, with the field's label, so the content comes first (spans: the text to tag).
   */
  Target?: FunctionComponent<ViewProps<Q>>;
  /**
   * A key press, when this question is active (`active`) or for keys the schema binds
   * explicitly (`active` false). null when the key means nothing here.
   */
  onKey?: (
    q: Q, value: unknown, key: string, active: boolean, ui: QuestionUi, data: Record<string, unknown>,
  ) => KeyResult | null;
  /** The field stays this question's own view even while another question on it is active. */
  holdsTarget?: boolean;
  /** Why the value cannot be submitted yet, or null. */
  problem: (q: Q, value: unknown) => string | null;
  /** Whether a value counts as given (a required question needs one). */
  given?: (value: unknown) => boolean;
  /** The value a fresh answer starts with (spans and shapes: the empty list, "nothing here"). */
  empty?: () => unknown;
}

export function title(q: { name: string; label?: string | undefined }): string {
  return q.label || q.name;
}

export function digit(key: string): number | null {
  return /^[1-9]$/.test(key) ? Number(key) : null;
}
