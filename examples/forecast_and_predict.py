"""Forecast the airline series, then reload the exported SavedModel and forecast past the end of the data.

Run from the repository root: python examples/forecast_and_predict.py
"""

from archpick import fit
from archpick.predict import predict

run = fit("data/airline", time_budget="60s", seed=0, out="runs/example-airline", overwrite=True)
print(run.report["verdict"])
final = run.report["final"]["metrics"]
naive = run.report["baselines"][0]
print(f"test MASE {final['mase']:.3f} against {naive['name']} {naive['mase']:.3f}")
for row in predict(run.path, ["data/airline/airline.csv"]):
    print("next months:", [round(v) for v in row["prediction"]])
