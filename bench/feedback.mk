# Feedback benchmark (included by the Makefile): Crowd-BT against win rates and plain Bradley-Terry on
# the issue's simulated crowd (with sensitivity tables), agreement, annotators against the aggregate
# and the models' leaderboard on PandaLM's real preferences, rank aggregation on simulated rankings,
# span aggregation on CoNLL MTurk (bench/spans.py) and generation against a local stub server
# (bench/generation.py). A few minutes on two cores.
.PHONY: bench-feedback
## Feedback: preferences (Crowd-BT vs win rates, PandaLM agreement and leaderboard), rankings, spans, generation (table, then JSON).
bench-feedback: $(STAMP)
	$(PY) bench/feedback.py
