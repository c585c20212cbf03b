"""The one table of architecture families: what archpick can train on each modality, and what it is called.

The flowchart (which family to recommend), the hypermodel registry (which class builds it), the race (which
names `--families` accepts) and the report (what a family is called) all read FAMILIES. Adding a family for a
modality is one row here plus its HyperModel class in archpick/hypermodels/. Standard library only, so
`inspect` and `recommend()` can read it without TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass

# Family -> what a person calls it.
FAMILY_NAMES: dict[str, str] = {
    "cnn": "CNN",
    "rnn": "RNN (LSTM/GRU)",
    "hybrid": "hybrid CNN-RNN",
    "dense": "dense network",
    "linear": "linear model",
    "transformer": "Transformer",
}
# Names `--families` accepts -> family.
ALIASES: dict[str, str] = {
    "cnn": "cnn",
    "rnn": "rnn",
    "hybrid": "hybrid",
    "dense": "dense",
    "lstm": "rnn",
    "gru": "rnn",
    "linear": "linear",
    "transformer": "transformer",
    "attention": "transformer",
}


@dataclass(frozen=True)
class Family:
    """One family on one modality.

    Attributes:
        modality: "image", "video", "sequence", "timeseries", "text" or "table".
        family: "cnn", "rnn", "hybrid", "dense", "linear" or "transformer".
        builder: "module:Class" of its HyperModel under archpick/hypermodels/.
        variant: Its short name in leaderboards and verdicts.
        design: What it is, for the flowchart's recommendation.
    """

    modality: str
    family: str
    builder: str
    variant: str
    design: str


FAMILIES: tuple[Family, ...] = (
    Family(
        "image",
        "cnn",
        "cnn:CNNHyperModel",
        "2-D CNN",
        "2-D CNN (plain, residual, Inception or MobileNetV2 inverted-residual blocks)",
    ),
    Family("image", "dense", "dense:DenseHyperModel", "dense network", "dense network on flattened pixels"),
    Family(
        "video",
        "hybrid",
        "video:VideoHybridHyperModel",
        "per-frame CNN -> LSTM/GRU",
        "per-frame CNN under TimeDistributed -> LSTM/GRU (or ConvLSTM2D)",
    ),
    Family(
        "video",
        "cnn",
        "video:FrameCNNHyperModel",
        "per-frame CNN with temporal average pooling (ignores order)",
        "per-frame CNN with temporal average pooling (ignores order)",
    ),
    Family(
        "sequence",
        "rnn",
        "rnn:SequenceRNNHyperModel",
        "LSTM/GRU with masking",
        "GRU, LSTM or SimpleRNN (gradient-clipped) with masking",
    ),
    Family(
        "sequence",
        "cnn",
        "cnn1d:SequenceCNNHyperModel",
        "1-D CNN (FCN/ResNet/InceptionTime/MiniRocket-style)",
        "1-D CNN (FCN, ResNet, InceptionTime or MiniRocket random kernels) with global pooling",
    ),
    Family("sequence", "dense", "dense:DenseHyperModel", "dense network", "dense network on flattened steps"),
    Family(
        "sequence",
        "transformer",
        "transformer:SequenceTransformerHyperModel",
        "Transformer encoder",
        "Transformer encoder: input projection, learned or sinusoidal positions, 1-3 blocks of masked multi-head "
        "self-attention and feed-forward (layer norm, residuals), masked average pooling",
    ),
    Family(
        "timeseries",
        "rnn",
        "forecast:ForecastRNNHyperModel",
        "LSTM/GRU forecaster",
        "GRU, LSTM or SimpleRNN (gradient-clipped) forecaster over a lookback window",
    ),
    Family(
        "timeseries",
        "cnn",
        "forecast:ForecastCNNHyperModel",
        "dilated causal 1-D CNN forecaster",
        "1-D CNN forecaster over a lookback window",
    ),
    Family(
        "text",
        "rnn",
        "text:TextRNNHyperModel",
        "LSTM/GRU with masking",
        "embedding -> bidirectional GRU, LSTM or SimpleRNN (gradient-clipped)",
    ),
    Family(
        "text",
        "hybrid",
        "text:TextHybridHyperModel",
        "Conv1D -> LSTM/GRU",
        "embedding -> Conv1D -> pooling -> GRU, LSTM or SimpleRNN (gradient-clipped)",
    ),
    Family(
        "text",
        "cnn",
        "text:TextCNNHyperModel",
        "1-D CNN (multi-width, Kim 2014)",
        "embedding -> 1-D CNN with global max pooling",
    ),
    Family("text", "dense", "text:TextNgramHyperModel", "TF-IDF word 1-2-grams -> MLP", "TF-IDF word 1-2-grams -> MLP"),
    Family(
        "text",
        "transformer",
        "transformer:TextTransformerHyperModel",
        "Transformer encoder",
        "embedding -> Transformer encoder: learned or sinusoidal positions, 1-3 blocks of masked multi-head "
        "self-attention and feed-forward (layer norm, residuals), masked average pooling",
    ),
    Family(
        "table",
        "dense",
        "dense:DenseHyperModel",
        "dense network",
        "dense network (MLP) with normalisation and imputation",
    ),
    Family(
        "table",
        "linear",
        "linear:LinearHyperModel",
        "linear model (or wide-and-deep)",
        "linear model on the same preprocessing (ridge in closed form or L2 by gradient), or wide-and-deep "
        "(the linear and MLP parts summed)",
    ),
)
_BY_KEY: dict[tuple[str, str], Family] = {(f.modality, f.family): f for f in FAMILIES}


def lookup(modality: str, family: str) -> Family | None:
    """The family's row for a modality, or None where archpick cannot train it."""
    return _BY_KEY.get((modality, family))


def design_for(modality: str, family: str) -> str:
    """What a family means for a modality ('' when archpick cannot train it there)."""
    entry = lookup(modality, family)
    return entry.design if entry else ""


def families_for(modality: str) -> list[str]:
    """The families archpick can train on a modality, in FAMILY_NAMES order."""
    return [f for f in FAMILY_NAMES if (modality, f) in _BY_KEY]
