"""report.json's typed schema: real reports parse without losing what the readers use; a damaged one is a
one-line RunError naming the file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import archpick
from archpick.cli import main
from archpick.errors import RunError
from archpick.report.answer import answer
from archpick.report.render import render_markdown
from archpick.report.schema import CollectionSummary, Report
from archpick.report.summary import summary_row

from conftest import DATA


@pytest.fixture(scope="module")
def airline_report(tmp_path_factory) -> tuple[Path, dict]:
    """A tiny real forecasting fit of data/airline: its run directory and report.json."""
    data = tmp_path_factory.mktemp("airline") / "airline"
    shutil.copytree(DATA / "airline", data)
    out = data.parent / "run"
    archpick.fit(data, "20s", max_trials=1, max_epochs=2, out=out)
    return out, json.loads((out / "report.json").read_text())


@pytest.fixture(scope="module")
def digits_report(digits_small: Path, tmp_path_factory) -> tuple[Path, dict]:
    """A tiny real image classification fit of the digits subset: its run directory and report.json."""
    out = tmp_path_factory.mktemp("digits-run") / "run"
    archpick.fit(digits_small, "20s", max_trials=1, max_epochs=2, out=out)
    return out, json.loads((out / "report.json").read_text())


def _assert_common(rep: Report, data: dict) -> None:
    """The parts every finished run has, as report.json holds them."""
    assert rep.dataset == data["dataset"] and rep.task == data["task"] and rep.verdict == data["verdict"]
    assert rep.recommendation.family == data["recommendation"]["family"]
    assert rep.recommendation.variant == data["recommendation"]["variant"]
    assert rep.race.metric == data["race"]["metric"]
    assert rep.race.lower_is_better == (data["race"]["direction"] == "min")
    assert [t.trial for t in rep.leaderboard] == [row["trial"] for row in data["leaderboard"]]
    assert [t.stop_reason for t in rep.leaderboard] == [row["stop_reason"] for row in data["leaderboard"]]
    assert [(b.name, b.metrics) for b in rep.baselines] == [
        (b["name"], {k: v for k, v in b.items() if k != "name"}) for b in data["baselines"]
    ]
    final = rep.final
    assert final is not None
    assert (final.family, final.variant, final.trial) == (
        data["final"]["family"],
        data["final"]["variant"],
        data["final"]["trial"],
    )
    assert final.metrics == data["final"]["metrics"] and final.members == data["final"]["members"]
    band = data["final"]["interval"]
    assert final.interval is not None
    assert (final.interval.metric, final.interval.low, final.interval.high) == (
        band["metric"],
        band["low"],
        band["high"],
    )
    assert rep.model is not None and rep.model.keras == data["model"]["keras"]
    assert rep.model.saved_model == data["model"].get("saved_model")
    assert rep.budget.given_s == data["budget"]["given_s"] and rep.timings == data["timings"]
    assert rep.notes == data["notes"] and rep.plots == data["plots"]
    assert answer(rep) == answer(data)
    _assert_new_parts(rep, data)


def _assert_new_parts(rep: Report, data: dict) -> None:
    """The parts the rendered report, the plots and leaderboard.csv read, as report.json holds them."""
    assert (rep.path, rep.version, rep.created) == (data["path"], data["archpick_version"], data["created"])
    assert rep.batch_size == data["batch_size"] and rep.regime.why == data["regime"]["why"]
    hw = data["hardware"]
    assert (rep.hardware.backend, rep.hardware.device, rep.hardware.cpus, rep.hardware.threads) == (
        hw["backend"],
        hw["device"],
        hw["cpus"],
        hw["threads"],
    )
    assert rep.hardware.gpus == [g["name"] for g in hw["gpus"]] and rep.hardware.reasons == hw["reasons"]
    assert rep.skipped.count == data["skipped"]["count"]
    assert [(f.file, f.reason) for f in rep.skipped.files] == [
        (f["file"], f["reason"]) for f in data["skipped"]["files"]
    ]
    assert rep.backbone is None and "backbone" not in data
    assert [(s.question, s.answer, s.evidence, s.outcome) for s in rep.recommendation.steps] == [
        (s["question"], s["answer"], s["evidence"], s.get("outcome", "")) for s in data["recommendation"]["steps"]
    ]
    assert [
        (f.family, f.variant, f.role, f.best_score, f.budget, f.seconds, f.trials, f.scores) for f in rep.race.families
    ] == [
        (f["family"], f["variant"], f["role"], f["best_score"], f["budget"], f["seconds"], f["trials"], f["scores"])
        for f in data["race"]["families"]
    ]
    sel, raw = rep.race.selection, data["race"]["selection"]
    assert sel.folds == raw["folds"] and len(sel.scores) == len(raw.get("scores", []))
    check = raw.get("baseline_check")
    assert (sel.baseline_check is None) == (check is None)
    if check:
        got = sel.baseline_check
        assert (got.on, got.model, got.baseline, got.baseline_score, got.beats) == (
            check["on"],
            check["model"],
            check["baseline"],
            check["baseline_score"],
            check["beats"],
        )
    assert [{**t.fields, "hyperparameters": t.hyperparameters} for t in rep.leaderboard] == [
        {**row, "hyperparameters": row["hyperparameters"]} for row in data["leaderboard"]
    ]
    assert rep.final.history == data["final"]["history"]
    assert rep.final.hyperparameters == data["final"]["hyperparameters"]
    contract, raw = rep.model.contract, data["model"]["contract"]
    assert (contract.endpoint, contract.raw, contract.inside, contract.meaning) == (
        raw["endpoint"],
        raw["raw"],
        raw["inside"],
        raw["meaning"],
    )
    assert [(t.name, t.dtype, list(t.shape)) for t in [*contract.inputs, contract.output]] == [
        (t["name"], t["dtype"], t["shape"]) for t in [*raw["inputs"], raw["output"]]
    ]
    assert contract.labels == [str(n) for n in raw.get("labels") or []]
    prof = data["profile"]
    assert (rep.profile.n_classes, rep.profile.imbalance, rep.profile.n_skipped) == (
        prof["n_classes"],
        prof["imbalance"],
        prof["n_skipped"],
    )
    assert rep.profile.classes == prof["classes"]
    assert rep.split.imbalance == data["split"]["imbalance"]["ratio"]
    assert render_markdown(rep) == render_markdown(data)


def test_a_forecasting_report_parses_without_loss(airline_report) -> None:
    _, data = airline_report
    rep = Report.from_json(data)
    _assert_common(rep, data)
    assert rep.primary_metric == "mase"
    fc = rep.final.forecast
    assert fc is not None and fc.actual == data["final"]["forecast"]["actual"]
    assert fc.future_values == data["final"]["forecast"]["future"]["values"]
    assert rep.series is not None and rep.series.values == data["series"]["values"]
    assert rep.series.target == data["series"]["target"]
    assert rep.profile.facts == data["profile"]["facts"]


def test_a_classification_report_parses_without_loss(digits_report) -> None:
    _, data = digits_report
    rep = Report.from_json(data)
    _assert_common(rep, data)
    assert rep.primary_metric == "accuracy" and rep.final.forecast is None and rep.series is None
    assert rep.profile.modality == "image" and rep.profile.n_samples == data["profile"]["n_samples"]
    metrics = data["final"]["metrics"]
    assert rep.final.confusion_matrix == metrics["confusion_matrix"]
    assert [(c.name, c.precision, c.recall, c.f1, c.support) for c in rep.final.per_class] == [
        (str(c["class"]), c["precision"], c["recall"], c["f1"], c["support"]) for c in metrics["per_class"]
    ]


def test_a_transfer_runs_backbone_and_a_collection_summary_parse(digits_report, tmp_path: Path) -> None:
    run_dir, data = digits_report
    backbone = {
        "name": "mobilenet_v2",
        "label": "MobileNetV2 (ImageNet)",
        "origin": "keras.applications",
        "path": "/weights/mobilenet.h5",
        "input": "resized to 96x96",
        "frozen": "all 52 layers with weights",
        "searched_as": "2-D CNN on MobileNetV2",
        "exported": True,
        "unfrozen_layers": 0,
    }
    got = Report.from_json({**data, "backbone": backbone}).backbone
    assert got is not None and (got.name, got.label, got.origin, got.path, got.input, got.frozen) == (
        backbone["name"],
        backbone["label"],
        backbone["origin"],
        backbone["path"],
        backbone["input"],
        backbone["frozen"],
    )
    assert got.searched_as == backbone["searched_as"] and got.exported

    row = {
        "dataset": "digits",
        "modality": "image",
        "recommended": data["recommendation"]["family"],
        "winner": data["final"]["family"],
        "metric": "accuracy",
        "test_metric": data["final"]["metrics"]["accuracy"],
        "baseline": max(b["accuracy"] for b in data["baselines"]),
        "seconds": 3.5,
        "report": str(run_dir / "report.html"),
        "status": "complete",
        "verdict": data["verdict"],
        "error": "",
    }
    failed = {"dataset": "broken", "metric": "accuracy", "status": "failed", "error": "no trial finished"}
    skipped = [{"file": "notes", "reason": "not a dataset"}]
    summary = CollectionSummary.from_json(
        {"collection": "c", "budget_s": 60, "used_s": 9.5, "datasets": [row, failed], "skipped": skipped}
    )
    assert (summary.collection, summary.budget_s, summary.used_s) == ("c", 60.0, 9.5)
    assert [(s.file, s.reason) for s in summary.skipped] == [("notes", "not a dataset")]
    first, second = summary.datasets
    assert (first.dataset, first.winner, first.test_metric, first.baseline, first.report) == (
        "digits",
        row["winner"],
        row["test_metric"],
        row["baseline"],
        row["report"],
    )
    assert (second.test_metric, second.winner, second.status, second.error) == (None, "", "failed", "no trial finished")
    shown = summary_row(first, tmp_path)
    best = max(data["baselines"], key=lambda b: b["accuracy"])
    assert shown.score.baseline_name == best["name"] and shown.verdict == data["verdict"]
    assert summary_row(second, tmp_path).score.standing == "failed"


@pytest.mark.parametrize(
    "damage",
    [
        {"datasets": "none"},
        {"datasets": [{"metric": "accuracy"}]},
        {"datasets": [{"dataset": "d", "test_metric": "high"}]},
        {"skipped": [{"file": "x"}]},
        [],
    ],
)
def test_a_damaged_summary_is_one_line_naming_the_file(tmp_path: Path, damage) -> None:
    data = {"collection": "c", "budget_s": 60, "used_s": 1.0, "datasets": [], "skipped": []}
    data = {**data, **damage} if isinstance(damage, dict) else damage
    with pytest.raises(RunError) as err:
        CollectionSummary.from_json(data, tmp_path / "summary.json")
    assert str(err.value).startswith(str(tmp_path / "summary.json")) and "\n" not in str(err.value)


def test_optional_parts_stay_none() -> None:
    rep = Report.from_json({"dataset": "d", "status": "failed", "leaderboard": []})
    assert rep.final is None and rep.model is None and rep.series is None and rep.baselines == []
    assert answer(rep) is None


@pytest.mark.parametrize(
    "damage",
    [
        {"final": [1, 2]},
        {"baselines": "none"},
        {"final": {"metrics": 3}},
        {"baselines": [{"accuracy": 0.5}]},
        {"timings": {"load": "fast"}},
        {"hardware": {"cpus": "two"}},
        {"hardware": {"gpus": ["H200"]}},
        {"regime": "small"},
        {"skipped": {"files": [{"file": "a.png"}]}},
        {"backbone": ["mobilenet"]},
        {"recommendation": {"steps": [{"question": "images?"}]}},
        {"race": {"families": [{"role": "recommended"}]}},
        {"race": {"families": [{"family": "cnn", "scores": ["best"]}]}},
        {"race": {"selection": {"scores": [{"mean": 0.9}]}}},
        {"race": {"selection": {"baseline_check": {"model": "0.9"}}}},
        {"final": {"metrics": {"per_class": [{"precision": 1.0}]}}},
        {"final": {"metrics": {"confusion_matrix": "none"}}},
        {"final": {"history": {"loss": ["low"]}}},
        {"final": {"history": [0.5]}},
        {"model": {"contract": {"inputs": []}}},
        {"model": {"keras": "m.keras", "contract": {"endpoint": "serve", "inputs": [{"name": "x"}], "output": {}}}},
        {"profile": {"column_uses": [1]}},
        {"profile": {"n_classes": "ten"}},
        {"split": {"imbalance": {"ratio": "high"}}},
    ],
)
def test_a_damaged_report_is_one_line_naming_the_file(digits_report, tmp_path: Path, damage: dict) -> None:
    run_dir, data = digits_report
    with pytest.raises(RunError) as err:
        Report.from_json({**data, **damage}, tmp_path / "report.json")
    assert str(err.value).startswith(str(tmp_path / "report.json")) and "\n" not in str(err.value)

    broken = tmp_path / "run"
    broken.mkdir()
    shutil.copy2(run_dir / "status.json", broken / "status.json")
    (broken / "report.json").write_text(json.dumps({**data, **damage}))
    res = CliRunner().invoke(main, ["report", str(broken)])
    assert res.exit_code == 2, res.output
    line = res.output.strip()
    assert "\n" not in line and str(broken / "report.json") in line and "damaged" in line


@pytest.mark.parametrize("which", ["airline_report", "digits_report"])
def test_the_verdict_names_the_exported_model(which: str, request) -> None:
    """The verdict's "exported the ..." and the final model, the race winner and the model files agree."""
    _, data = request.getfixturevalue(which)
    rep = Report.from_json(data)
    assert rep.final is not None and data["race"]["winner"] == rep.final.family
    assert rep.verdict.rsplit("exported the ", 1)[1].startswith(rep.final.variant)
