# Quality benchmark: labelloop.quality against crowd-kit, which runs in its own virtualenv (the oracle).
# Included by the main Makefile (include bench/*.mk); also usable alone: make -f bench/quality.mk bench-quality
VENV ?= .venv
ORACLE_VENV ?= .venv-oracle
ORACLE_PY := $(ORACLE_VENV)/bin/python
# crowd-kit 1.4.2's Wawa breaks with scikit-learn >= 1.6, and its majority-vote ties change with
# pandas 3; these pins reproduce the published JOSS 2024 table. krippendorff and statsmodels are the
# references the quality tests' constants were checked against.
ORACLE_PINS := crowd-kit==1.4.2 scikit-learn==1.5.2 pandas==2.2.3 numpy==2.2.6 krippendorff==0.9.0 \
	statsmodels==0.14.4

$(ORACLE_PY):
	python3 -m venv $(ORACLE_VENV)
	echo '*' > $(ORACLE_VENV)/.gitignore
	$(ORACLE_PY) -m pip install -q $(ORACLE_PINS)

.PHONY: bench-quality oracle-venv
oracle-venv: $(ORACLE_PY)

## Quality: accuracy on 8 real crowds vs crowd-kit, Dawid-Skene and alpha on 1M answers, adaptive overlap.
bench-quality: $(ORACLE_PY) $(STAMP)
	$(VENV)/bin/python bench/quality.py --oracle-python $(ORACLE_PY)
