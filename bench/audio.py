"""Benchmark of voice labelling: transcript aggregation on real crowd transcripts against crowd-kit.

Run with ``make bench-audio`` (or ``python bench/audio.py --oracle-python .venv-oracle/bin/python``).
Prints tables and, as its last line, one JSON object (also written to bench/results/audio.json):

1. corpus WER against the LibriSpeech text of the default text aggregator on CrowdSpeech dev-clean and
   dev-other (../shared/data/media/transcripts, 7 transcripts per clip; Pavlichenko et al. 2021), of
   plain ROVER (ours), of one random worker (mean of 10 draws) and of the best single transcript per clip
   in hindsight (the oracle); all scored after lower-casing and removing punctuation;
2. crowd-kit's ROVER (1.4.2, run in the separate virtual environment of bench-quality by a subprocess
   on the same files, fed the same normalised text, since it does not normalise) and its time;
3. our aggregation time (best of 3, input checks and normalisation included; also CPU seconds);
4. the sensitivity of the default to each of its settings on both splits and on a simulated crowd;
5. a simulated crowd (workers of differing word error rates, 20% spammers): weighting vs plain ROVER;
6. Whisper tiny.en on espeak-ng speech of known text: WER and real-time factor (bench/audio_asr.py);
7. Chromium, cold page to a one-hour file's waveform on screen (bench/audio_browser.py).

Each measurement is one function returning a dict of figures; ``MEASUREMENTS`` lists them.
This file is also the oracle's entry point (``--oracle-run SPEC OUT``): in that mode it imports only
pandas and crowdkit.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
MEDIA = Path(os.environ.get("LABELLOOP_MEDIA_DATA", ROOT.parent / "shared" / "data" / "media"))
RESULTS = ROOT / "bench" / "results" / "audio.json"
SPLITS = {"clean": "crowdspeech_dev_clean", "other": "crowdspeech_dev_other"}
SENSITIVITY: dict[str, list[Any]] = {
    "n_iter": [0, 1, 2, 5, 10],
    "prior_words": [None, 0.0, 10.0, 30.0, 100.0, 300.0, 1000.0],  # None: empirical Bayes (default)
    "error_floor": [0.001, 0.01, 0.05],
    "presence": ["total", "best", "model"],
    "realign": [True, False],
}
SIMULATED = {"n_tasks": 2000, "n_workers": 150, "mean_error": 0.25, "spammer_share": 0.2, "seed": 11}
ORACLE_PYTHON = str(ROOT / ".venv-oracle" / "bin" / "python")


def load(split: str) -> tuple[pd.DataFrame, pd.Series]:
    folder = MEDIA / "transcripts" / SPLITS[split]
    answers = pd.read_csv(folder / "answers.csv", dtype=str, keep_default_na=False)
    gold = pd.read_csv(folder / "gold.csv", dtype=str, keep_default_na=False).set_index("task")["text"]
    return answers, gold


def normalised_text(texts: pd.Series) -> pd.Series:
    """The normalisation of labelloop.quality.texts (hyphens split, lower case, no punctuation), by regex,
    so that the oracle's interpreter need not import labelloop."""
    split = texts.str.replace(r"[\s\-\u2010-\u2015/\\]+", " ", regex=True).str.lower()
    return split.str.replace(r"[^\w\s]|_", "", regex=True).str.split().str.join(" ").fillna("")


# ---------------------------------------------------------------- the oracle (crowd-kit venv)


def oracle_run(spec_path: str, out_path: str) -> None:
    """crowd-kit's ROVER on each split; writes its texts and seconds as JSON."""
    from importlib.metadata import version

    from crowdkit.aggregation import ROVER  # only the oracle's interpreter has crowd-kit

    spec = json.loads(Path(spec_path).read_text())
    out: dict[str, Any] = {"versions": {"crowd-kit": version("crowd-kit"), "pandas": pd.__version__}}
    for split in spec["splits"]:
        answers, _ = load(split)
        answers = answers.assign(text=normalised_text(answers["text"]))
        model = ROVER(tokenizer=lambda s: s.split(" "), detokenizer=lambda t: " ".join(t))
        start = time.perf_counter()
        texts = model.fit_predict(answers)
        seconds = time.perf_counter() - start
        out[split] = {"seconds": seconds, "texts": texts.to_dict()}
        print(f"  crowd-kit ROVER {split}: {seconds:.1f}s", flush=True)
    Path(out_path).write_text(json.dumps(out))


# ---------------------------------------------------------------- ours


def _q() -> Any:
    sys.path.insert(0, str(ROOT / "src"))
    import labelloop.quality as q

    return q


def crowdspeech_quality() -> dict[str, Any]:
    """Corpus WER of ours, plain ROVER, a random worker and the oracle; our time on dev-clean."""
    q = _q()
    from labelloop.quality.texts import best_single_wer

    out: dict[str, Any] = {}
    print("\nCrowdSpeech: corpus WER against LibriSpeech (lower case, no punctuation)")
    print(f"{'split':<7}{'default':>9}{'ROVER':>8}{'random':>8}{'oracle':>8}{'agree':>8}")
    for split in SPLITS:
        answers, gold = load(split)
        ours = q.default_text_aggregator().fit_predict(answers)
        plain = q.ROVER().fit_predict(answers)
        draws = [q.corpus_wer(q.RandomWorker(seed=s).fit_predict(answers), gold) for s in range(10)]
        row = {
            f"crowdspeech_wer_{split}": q.corpus_wer(ours, gold),
            f"our_rover_wer_{split}": q.corpus_wer(plain, gold),
            f"random_worker_wer_{split}": sum(draws) / len(draws),
            f"oracle_best_single_wer_{split}": best_single_wer(answers, gold),
            f"mean_pairwise_wer_{split}": q.mean_pairwise_wer(answers),
        }
        out |= row
        print(f"{split:<7}" + "".join(f"{v:>8.4f} " for v in row.values()))
    answers, _ = load("clean")
    load_avg = list(os.getloadavg())
    walls, cpus = [], []
    for _ in range(3):
        wall, cpu = time.perf_counter(), time.process_time()
        q.default_text_aggregator().fit_predict(answers.copy())
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    out |= {
        "aggregate_s_clean": min(walls),
        "aggregate_s_clean_runs": walls,
        "aggregate_cpu_s_clean": min(cpus),
        "load_average_at_timing": load_avg,
    }
    print(f"default aggregator on dev-clean: {min(walls):.2f}s wall (best of 3), {min(cpus):.2f}s CPU")
    return out


def crowdkit_rover(oracle_python: str | None) -> dict[str, Any]:
    """crowd-kit's ROVER in its own interpreter, scored by our corpus_wer."""
    if oracle_python is None:
        return {}
    q = _q()
    with tempfile.TemporaryDirectory() as tmp:
        spec, result = os.path.join(tmp, "spec.json"), os.path.join(tmp, "out.json")
        Path(spec).write_text(json.dumps({"splits": list(SPLITS)}))
        load_avg = list(os.getloadavg())
        env = {**os.environ, "PYTHONWARNINGS": "ignore"}
        subprocess.run([oracle_python, __file__, "--oracle-run", spec, result], check=True, env=env)
        oracle = json.loads(Path(result).read_text())
    out: dict[str, Any] = {"crowdkit_versions": oracle["versions"], "load_average_at_crowdkit": load_avg}
    for split in SPLITS:
        _, gold = load(split)
        texts = pd.Series(oracle[split]["texts"], dtype=object)
        out[f"rover_baseline_wer_{split}"] = q.corpus_wer(texts, gold)
        out[f"crowdkit_rover_s_{split}"] = oracle[split]["seconds"]
    return out


def sensitivity() -> dict[str, Any]:
    """WER when one setting of the default moves, on both splits and on the simulated crowd."""
    q = _q()
    data = {split: load(split) for split in SPLITS}
    sim, truth = q.simulate_text_crowd(**SIMULATED)
    rows: dict[str, Any] = {}
    print("\nSensitivity: one setting changed at a time (corpus WER)")
    print(f"{'setting':<22}{'clean':>8}{'other':>8}{'simulated':>11}")
    for name, values in SENSITIVITY.items():
        for value in values:
            make: Callable[[], Any] = lambda n=name, v=value: q.TextAggregator(**{n: v})  # noqa: E731
            got = {s: q.corpus_wer(make().fit_predict(a), g) for s, (a, g) in data.items()}
            got["simulated"] = q.corpus_wer(make().fit_predict(sim), truth)
            label = f"{name}={value}"
            rows[label] = got
            print(f"{label:<22}{got['clean']:>8.4f}{got['other']:>8.4f}{got['simulated']:>11.4f}")
    return {"sensitivity": rows}


def simulated_crowd() -> dict[str, Any]:
    """Weighted vs plain ROVER vs one worker on a simulated crowd with spammers."""
    q = _q()
    from labelloop.quality.texts import best_single_wer

    answers, truth = q.simulate_text_crowd(**SIMULATED)
    out = {
        "simulated_wer_default": q.corpus_wer(q.default_text_aggregator().fit_predict(answers), truth),
        "simulated_wer_rover": q.corpus_wer(q.ROVER().fit_predict(answers), truth),
        "simulated_wer_random_worker": q.corpus_wer(q.RandomWorker().fit_predict(answers), truth),
        "simulated_wer_oracle": best_single_wer(answers, truth),
        "simulated_setup": SIMULATED,
    }
    print(f"\nSimulated crowd {SIMULATED}")
    for key, value in out.items():
        if key != "simulated_setup":
            print(f"  {key:<30}{value:.4f}")
    return out


def speech_to_text() -> dict[str, Any]:
    """Whisper tiny.en on espeak-ng speech of known text (bench/audio_asr.py)."""
    from audio_asr import asr_figures

    print("\nSpeech to text (Whisper tiny.en on espeak-ng speech) ...", flush=True)
    out = asr_figures()
    print(f"  WER {out['asr_wer_espeak']:.4f}, {out['asr_realtime_factor']:.1f}x real time "
          f"on {out['asr_audio_s']:.0f} s of audio")
    return out


def waveform_open() -> dict[str, Any]:
    """Chromium, cold page to a one-hour file's waveform on screen (bench/audio_browser.py)."""
    from audio_browser import waveform_open_ms_1h

    print("\nWaveform of a one-hour file in Chromium ...", flush=True)
    out = waveform_open_ms_1h()
    print(f"  cold page to waveform: median {out['waveform_open_ms_1h']:.0f} ms, "
          f"p90 {out['waveform_open_p90_ms_1h']:.0f} ms ({out['waveform_audio']})")
    return out


MEASUREMENTS: list[Callable[[], dict[str, Any]]] = [
    crowdspeech_quality, sensitivity, simulated_crowd, speech_to_text, waveform_open,
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--oracle-python", default=ORACLE_PYTHON)
    parser.add_argument("--no-oracle", action="store_true", help="skip crowd-kit")
    parser.add_argument("--only", nargs="*", help="run only these measurements (function names)")
    parser.add_argument("--oracle-run", nargs=2, metavar=("SPEC", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.oracle_run:
        oracle_run(*args.oracle_run)
        return
    result: dict[str, Any] = {}
    for measure in MEASUREMENTS:
        if args.only and measure.__name__ not in args.only:
            continue
        result |= measure()
    if not args.no_oracle and (not args.only or "crowdkit_rover" in args.only):
        print(f"\ncrowd-kit ({args.oracle_python}) ...", flush=True)
        result |= crowdkit_rover(args.oracle_python)
    targets: dict[str, bool] = {}
    for split in SPLITS:
        ours, theirs = result.get(f"crowdspeech_wer_{split}"), result.get(f"rover_baseline_wer_{split}")
        if ours is not None and theirs is not None:
            result[f"relative_gain_vs_crowdkit_{split}"] = 1 - ours / theirs
            targets[f"wer_10pct_below_crowdkit_rover_{split}"] = ours <= 0.9 * theirs
    if "aggregate_s_clean" in result and "crowdkit_rover_s_clean" in result:
        result["speedup_vs_crowdkit_clean"] = result["crowdkit_rover_s_clean"] / result["aggregate_s_clean"]
        targets["aggregation_10x_faster_than_crowdkit"] = result["speedup_vs_crowdkit_clean"] >= 10
    if "waveform_open_ms_1h" in result:
        targets["waveform_open_under_1000_ms"] = result["waveform_open_ms_1h"] < 1000
    result["targets"] = targets
    result["machine"] = {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
    }
    print("\nTargets")
    for key, met in targets.items():
        print(f"  {key:<45}{met}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, separators=(",", ":")))


if __name__ == "__main__":
    main()
