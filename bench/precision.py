"""Precision and speed modes of an evaluation: fp32 (the default, as the official code), autocast in bf16 or fp16,
channels-last weights, ``torch.compile``. Each mode is checked against the device, applied once, and named in the
record's protocol tag, so that a run in another mode never shares a leaderboard row with an fp32 run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PRECISIONS = ("fp32", "bf16", "fp16")


@dataclass(frozen=True)
class SpeedModes:
    """``precision``: fp32 / bf16 / fp16 (autocast); ``channels_last``: weights in channels-last memory format;
    ``compile``: the model wrapped by ``torch.compile``."""

    precision: str = "fp32"
    channels_last: bool = False
    compile: bool = False
    separable_heatmaps: bool = False  # NLA-SLR heatmaps as outer products (keypoints.separable_heatmap_input)

    @property
    def tag(self) -> str:
        """The suffix of the protocol tag: empty for the default modes."""
        parts = [self.precision] if self.precision != "fp32" else []
        parts += ["channels_last"] if self.channels_last else []
        parts += ["compile"] if self.compile else []
        parts += ["separable_heatmaps"] if self.separable_heatmaps else []
        return "".join(f"-{p}" for p in parts)

    def to_dict(self) -> dict:
        out = {"precision": self.precision, "channels_last": self.channels_last, "compile": self.compile}
        return {**out, "separable_heatmaps": True} if self.separable_heatmaps else out


def speed_modes(amp: bool | str | None, device: str, channels_last: bool = False, compile: bool = False,
                separable_heatmaps: bool = False) -> SpeedModes:
    """Check the modes against ``device``. ``amp``: None/False/"fp32", "bf16", "fp16", or True (the device's
    autocast default: fp16 on CUDA, bf16 on CPU)."""
    kind = str(device).split(":")[0]
    if amp is True:
        precision = "fp16" if kind == "cuda" else "bf16"
    elif amp in (None, False, "", "fp32", "none"):
        precision = "fp32"
    else:
        precision = str(amp).lower()
    if precision not in PRECISIONS:
        raise ValueError(f"--amp {amp!r}: expected one of bf16, fp16 (fp32 is the default without --amp)")
    if precision == "fp16" and kind != "cuda":
        raise ValueError(f"--amp fp16 needs a CUDA device (--device cuda): CPU autocast computes in bf16; "
                         f"pass --amp bf16 on {device}")
    return SpeedModes(precision, bool(channels_last), bool(compile), bool(separable_heatmaps))


def autocast(device: str, modes: SpeedModes):
    """The autocast context of ``modes`` (disabled for fp32)."""
    import torch

    enabled = modes.precision != "fp32"
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(modes.precision)
    return torch.autocast(device_type=torch.device(device).type, dtype=dtype, enabled=enabled)


def apply_modes(model, modes: SpeedModes):
    """``model`` with channels-last weights (4-D: channels_last, 5-D: channels_last_3d) and/or compiled."""
    import torch

    if modes.channels_last:
        with torch.no_grad():
            for param in model.parameters():
                if param.dim() in (4, 5):
                    fmt = torch.channels_last if param.dim() == 4 else torch.channels_last_3d
                    param.data = param.data.contiguous(memory_format=fmt)
    if modes.compile:
        model = torch.compile(model, dynamic=True)  # clip lengths vary: one graph, not one per length
    return model


def fp32_note(fp32_record: Path, metric: str, value: float, rows: dict[str, dict], output_of) -> str | None:
    """The measured difference of a non-fp32 run against the fp32 run of the same protocol in the same results
    folder (None when there is none): the metric in both, and how many shared samples' outputs differ
    (``output_of(row)``: the hypothesis, the top-1 class)."""
    import json

    from bench.records import read_record

    if not Path(fp32_record).is_file():
        return None
    reference = read_record(fp32_record)
    if metric not in reference.metrics:
        return None
    theirs_file = next((reference.extra.get(k) for k in ("hypotheses", "scores") if reference.extra.get(k)), None)
    differing = shared = 0
    if theirs_file and Path(theirs_file).is_file():
        theirs = {}
        for line in Path(theirs_file).read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                theirs[row["id"]] = row
        for sample_id, row in rows.items():
            if sample_id in theirs:
                shared += 1
                differing += output_of(row) != output_of(theirs[sample_id])
    old = reference.metrics[metric]
    return (f"measured against fp32 ({fp32_record}): {metric} {value:.2f} vs {old:.2f} ({value - old:+.2f}); "
            f"{differing} of {shared} shared samples' outputs differ (bench compare gives the interval)")
