/**
 * The embedding map: the latest loop round's items on a plane (PCA, GET /api/projects/{id}/map),
 * coloured by label, consensus confidence, model disagreement or annotator. Drawing a lasso
 * selects the points inside it; the selection filters the data browser or is saved as a slice.
 * Managers only (it shows everyone's labels). Hand SVG like charts.tsx: every label is a text
 * node, never markup.
 */

import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api, errorText } from "../api";
import type { EmbeddingMapData, Slice } from "../types";
import { pathOf, rounded, selected, type Pt } from "./lasso";
import "./curation.css";

const W = 640;
const H = 480;
const PAD = 16;
const STEP_PX = 2; // a lasso vertex at most every 2 units of the plot: the outline stays light
const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
  "#d62728", "#7f7f7f"];
const NONE = "#c8c8c8";
const OTHER = "#555555";

export type ColourBy = "label" | "confidence" | "disagreement" | "annotator";
const COLOUR_BY: { value: ColourBy; text: string }[] = [
  { value: "label", text: "label" },
  { value: "confidence", text: "consensus confidence" },
  { value: "disagreement", text: "model disagreement" },
  { value: "annotator", text: "annotator" },
];

interface Key { key: string; text: string; colour: string; count: number }

/** Plot coordinates (two decimals, as the circles are drawn) of the map's points. */
function plotted(m: EmbeddingMapData): { px: number[]; py: number[] } {
  const span = (v: number[]) => {
    const lo = Math.min(...v);
    const hi = Math.max(...v);
    return [lo, hi - lo || 1] as const;
  };
  const [x0, dx] = m.x.length ? span(m.x) : [0, 1];
  const [y0, dy] = m.y.length ? span(m.y) : [0, 1];
  const px = m.x.map((x) => Number((PAD + ((x - x0) / dx) * (W - 2 * PAD)).toFixed(2)));
  const py = m.y.map((y) => Number((H - PAD - ((y - y0) / dy) * (H - 2 * PAD)).toFixed(2)));
  return { px, py };
}

/** Each point's colour and the legend, for the chosen field. */
function colours(m: EmbeddingMapData, by: ColourBy): { fill: string[]; legend: Key[] } {
  if (by === "confidence") {
    const fill = m.confidence.map((c) => (c === null ? NONE : `hsl(${Math.round(c * 120)}, 65%, 42%)`));
    const bands: Key[] = [
      { key: "low", text: "below 0.5", colour: "hsl(30, 65%, 42%)", count: 0 },
      { key: "mid", text: "0.5 to 0.8", colour: "hsl(78, 65%, 42%)", count: 0 },
      { key: "high", text: "0.8 and above", colour: "hsl(108, 65%, 42%)", count: 0 },
      { key: "none", text: "no consensus", colour: NONE, count: 0 },
    ];
    for (const c of m.confidence) bands[c === null ? 3 : c < 0.5 ? 0 : c < 0.8 ? 1 : 2]!.count++;
    return { fill, legend: bands };
  }
  const raw: (string | null)[] = by === "label" ? m.label
    : by === "disagreement" ? m.disagreement
    : m.annotator.map((a) => (a === null ? null : String(a)));
  const counts = new Map<string, number>();
  for (const v of raw) if (v !== null) counts.set(v, (counts.get(v) ?? 0) + 1);
  const order = [...counts.keys()].sort((a, b) => counts.get(b)! - counts.get(a)! || a.localeCompare(b));
  const colourOf = new Map<string, string>();
  if (by === "disagreement") {
    colourOf.set("agrees", "#2a9d4b");
    colourOf.set("disagrees", "#d1495b");
  } else {
    order.forEach((v, k) => colourOf.set(v, k < PALETTE.length ? PALETTE[k]! : OTHER));
  }
  const name = (v: string) => (by === "annotator" ? m.annotators[v] ?? `user ${v}` : v);
  const legend: Key[] = order.map((v) => ({ key: v, text: name(v), colour: colourOf.get(v)!, count: counts.get(v)! }));
  const missing = raw.filter((v) => v === null).length;
  if (missing) {
    const text = by === "label" ? "no label" : by === "annotator" ? "no answer" : "no model answer or no label";
    legend.push({ key: "", text, colour: NONE, count: missing });
  }
  return { fill: raw.map((v) => (v === null ? NONE : colourOf.get(v)!)), legend };
}

export function EmbeddingMap({ projectId, onShow, onSaved }: {
  projectId: number;
  /** Show these items in the data browser. */
  onShow: (ids: number[]) => void;
  /** A slice was saved from the selection. */
  onSaved: (s: Slice) => void;
}) {
  const [data, setData] = useState<EmbeddingMapData | null>(null);
  const [error, setError] = useState("");
  const [by, setBy] = useState<ColourBy>("label");
  const [lasso, setLasso] = useState<Pt[]>([]);
  const [drawing, setDrawing] = useState(false);
  const [chosen, setChosen] = useState<number[]>([]); // indices into the map's columns
  const [name, setName] = useState("");
  const [note, setNote] = useState("");
  const svg = useRef<SVGSVGElement>(null);
  const poly = useRef<Pt[]>([]); // the lasso as drawn so far (events come faster than renders)

  useEffect(() => {
    api<EmbeddingMapData>("GET", `/api/projects/${projectId}/map`).then(setData).catch((e) => setError(errorText(e)));
  }, [projectId]);
  const plot = useMemo(() => (data ? plotted(data) : { px: [], py: [] }), [data]);
  const paint = useMemo(() => (data ? colours(data, by) : { fill: [], legend: [] }), [data, by]);
  const isChosen = useMemo(() => new Set(chosen), [chosen]);

  const at = (e: PointerEvent): Pt | null => {
    const m = svg.current?.getScreenCTM();
    if (!m) return null;
    const p = new DOMPoint(e.clientX, e.clientY).matrixTransform(m.inverse());
    return rounded([p.x, p.y]);
  };
  const down = (e: PointerEvent) => {
    const p = at(e);
    if (!p) return;
    (e.currentTarget as Element).setPointerCapture?.(e.pointerId);
    setDrawing(true);
    poly.current = [p];
    setLasso([p]);
    setChosen([]);
    setNote("");
  };
  const move = (e: PointerEvent) => {
    if (!drawing) return;
    const p = at(e);
    const last = poly.current[poly.current.length - 1];
    if (p && (!last || Math.hypot(p[0] - last[0], p[1] - last[1]) >= STEP_PX)) {
      poly.current = [...poly.current, p];
      setLasso(poly.current);
    }
  };
  const up = () => {
    if (!drawing) return;
    setDrawing(false);
    setLasso(poly.current);
    setChosen(selected(plot.px, plot.py, poly.current));
  };
  const ids = chosen.map((k) => data!.ids[k]!);

  const save = async (e: Event) => {
    e.preventDefault();
    try {
      const s = await api<Slice>("POST", `/api/projects/${projectId}/slices`, { name: name.trim(), filter: { ids } });
      setNote(`Saved the slice ${s.name}.`);
      setName("");
      onSaved(s);
    } catch (err) {
      setNote(errorText(err));
    }
  };

  if (error) return <p class="error" role="alert">{error}</p>;
  if (!data) return <p class="muted" role="status" aria-busy="true">Drawing the map…</p>;
  const title = `Items of model version ${data.model_version} (${data.encoder}) on a plane, coloured by ${
    COLOUR_BY.find((c) => c.value === by)!.text}`;
  return (
    <section class="embedding-map" aria-label="embedding map">
      <div class="filters">
        <label>Colour by
          <select name="colour" value={by} onChange={(e) => setBy((e.currentTarget as HTMLSelectElement).value as ColourBy)}>
            {COLOUR_BY.map((c) => <option value={c.value}>{c.text}</option>)}
          </select>
        </label>
      </div>
      <p class="muted">
        {`${data.shown} items shown`}
        {data.sampled < data.items ? ` (a sample of ${data.sampled} of ${data.items}, the most drawn is ${data.limit})` : ""}
        {data.missing ? `; ${data.missing} without an embedding (imported after the round)` : ""}
        {`. Label: ${data.question}. Variance along the axes: ${data.explained_variance.map((v) => `${Math.round(v * 100)}%`).join(", ")}.`}
        {" Draw around points to select them."}
      </p>
      <figure class="chart map">
        <svg ref={svg} viewBox={`0 0 ${W} ${H}`} role="img" aria-label={title} width="100%"
          onPointerDown={down} onPointerMove={move} onPointerUp={up} onPointerLeave={up}>
          <title>{title}</title>
          <rect class="plot" x="0" y="0" width={W} height={H} />
          <g class="points">
            {data.ids.map((id, k) => (
              <circle data-id={id} cx={plot.px[k]} cy={plot.py[k]} r={isChosen.has(k) ? 4 : 3} fill={paint.fill[k]}
                class={isChosen.has(k) ? "chosen" : undefined}>
                <title>{`item ${id} · ${data.label[k] ?? "no label"}`}</title>
              </circle>
            ))}
          </g>
          {lasso.length > 1 && <path class="lasso" d={pathOf(lasso)} />}
        </svg>
        <figcaption>{title}</figcaption>
      </figure>
      <table class="data legend">
        <caption>Colours</caption>
        <thead><tr><th scope="col">Colour</th><th scope="col">{COLOUR_BY.find((c) => c.value === by)!.text}</th><th scope="col">Points</th></tr></thead>
        <tbody>
          {paint.legend.map((k) => (
            <tr data-key={k.key}>
              <td><svg width="14" height="14" aria-hidden="true"><circle cx="7" cy="7" r="6" fill={k.colour} /></svg></td>
              <td>{k.text}</td>
              <td>{k.count}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div class="selection" role="status">
        {chosen.length ? `${chosen.length} selected` : lasso.length > 2 && !drawing ? "Nothing inside the lasso." : ""}
      </div>
      {chosen.length > 0 && (
        <div class="actions">
          <button type="button" class="primary" onClick={() => onShow(ids)}>Show the selected items</button>
          <button type="button" onClick={() => { poly.current = []; setLasso([]); setChosen([]); }}>Clear the selection</button>
          <form class="inline" onSubmit={save}>
            <label>Slice name <input name="slice-name" value={name} required maxLength={100}
              onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} /></label>
            <button type="submit">Save as a slice</button>
          </form>
        </div>
      )}
      {note && <p class="muted" role="status">{note}</p>}
    </section>
  );
}
