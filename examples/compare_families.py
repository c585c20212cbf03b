"""Recommend, then verify: race the flowchart's family against the runner-up on variable-length sequences.

Run from the repository root: python examples/compare_families.py
"""

from archpick import fit, recommend

rec = recommend("data/vowels")
print(f"flowchart: {rec.variant}; runner-up: {rec.runner_up_variant}")
run = fit("data/vowels", time_budget="2m", seed=0, out="runs/example-vowels", overwrite=True)
print(run.report["verdict"])
for family in run.report["race"]["families"]:
    print(family["family"], family["role"], "best validation", family["best_score"], family["trials"], "trials")
