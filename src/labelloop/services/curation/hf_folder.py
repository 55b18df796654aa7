"""A release as a Hugging Face `datasets` folder, written with pyarrow alone.

The layout `DatasetDict.save_to_disk` writes and `datasets.load_from_disk` reads:
`dataset_dict.json` (`{"splits": [...]}`) and a folder per split holding
`data-00000-of-00001.arrow` (Arrow IPC *stream* format), `dataset_info.json` (the features) and
`state.json` (the data files, the split's name, a fingerprint).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pyarrow as pa

from labelloop.errors import Invalid, Problem

DATA_FILE = "data-00000-of-00001.arrow"


def _feature(t: pa.DataType) -> dict[str, Any]:
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return {"feature": _feature(t.value_type), "_type": "Sequence"}
    dtype = {pa.string(): "string", pa.large_string(): "large_string", pa.int64(): "int64",
             pa.float64(): "float64", pa.bool_(): "bool", pa.null(): "null"}.get(t)
    if dtype is None:
        raise Invalid("a column type the folder cannot describe", [Problem(str(t))])
    return {"dtype": dtype, "_type": "Value"}


def write_split(folder: Path, split: str, table: pa.Table) -> None:
    folder.mkdir(parents=True)
    with pa.OSFile(str(folder / DATA_FILE), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as out:
        out.write_table(table)
    features = {f.name: _feature(f.type) for f in table.schema}
    info = {"citation": "", "description": "", "features": features, "homepage": "", "license": ""}
    (folder / "dataset_info.json").write_text(json.dumps(info, indent=2))
    digest = hashlib.sha256((folder / DATA_FILE).read_bytes()).hexdigest()[:16]
    state: dict[str, Any] = {
        "_data_files": [{"filename": DATA_FILE}], "_fingerprint": digest, "_format_columns": None,
        "_format_kwargs": {}, "_format_type": None, "_output_all_columns": False, "_split": split}
    (folder / "state.json").write_text(json.dumps(state, indent=2))


def write_dataset_dict(target: Path, tables: dict[str, pa.Table]) -> None:
    """`target` must not exist yet (nothing is overwritten)."""
    if target.exists():
        raise Invalid("the folder exists",
                      [Problem(f"{target} already exists: name a new folder", field="folder")])
    target.mkdir(parents=True)
    for split, table in tables.items():
        write_split(target / split, split, table)
    (target / "dataset_dict.json").write_text(json.dumps({"splits": list(tables)}))
