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

/** A per-object sub-question of a shape question (docs/images.md): a choice or a text. */
export interface ShapeAttribute {
  name: string;
  type: "choice" | "text";
  label?: string;
  options?: (Option | string)[];
  required?: boolean;
}

/** Shape questions over an image field (docs/images.md): the value is a list of objects. */
export interface ShapeQuestion extends QuestionCommon {
  type: "bbox" | "rotated_bbox" | "polygon" | "polyline" | "keypoints" | "mask";
  target: string;
  labels: SpanLabel[];
  attributes?: ShapeAttribute[];
  max_objects?: number;
  /** Keypoints: the named points in placing order, and the edges drawn between them. */
  skeleton?: { points: string[]; edges?: [string | number, string | number][] };
}

/** Segments on an audio field's timeline (docs/audio.md, "Segments"): the value is a list of segments. */
export interface AudioSegmentsQuestion extends QuestionCommon {
  type: "audio_segments";
  target: string;
  labels: SpanLabel[];
  attributes?: ShapeAttribute[];
  /** Each segment holds its transcript (and, from a model, word timings). */
  transcript?: boolean;
  allow_overlap?: boolean;
  max_segments?: number;
}

/** Tracks on a video field (docs/video.md, "Tracks"): the value is `{tracks, shapes}`. */
export interface VideoTracksQuestion extends QuestionCommon {
  type: "video_tracks";
  target: string;
  labels: (SpanLabel | string)[];
  attributes?: ShapeAttribute[];
}

/** Events on a video field's timeline (docs/video.md, "Events"): a list of `{label, start, end}` frames. */
export interface VideoSegmentsQuestion extends QuestionCommon {
  type: "video_segments";
  target: string;
  labels: (SpanLabel | string)[];
}

/** Language-model feedback (docs/feedback.md, "Questions"): each names a `responses` field as `target`. */
export interface PreferenceQuestion extends QuestionCommon {
  type: "preference";
  target: string;
  ties?: boolean;
  strength?: boolean;
  reason?: "none" | "optional" | "required";
}

export interface RankingQuestion extends QuestionCommon {
  type: "ranking";
  target: string;
  partial?: boolean;
}

export interface Criterion {
  name: string;
  label?: string | null;
  help?: string | null;
}

export interface CriteriaQuestion extends QuestionCommon {
  type: "criteria";
  target: string;
  criteria: (Criterion | string)[];
  min?: number;
  max?: number;
  /** Words for the points: by value ("1": "poor") or a list from `min` up. */
  labels?: Record<string, string> | string[] | null;
  per_response?: boolean;
}

export interface RewriteQuestion extends QuestionCommon {
  type: "rewrite";
  target: string;
  min_change?: number;
}

export interface ResponseSpansQuestion extends QuestionCommon {
  type: "response_spans";
  target: string;
  labels: (SpanLabel | string)[];
  allow_overlap?: boolean;
  max_spans?: number | null;
}

export type FeedbackQuestion =
  | PreferenceQuestion | RankingQuestion | CriteriaQuestion | RewriteQuestion | ResponseSpansQuestion;

export type Question =
  | ChoiceQuestion | MultiChoiceQuestion | RatingQuestion | TextQuestion | SpansQuestion | ShapeQuestion
  | AudioSegmentsQuestion | VideoTracksQuestion | VideoSegmentsQuestion | FeedbackQuestion;

export interface FieldSpec {
  name: string;
  type: "text" | "image" | "audio" | "video" | "conversation" | "responses";
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
  quality: QualitySettings;
  loop: LoopSettings;
  created_at: string;
  role: string | null;
}

/** A project's learning-loop settings (docs/loop.md), defaults filled in by the server. */
export interface LoopSettings {
  /** `require` hands out only items with a suggestion (none while no model passes the bar). */
  prelabels: "off" | "suggest" | "require";
  /** Pre-fill answers with the suggestion (newer servers; off: shown, applied with one key). */
  preselect?: boolean;
  /** Held-out accuracy a model needs before its suggestions are shown (null: any model; newer servers). */
  suggest_min_accuracy?: number | null;
  /** `builtin`, the URL of a team's model server, or `python:<entry point>` (newer servers). */
  model?: string;
  strategy: string;
  encoder: string;
  /** The single-choice question the model learns (null: the first one). */
  question: string | null;
  min_labels: number;
  /** The accuracy auto-labels must provably reach (null: never auto-label). */
  autolabel_target: number | null;
  autolabel_alpha: number;
  label_error_confidence: number;
  /** Labelled items a class needs before a round flags labels in or out of it (newer servers). */
  label_error_min_per_class?: number;
  /** Items drawn at random whose human labels certify auto-labels (newer servers). */
  validation_items?: number;
  /** Text: n-grams stacked beside a sentence encoder's embeddings (newer servers). */
  ngrams?: boolean;
  /** Text, `minilm`: fine-tune the encoder on part of the labels each round (newer servers). */
  finetune?: boolean;
  finetune_min_labels?: number;
  finetune_seconds?: number;
  /** Pre-labels a bbox question: `coco`, a detector's URL, `python:<entry point>`, or null (newer servers). */
  detector?: string | null;
  /** The bbox question the detector pre-labels (null: the first). */
  detector_question?: string | null;
  /** Detector classes to the question's labels (null: the detector's own names). */
  detector_labels?: Record<string, string> | null;
  detector_threshold?: number;
  /** Interactive masks: `grabcut`, a segmenter's URL, or `python:<entry point>`. */
  segmenter?: string;
  /** Video tracks: proposes boxes on the next frames: `opencv`, a tracker's URL, or `python:<entry point>`. */
  tracker?: string;
  /** Pre-labels an audio_segments question: `whisper`, `vad`, a speech model's URL, `python:<entry point>`, or null. */
  transcriber?: string | null;
  /** The audio_segments question it pre-labels (null: the first). */
  transcriber_question?: string | null;
  /** The label its segments get (null: the question's first). */
  transcriber_label?: string | null;
}

/** What a round of the loop measured (docs/loop.md); a cold-start round has no accuracy. */
export interface RoundMetrics {
  human_answers?: number;
  labelled?: number;
  items?: number;
  /** false for a round with too few labels to train (then `reason` says why). */
  trained?: boolean;
  reason?: string;
  oof_accuracy?: number;
  gold_accuracy?: number;
  gold_items?: number;
  autolabelled?: number;
  autolabel_coverage?: number;
  autolabel_lower_bound?: number | null;
  autolabel_threshold?: number | null;
  label_issues?: number;
  /** Whether the model had earned the right to flag label errors, and why not. */
  flagging?: FlagGate;
  strategy?: string;
  encoder?: string;
  question?: string;
}

/** A round's test of its model before it may flag labels (docs/loop.md, "Flag label errors"). */
export interface FlagGate {
  allowed: boolean;
  /** Why not, in words ("model not yet better than chance: …"); null when allowed. */
  reason: string | null;
  min_per_class: number;
  accuracy: number | null;
  /** The one-sided lower bound of the out-of-fold accuracy at `level`. */
  lower_bound: number | null;
  /** The accuracy of always answering the commonest class. */
  chance: number | null;
  needed_accuracy: number | null;
  level: number;
}

/** One row of GET /api/projects/{id}/loop/rounds (oldest first). */
export interface LoopRound {
  model_version: number;
  created_at: string;
  metrics: RoundMetrics;
}

/** A project's quality-control settings (docs/quality.md), defaults filled in by the server. */
export interface QualitySettings {
  gold_first: number;
  gold_rate: number;
  adaptive: boolean;
  min_overlap: number;
  target_confidence: number;
  review_below: number;
  trust_min_accuracy: number | null;
  trust_min_gold: number;
  trust_credibility: number;
  exclude_paused: boolean;
  /** F1 from which a shape answer on a gold item counts as right (newer servers). */
  gold_shape_score?: number;
  /** WER up to which a typed transcript on a gold clip counts as right (newer servers). */
  gold_max_wer?: number;
}

export type Answer = Record<string, unknown>;

/** The latest model's answer for a task, shown as a suggestion. */
export interface Prelabel {
  value: Record<string, unknown>;
  confidence: number;
  model_version: number;
}

/** A renewed lease, with the item's current suggestion (a newer round's, if one ended). */
export interface Lease {
  item_id: number;
  state: string;
  leased_at: string;
  expires_at: string;
  prelabel?: Prelabel | null;
}

/** What an answer did with the suggestion shown with it (docs/loop.md); the server decides it. */
export interface SuggestionRecord {
  from: "model" | "import";
  model_version: number | null;
  preselected: boolean;
  questions: Record<string, "unchanged" | "edited" | "none">;
}

export interface Task {
  item_id: number;
  external_id: string;
  data: Record<string, unknown>;
  meta: Record<string, unknown>;
  leased_at: string;
  lease_expires_at: string;
  prelabel?: Prelabel | null;
}

/** GET .../tasks/progress: the caller's own numbers in a project. */
export interface TaskProgress {
  done: number;
  left: number;
  /** More than `left` are left (the server stops counting there). */
  left_capped: boolean;
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
  /** null when no suggestion was shown (newer servers). */
  suggestion?: SuggestionRecord | null;
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
  /** pending or done: the review queue. */
  review?: string | null;
  consensus?: { value: Answer; confidence: number | null; method: string; final: boolean } | null;
  /** Set when the latest loop round suspects the item's label (newer servers). */
  label_issue?: LabelIssue | null;
  /**
   * Why the item was sent to review, oldest first, kept after the decision: `low_confidence`,
   * `flagged`, `unlikely_label` (`confident_learning` before it), `model_disagrees` (others may come
   * from newer servers).
   */
  review_reasons?: string[];
}

/** Why the latest loop round suspects an item's label, and which model said so. */
export interface LabelIssue {
  /** `unlikely_label` (`confident_learning` before it) and/or `model_disagrees` (others may come from newer servers). */
  reasons: string[];
  model_version: number | null;
  /** The model's out-of-fold answer for the item. */
  model_answer: { value: Record<string, unknown>; confidence: number } | null;
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

/** A project's model server for generating candidates (docs/feedback.md, "Generation"), defaults filled in. */
export interface GenerationSettings {
  base_url: string | null;
  model: string | null;
  temperature: number;
  top_p: number;
  max_tokens: number;
  system_prompt: string | null;
  candidates: number;
  prompt_field: string | null;
  responses_field: string | null;
  requests_per_second: number | null;
  concurrency: number;
  timeout_s: number;
  max_retries: number;
  backoff_s: number;
  api_key_env: string | null;
  /** Where requests go: `<base_url>/v1/chat/completions` (null: no server named). */
  endpoint: string | null;
  /** Whether the variable `api_key_env` names is set in the server's environment (never the key). */
  api_key_set: boolean;
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

/** An item with every answer (GET .../items/{id} and GET .../review/next). */
export interface ItemDetail {
  item: Item;
  answers: StoredAnswer[];
}

export interface QuestionAgreement {
  question: string;
  type: string;
  /** Items with two or more answers. */
  items: number;
  percent_agreement: number | null;
  alpha: number | null;
  alpha_low: number | null;
  alpha_high: number | null;
  /** Choice questions, and preferences (per item and pair of responses). */
  fleiss_kappa: number | null;
  /** Rankings: the mean Kendall's tau between two annotators' rankings of an item. */
  kendall_tau?: number | null;
  /** Flagged words: the pairwise span F1 between annotators of one response. */
  span_f1?: number | null;
  /** Transcripts (docs/quality.md, "Transcripts on the platform"): pairwise WER pooled over every pair of every item. */
  wer?: number | null;
  /** Transcripts: the mean over items of each item's pairwise WER. */
  item_wer?: number | null;
  /** Transcripts: the items annotators disagree on most, worst first. */
  worst_items?: WorstTranscript[] | null;
  /** Segments: pairwise F1 at IoU 0.5, same label; and the mean IoU of the segments matched. */
  segment_f1?: number | null;
  segment_iou?: number | null;
}

/** One of the items whose transcripts differ most between annotators. */
export interface WorstTranscript {
  item_id: number;
  external_id: string | null;
  wer: number;
  annotators: number;
}

/** One model of GET /api/projects/{id}/feedback/leaderboard, best first. */
export interface ModelScore {
  model: string;
  score: number | null;
  low: number | null;
  high: number | null;
  comparisons: number;
  win_rate: number | null;
}

/** GET /api/projects/{id}/feedback/leaderboard: the arena view of a preference question. */
export interface Leaderboard {
  question: string;
  confidence: number;
  resamples: number;
  comparisons: number;
  battles: number;
  annotators: number;
  models: ModelScore[];
}

/** GET /api/projects/{id}/quality */
export interface QualityReport {
  questions: QuestionAgreement[];
  consensus: {
    items: number;
    mean_confidence: number | null;
    share_confident: number | null;
    histogram: { low: number; high: number; items: number }[];
  };
  review: { pending: number; decided: number };
  paused_annotators: number;
}

/** One row of GET /api/projects/{id}/quality/annotators */
export interface AnnotatorQuality {
  user_id: number;
  username: string;
  answers: number;
  median_duration_ms: number | null;
  gold_answered: number;
  gold_correct: number;
  gold_accuracy: number | null;
  gold_accuracy_low: number | null;
  gold_accuracy_high: number | null;
  agreement_with_consensus: number | null;
  skill: number | null;
  paused: boolean;
  paused_reason: string | null;
  flags: string[];
  /** Per shape question the gold settles: this annotator's objects against the gold's (newer servers). */
  gold_shapes?: Record<string, GoldShapes>;
  /** Per video_tracks question the gold settles: their tracks against the gold's, pooled (newer servers). */
  gold_tracks?: Record<string, GoldTracks>;
  /** Per transcript question: their WER against the consensus, on items that are not gold. */
  transcripts?: Record<string, TranscriptScore>;
  /** Per transcript question: their WER against gold clips (segments: also matched against the gold's). */
  gold_transcripts?: Record<string, TranscriptScore>;
}

/** An annotator's transcripts against a reference, pooled (services/quality/transcript_agreement.py). */
export interface TranscriptScore {
  /** Clips scored. */
  answers: number;
  /** Word errors, and words of the reference; null when no answer had a transcript. */
  errors: number | null;
  words: number | null;
  wer: number | null;
  /** Segments on gold clips, matched one to one with the gold's (same label, IoU 0.5). */
  matched?: number;
  missed?: number;
  extra?: number;
  precision?: number | null;
  recall?: number | null;
  f1?: number;
  mean_iou?: number | null;
}

/** An annotator's objects on gold images matched to the gold objects, pooled (services/quality/reports.py). */
/** An annotator's tracks on gold videos, pooled over them (services/quality/shape_gold.py `gold_tracks`). */
export interface GoldTracks {
  /** Gold answers that had this question. */
  answers: number;
  mota: number;
  idf1: number;
  hota: number;
  /** Identity switches. */
  switches: number;
}

export interface GoldShapes {
  /** Gold answers that had this question. */
  answers: number;
  matched: number;
  missed: number;
  extra: number;
  precision: number | null;
  recall: number | null;
  f1: number;
  /** Mean IoU (OKS for keypoints) of the matched objects; null when nothing matched. */
  mean_similarity: number | null;
  similarity: "iou" | "oks";
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
  column?: number | null;
  record?: number | null;
  file?: string | null;
}

/** A saved, named filter of a project's items (docs/curation.md, "Slices"). */
export interface Slice {
  id: number;
  name: string;
  /** The data browser's filter object: its query parameters, and `ids`. */
  filter: Record<string, unknown>;
  created_by: number | null;
  created_at: string;
  updated_at: string;
  count?: number | null;
}

/** An item found by meaning (GET /api/projects/{id}/search). */
export interface FoundItem {
  item_id: number;
  external_id: string;
  similarity: number;
  preview: string;
}

/** A duplicate group and its items (GET /api/projects/{id}/duplicates). */
export interface DuplicateGroup {
  group_id: number;
  method: string;
  items: { item_id: number; external_id: string; score: number; preview: string; set_aside: boolean }[];
}

/** The embedding map of the latest loop round, column by column (GET /api/projects/{id}/map). */
export interface EmbeddingMapData {
  model_version: number;
  encoder: string;
  question: string;
  items: number;
  sampled: number;
  shown: number;
  missing: number;
  limit: number;
  explained_variance: number[];
  ids: number[];
  x: number[];
  y: number[];
  label: (string | null)[];
  confidence: (number | null)[];
  disagreement: (string | null)[];
  annotator: (number | null)[];
  annotators: Record<string, string>;
}
