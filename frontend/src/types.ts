/** The shapes of the public HTTP API (docs/api.md), as the app uses them. */

export interface User {
  id: number;
  username: string;
  display_name: string | null;
  is_admin: boolean;
}

export interface Option {
  value: string;
  label?: string;
  hint?: string;
  key?: string;
}

interface QuestionCommon {
  name: string;
  label?: string;
  help?: string;
  required?: boolean;
  target?: string;
}

export interface ChoiceQuestion extends QuestionCommon {
  type: "choice";
  options: Option[];
}

export interface MultiChoiceQuestion extends QuestionCommon {
  type: "multi_choice";
  options: Option[];
  min_selected?: number;
  max_selected?: number | null;
}

export interface RatingQuestion extends QuestionCommon {
  type: "rating";
  min: number;
  max: number;
  labels?: Record<string, string>;
}

export interface TextQuestion extends QuestionCommon {
  type: "text";
  min_length?: number;
  max_length?: number;
  multiline?: boolean;
}

export interface SpanLabel {
  value: string;
  label?: string;
  key?: string;
}

export interface SpansQuestion extends QuestionCommon {
  type: "spans";
  target: string;
  labels: SpanLabel[];
  allow_overlap?: boolean;
}

export type Question = ChoiceQuestion | MultiChoiceQuestion | RatingQuestion | TextQuestion | SpansQuestion;

export interface FieldSpec {
  name: string;
  type: "text" | "image" | "audio" | "video" | "conversation";
  label?: string | null;
  required?: boolean;
}

export interface LabelSchema {
  title?: string | null;
  instructions?: string | null;
  fields: FieldSpec[];
  questions: Question[];
}

export interface Project {
  id: number;
  name: string;
  description: string;
  label_schema: LabelSchema;
  overlap: number;
  lease_seconds: number;
  created_at: string;
  role: string | null;
}

export type Answer = Record<string, unknown>;

export interface Task {
  item_id: number;
  external_id: string;
  data: Record<string, unknown>;
  meta: Record<string, unknown>;
  leased_at: string;
  lease_expires_at: string;
}

export interface StoredAnswer {
  id: number;
  item_id: number;
  user_id: number;
  username: string | null;
  value: Answer;
  created_at: string;
  duration_ms: number | null;
  source: string;
}

export interface Item {
  id: number;
  external_id: string;
  data: Record<string, unknown>;
  meta: Record<string, unknown>;
  priority: number;
  needed: number;
  answer_count: number;
  leased: number;
  status: string;
  gold: Answer | null;
  created_at: string;
}

export interface Status {
  items: number;
  done: number;
  in_progress: number;
  untouched: number;
  answers: number;
  answers_needed: number;
  leased: number;
  skipped: number;
  annotators: number;
  percent_done: number;
}

export interface Job {
  id: number;
  kind: string;
  status: "queued" | "running" | "succeeded" | "failed";
  progress_done: number;
  progress_total: number | null;
  message: string;
  result: Record<string, unknown> | null;
  error: { message: string; problems?: Problem[] } | null;
}

export interface Member {
  user_id: number;
  username: string;
  role: string;
}

export interface Problem {
  message: string;
  field?: string | null;
  line?: number | null;
}
