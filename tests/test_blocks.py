"""The block catalogue (archpick/blocks.py): every block it lists is one the hypermodel's choice offers, and the
report's flowchart section prints each block's one-line description."""

from __future__ import annotations

import keras_tuner
import pytest

from archpick import hypermodels
from archpick.blocks import BLOCKS, names
from archpick.datasets.inputspec import InputSpec
from archpick.families import lookup
from archpick.hypermodels.base import ModelSpec
from archpick.report.render import render_markdown

SPECS = {
    "image": InputSpec.from_json({"kind": "image", "shape": [8, 8, 1], "dtype": "uint8", "channels": 1}),
    "sequence": InputSpec.from_json(
        {"kind": "sequence", "shape": [None, 2], "dtype": "float32", "max_length": 5, "pad": "nan"}
    ),
    "timeseries": InputSpec.from_json(
        {
            "kind": "window",
            "shape": [8, 1],
            "dtype": "float32",
            "lookback": 8,
            "horizon": 2,
            "season": 4,
            "columns": ["c0"],
            "target": "c0",
            "target_index": 0,
        }
    ),
    "text": InputSpec.from_json({"kind": "text", "shape": [], "dtype": "string"}),
}


@pytest.mark.parametrize(("modality", "family"), sorted(BLOCKS), ids=lambda v: str(v))
def test_catalogue_matches_the_search_space(modality: str, family: str) -> None:
    assert lookup(modality, family) is not None
    task = "forecasting" if modality == "timeseries" else "classification"
    hm = hypermodels.make(modality, family, ModelSpec(SPECS[modality], task, 2))  # 2 classes or steps
    hp = keras_tuner.HyperParameters()
    hm.build(hp)
    catalogue = BLOCKS[(modality, family)]
    (choice,) = [h for h in hp.space if h.name == catalogue[0].hyperparameter]
    assert list(choice.values) == names(catalogue)  # nothing listed that is not searched, nothing unlisted
    assert choice.default == catalogue[0].name
    assert all(b.description and "\n" not in b.description for b in catalogue)


def test_the_flowchart_section_lists_the_blocks_searched() -> None:
    report = {
        "dataset": "digits",
        "profile": {"modality": "image"},
        "recommendation": {"family": "cnn", "runner_up": "dense", "variant": "2-D CNN", "steps": []},
        "race": {
            "families": [
                {
                    "family": "cnn",
                    "role": "recommended",
                    "variant": "2-D CNN",
                    "trials": 3,
                    "best_score": 0.9,
                    "budget": 30.0,
                    "seconds": 29.0,
                },
                {
                    "family": "dense",
                    "role": "runner-up",
                    "variant": "dense",
                    "trials": 2,
                    "best_score": 0.8,
                    "budget": 10.0,
                    "seconds": 9.0,
                },
            ]
        },
    }
    text = render_markdown(report)
    section = text[text.index("Why this architecture") : text.index("Recommend, then verify")]
    for block in BLOCKS[("image", "cnn")]:
        assert f"| cnn | block = {block.name} | {block.description} |" in section
    assert "MobileNetV2" in section and "Inception" in section and "separable" not in section.lower()
    report["profile"]["modality"] = "table"  # no family with a block table: no block table
    assert "Blocks searched" not in render_markdown(report)
