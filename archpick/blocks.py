"""The building blocks a family searches, one line each: the names its hypermodel's choice takes and what each
one is, for the flowchart section of the report.

The hypermodels read their choice lists from here (archpick/hypermodels/cnn.py: "block"; rnn.py: "cell"), so
the report cannot list a block the search does not try. Standard library only: rendering a report imports no
TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SearchedBlock:
    """One value of a family's block hyperparameter.

    Attributes:
        name: The hyperparameter's value (what the leaderboard shows).
        hyperparameter: The hyperparameter that picks it ("block", "cell").
        description: What it is, in one line.
    """

    name: str
    hyperparameter: str
    description: str


IMAGE_CNN_BLOCKS: tuple[SearchedBlock, ...] = (
    SearchedBlock("plain", "block", "two 3x3 or 5x5 convolutions, each with batch norm and ReLU (VGG-style)"),
    SearchedBlock(
        "residual", "block", "two convolutions plus an identity (or 1x1) shortcut, added before the last ReLU (ResNet)"
    ),
    SearchedBlock(
        "inception",
        "block",
        "parallel 1x1, 3x3, 5x5 (or two stacked 3x3) and 3x3 max-pool branches, "
        "1x1-reduced, concatenated (Inception/GoogLeNet)",
    ),
    SearchedBlock(
        "inverted_residual",
        "block",
        "1x1 expansion (2-6x) with ReLU6, depthwise 3x3 or 5x5 with ReLU6, "
        "linear 1x1 projection, shortcut when shapes match (MobileNetV2)",
    ),
)
RNN_CELLS: tuple[SearchedBlock, ...] = (
    SearchedBlock("gru", "cell", "GRU: update and reset gates over one hidden state"),
    SearchedBlock("lstm", "cell", "LSTM: input, forget and output gates and a separate cell state"),
    SearchedBlock(
        "simple_rnn",
        "cell",
        "SimpleRNN: one tanh recurrence, no gates; trained with gradient-norm "
        "clipping, as ungated recurrences can blow gradients up",
    ),
)
# (modality, family) -> its blocks, for the families whose hypermodel picks one from a table above.
BLOCKS: dict[tuple[str, str], tuple[SearchedBlock, ...]] = {
    ("image", "cnn"): IMAGE_CNN_BLOCKS,
    ("sequence", "rnn"): RNN_CELLS,
    ("timeseries", "rnn"): RNN_CELLS,
    ("text", "rnn"): RNN_CELLS,
    ("text", "hybrid"): RNN_CELLS,
}


def names(blocks: tuple[SearchedBlock, ...]) -> list[str]:
    """The hyperparameter values of `blocks`, in order (the first is the search's default)."""
    return [b.name for b in blocks]


def blocks_for(modality: str, family: str) -> tuple[SearchedBlock, ...]:
    """The blocks a family searches on a modality (empty when it picks none from a table here)."""
    return BLOCKS.get((modality, family), ())
