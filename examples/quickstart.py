"""Inspect, recommend and fit the shipped digits images from Python (about a minute on 2 CPU cores)."""

from archpick import fit, inspect, recommend

profile = inspect("data/digits")
print(profile.modality, profile.n_samples, "samples,", profile.n_classes, "classes")
rec = recommend(profile)
print("flowchart:", rec.reason)
for step in rec.steps:
    print(f"  {step.question} {step.answer}: {step.evidence}")
run = fit("data/digits", time_budget="60s", seed=0, out="runs/example-digits", overwrite=True)
print(run.report["verdict"])
print("test accuracy:", run.report["final"]["metrics"]["accuracy"])
print(run.leaderboard[["trial", "score", "seconds", "params"]])
