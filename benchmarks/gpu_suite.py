"""The GPU benchmark suite: per model card, forward clips/s in fp32 and AMP (with the logit shift AMP causes), GPU
busy %, peak GPU memory, end-to-end ``bench eval`` clips/s with its per-stage profile, and the official model
code's forward with the same weights beside ours where a checkout is given. Writes a JSON and a markdown table.

On a lent GPU (one command; the official checkouts are optional)::

    python benchmarks/gpu_suite.py --device cuda --out benchmarks/gpu_suite \
        [--official corrnet=/path/CorrNet --official slowfastsign=/path/SlowFastSign --official signvlm=/path/signVLM
         --official evl_vitb16_8f_k400=/path/signVLM --official signnet=/path/VideoMAEv2]

On CPU, with the reduced cards and a tiny synthetic release (what the tests run)::

    python benchmarks/gpu_suite.py --device cpu --quick --out /tmp/suite

Inputs are random tensors of each card's test shape (continuous: the official batch of 2 clips, 140 and 120
frames, padded as the official collate; isolated: ``--views`` clips of the card's frames and crop, every stream the
model reads). Weights are random, the same for our model and the official one. AMP: bf16 on CPU; fp16 and bf16 on
CUDA. GPU busy %: ``nvidia-smi`` sampled every 100 ms while the timed forwards (or the evaluation) run. End to end:
``evaluate_continuous``/``evaluate_isolated`` on a synthetic release (generated, or ``--data`` from
``bench_pipeline.py make``) with ``--workers`` processes and ``--profile``; cards whose backbone is a separate file
(SignVLM/EVL) are measured by forward only. Cards of the VideoMAEv2/SignNet family are added when registered.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench.data.video import pad_batch  # noqa: E402
from bench.precision import SpeedModes, apply_modes, autocast  # noqa: E402
from zoo.cards import get_card, list_models  # noqa: E402

FULL = ("corrnet", "slowfastsign", "s3d_rgb64", "s3d_pose64", "nla_slr", "signvlm", "evl_vitb16_8f_k400")
QUICK = ("corrnet_tiny", "slowfastsign_tiny", "s3d_rgb_tiny", "signvlm_tiny")
LATER = ("signnet", "videomae")  # name parts of cards other branches add (VideoMAEv2 / SignNet)
CSLR_FRAMES = (140, 120)  # PHOENIX-2014 dev clips average 139 frames
KEYPOINT_CHANNELS = 63  # NLA-SLR's keypoint heatmaps: 63 points


def cards(quick: bool) -> list[str]:
    names = list(QUICK if quick else FULL)
    if not quick:
        names += [n for n in list_models() if any(part in n for part in LATER) and n not in names]
    return [n for n in names if n in list_models()]


def example_inputs(card, model, views: int, quick: bool, seed: int = 0) -> tuple[tuple, dict]:
    """Random inputs of the card's test shape: ``(args, kwargs)`` for ``model``."""
    g = torch.Generator().manual_seed(seed)
    crop = card.input.crop
    if card.task == "continuous":
        frames = (24, 20) if quick else CSLR_FRAMES
        clips = [torch.rand(t, 3, crop, crop, generator=g) * 2 - 1 for t in frames]
        video, lengths, _ = pad_batch(clips, card.temporal_layout)
        return (video, lengths), {}
    frames = card.protocol.frames
    inputs = {}
    for stream in getattr(model, "inputs", ("rgb",)):
        if stream == "rgb":
            inputs["rgb"] = torch.rand(views, 3, frames, crop, crop, generator=g) * 2 - 1
        elif stream == "keypoint":
            size = card.input.heatmap_size
            inputs["keypoint"] = torch.rand(views, KEYPOINT_CHANNELS, frames, size, size, generator=g) * 2 - 1
    return (), inputs


def logits_of(card, out) -> torch.Tensor:
    """The reported head's logits (the first recorded output that the model returns)."""
    if not isinstance(out, dict):
        return out
    wanted = [card.protocol.output] if card.task == "continuous" else [*card.protocol.outputs, "logits"]
    for name in wanted:
        if name in out:
            return out[name]
    return next(v for k, v in out.items() if k not in ("features", "feat_len"))


class GpuBusy:
    """GPU utilisation (%) sampled by ``nvidia-smi`` every 100 ms while the block runs (None without one)."""

    def __init__(self, device: str):
        self.samples: list[float] = []
        self.enabled = device.startswith("cuda") and shutil.which("nvidia-smi") is not None
        index = device.split(":")[1] if ":" in device else "0"
        self.cmd = ["nvidia-smi", "-i", index, "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits",
                    "-lms", "100"]

    def __enter__(self) -> "GpuBusy":
        if self.enabled:
            self.process = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, text=True)
            self.thread = threading.Thread(target=self._read, daemon=True)
            self.thread.start()
        return self

    def _read(self) -> None:
        for line in self.process.stdout:
            try:
                self.samples.append(float(line.strip()))
            except ValueError:
                pass

    def __exit__(self, *exc) -> None:
        if self.enabled:
            self.process.terminate()
            self.process.wait()

    @property
    def mean(self) -> float | None:
        return round(float(np.mean(self.samples)), 1) if self.samples else None


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def time_forward(model, args, kwargs, device: str, modes: SpeedModes, repeats: int) -> dict:
    """Median and best seconds of ``repeats`` forwards after a warm-up; peak GPU memory; GPU busy %; logits."""
    args = tuple(a.to(device) for a in args)
    kwargs = {k: v.to(device) for k, v in kwargs.items()}
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    times = []
    with torch.no_grad(), autocast(device, modes):
        out = model(*args, **kwargs)  # warm-up (cudnn autotuning, compile)
        sync(device)
        with GpuBusy(device) as busy:
            for _ in range(repeats):
                began = time.perf_counter()
                out = model(*args, **kwargs)
                sync(device)
                times.append(time.perf_counter() - began)
    return {"median_s": float(np.median(times)), "best_s": float(min(times)), "gpu_busy_pct": busy.mean,
            "peak_gpu_mib": round(torch.cuda.max_memory_allocated() / 2**20, 1) if device.startswith("cuda") else None,
            "out": out}


def forward_rows(name: str, device: str, views: int, repeats: int, quick: bool, official: dict[str, Path],
                 compile_model: bool = False) -> list[dict]:
    """fp32 and AMP forwards of one card (and the official code's fp32 forward when a checkout is given)."""
    card = get_card(name)
    torch.manual_seed(0)
    model, theirs = card.build(100).eval(), None
    key = card.name.replace("_tiny", "")
    if key in OFFICIAL and key in official:  # the official model with our weights (both may come from one file)
        model, theirs = OFFICIAL[key](official[key], model, card)
    model = model.eval().to(device)
    args, kwargs = example_inputs(card, model, views, quick)
    clips = int(args[0].shape[0]) if args else views
    amps = ("bf16",) if not device.startswith("cuda") else ("fp16", "bf16")
    rows, reference = [], None
    for precision in ("fp32", *amps):
        modes = SpeedModes(precision, compile=compile_model)
        result = time_forward(apply_modes(model, modes) if compile_model else model, args, kwargs, device, modes,
                              repeats)
        logits = logits_of(card, result.pop("out")).float().cpu()
        row = {"card": name, "impl": "ours", "precision": precision, "clips": clips,
               "clips_per_s": round(clips / result["median_s"], 3), **result}
        if reference is None:
            reference = logits
        else:
            row["max_rel_logit_shift"] = float((logits - reference).abs().max() / reference.abs().max().clamp_min(1e-12))
            row["top1_agreement"] = float((logits.argmax(-1) == reference.argmax(-1)).float().mean())
        rows.append(row)
    if theirs is not None:
        theirs = theirs.eval().to(device)
        result = time_forward(theirs, args, kwargs, device, SpeedModes(), repeats)
        logits = logits_of(card, result.pop("out")).float().cpu()
        rows.append({"card": name, "impl": "official", "precision": "fp32", "clips": clips,
                     "clips_per_s": round(clips / result["median_s"], 3), **result,
                     "max_rel_logit_shift": float((logits - reference).abs().max() / reference.abs().max())})
    return rows


def _official_cslr(build):
    def make(repo: Path, ours, card):
        from official_import import official_state_dict

        theirs = build(repo, 100)
        theirs.load_state_dict(official_state_dict(ours.state_dict()), strict=True)
        return ours, theirs
    return make


class _RgbInput(torch.nn.Module):
    """An official video classifier called as ours is (``rgb=`` clips ``[B, 3, T, H, W]``), returning its logits.
    VideoMAE's sinusoid table is a plain attribute that ``.to()`` leaves behind: moved once, at the first call."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        table = getattr(self.model, "pos_embed", None)
        if isinstance(table, torch.Tensor) and table.device != rgb.device:
            self.model.pos_embed = table.to(rgb.device)
        return self.model(rgb)


def _official_videomae(repo: Path, ours, card):
    """VideoMAEv2's ``modeling_finetune.py`` (upstream or SignNet's fork), loaded strictly with our tensors."""
    from official_import_videomae import build_official, official_finetune_module

    theirs = build_official(official_finetune_module(repo), 100, card.protocol.frames)
    mine = ours.state_dict()
    theirs.load_state_dict({k: mine[k] for k in theirs.state_dict()}, strict=True)
    return ours, _RgbInput(theirs)


def _official_evl(repo: Path, ours, card):
    """EVL's ``EVLTransformer`` (SignVLM's model files) and ours, both from one random CLIP file (OpenAI's
    TorchScript layout) and one random decoder, as ``bench_signvlm.py`` builds them."""
    from bench_signvlm import build
    from official_parity_signvlm import CARDS

    arch = {card_name: arch for arch, card_name in CARDS.items()}[card.name]
    folder = Path(tempfile.mkdtemp(prefix="gpu-suite-evl-"))
    frames = card.protocol.frames
    return build("ours", repo, arch, frames, folder), _RgbInput(build("official", repo, arch, frames, folder))


def _official_corrnet(repo, num_classes):
    from official_import import official_model

    return official_model(repo, num_classes)


def _official_slowfastsign(repo, num_classes):
    from official_import import official_slowfastsign_model

    return official_slowfastsign_model(repo, num_classes)


OFFICIAL = {"corrnet": _official_cslr(_official_corrnet), "slowfastsign": _official_cslr(_official_slowfastsign),
            "signnet": _official_videomae, "signvlm": _official_evl, "evl_vitb16_8f_k400": _official_evl}


def end_to_end(name: str, device: str, workers: int, data: Path, quick: bool, clips: int) -> dict | None:
    """``bench eval`` of the card (random weights saved as a checkpoint, loaded strictly) on a synthetic release,
    profiled; None for cards whose backbone is a separate file."""
    from bench.runners.continuous import ContinuousEval, evaluate_continuous
    from bench.runners.isolated import IsolatedEval, evaluate_isolated
    from zoo.checkpoints import save_checkpoint, vocabulary_sha256

    card = get_card(name)
    if card.separate_backbone:
        return None
    torch.manual_seed(0)
    results = data / "results" / f"{name}-{device.replace(':', '')}-w{workers}"
    if card.task == "continuous":
        from bench.data.synthetic_signs import SyntheticPhoenix2014

        root = ensure_phoenix(data, quick, clips)
        dataset = SyntheticPhoenix2014(root)
        vocab = [dataset.id_to_gloss()[i] for i in range(len(dataset.id_to_gloss()))]
        ckpt = save_checkpoint(data / f"{name}.safetensors", card.build(len(vocab)).state_dict(),
                               {"card": name, "num_classes": len(vocab), "vocabulary_sha256": vocabulary_sha256(vocab)})
        with GpuBusy(device) as busy:
            result = evaluate_continuous(ContinuousEval(name, "synthetic_phoenix2014", "dev", root, str(ckpt), results,
                                                        device=device, workers=workers, profile=True, restart=True))
    else:
        from bench.data.synthetic_isolated import SyntheticWlasl

        root, keypoints = ensure_wlasl(data, quick, clips)
        classes = SyntheticWlasl(root).classes()
        model = card.build(len(classes))
        ckpt = save_checkpoint(data / f"{name}.safetensors", model.state_dict(),
                               {"card": name, "num_classes": len(classes)})
        needs_keypoints = any(s.startswith("keypoint") for s in getattr(model, "inputs", ()))
        with GpuBusy(device) as busy:
            result = evaluate_isolated(IsolatedEval(name, "synthetic_wlasl", "test", root, str(ckpt),
                                                    keypoints if needs_keypoints else None, results,
                                                    views=("1view",), device=device, workers=workers, profile=True,
                                                    restart=True))
    profile = result.profile.to_dict()
    wall = profile["wall_s"] or 1e-9
    rows = result.run_dir / ("hypotheses.jsonl" if card.task == "continuous" else "scores.jsonl")
    return {"card": name, "device": device, "workers": workers, "clips": profile["clips"],
            "clips_per_s": profile["clips_per_s"], "rows": str(rows),
            "gpu_busy_pct": busy.mean, "shares_pct": {k: round(100 * v / wall, 1) for k, v in profile["main_s"].items()},
            "profile": profile}


def predictions(rows_file: str) -> dict[str, object]:
    """Per sample: the hypothesis (CSLR) or every protocol's label rank and top class (ISLR)."""
    out = {}
    for line in Path(rows_file).read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        out[row["id"]] = row["glosses"] if "glosses" in row else (row["ranks"], {k: v[0][0] for k, v in row["top"].items()})
    return out


def cpu_parity(row: dict, data: Path, quick: bool, clips: int) -> dict:
    """The same evaluation on the CPU: how many samples' fp32 predictions equal the device's."""
    cpu = end_to_end(row["card"], "cpu", row["workers"], data, quick, clips)
    ours, theirs = predictions(row["rows"]), predictions(cpu["rows"])
    same = sum(ours[i] == theirs.get(i) for i in ours)
    return {"card": row["card"], "samples": len(ours), "same_predictions_as_cpu": same}


def ensure_phoenix(data: Path, quick: bool, clips: int) -> Path:
    """A synthetic PHOENIX-2014 dev split: tiny (36x36, quick) or at the real size (256x256 PNG, PHOENIX lengths)."""
    root = data / ("phoenix-quick" if quick else "phoenix-2014-multisigner")
    if (root / "annotations").is_dir():
        return root
    if quick:
        from bench.data.synthetic_signs import make_dataset

        make_dataset(root, {"train": 1, "dev": clips, "test": 1}, seed=0)
    else:
        from bench.data.synthetic_signs import GLOSSES, make_split_like

        rng = np.random.default_rng(0)
        rows = [{"fileid": f"synthetic{i:04d}", "signer": "Signer01", "num_frames": int(rng.integers(50, 230)),
                 "label": " ".join(rng.choice(GLOSSES, int(rng.integers(3, 9))))} for i in range(clips)]
        make_split_like(root, rows, "dev", frame_size=256)
    return root


def ensure_wlasl(data: Path, quick: bool, clips: int) -> tuple[Path, Path]:
    """A synthetic WLASL test split with keypoints: tiny (64x64, quick) or 256x256 clips of 40-100 frames."""
    from bench.data.synthetic_isolated import make_dataset

    root = data / ("wlasl-quick" if quick else "wlasl")
    pickle = root / "keypoints_synthetic_wholebody.pkl"
    if not pickle.is_file():
        per_class = max(1, clips // 12)
        if quick:
            make_dataset(root, {"train": 1, "test": per_class}, seed=0, signers=2)
        else:
            make_dataset(root, {"train": 1, "test": per_class}, frame_size=256, seed=0, clip_frames=(40, 100))
    return root, pickle


def markdown(forward: list[dict], e2e: list[dict], device: str) -> str:
    lines = [f"Device: {device_name(device)}", "",
             "| card | impl | precision | clips/forward | clips/s | GPU busy % | peak GPU MiB | logit shift vs fp32 | "
             "top-1 agreement |", "|---|---|---|---|---|---|---|---|---|"]
    for r in forward:
        shift = f"{r['max_rel_logit_shift']:.1e}" if "max_rel_logit_shift" in r else ""
        agree = f"{100 * r['top1_agreement']:.0f}%" if "top1_agreement" in r else ""
        lines.append(f"| {r['card']} | {r['impl']} | {r['precision']} | {r['clips']} | {r['clips_per_s']:.2f} | "
                     f"{_fmt(r['gpu_busy_pct'])} | {_fmt(r['peak_gpu_mib'])} | {shift} | {agree} |")
    if e2e:
        lines += ["", "| card | workers | clips | end-to-end clips/s | GPU busy % | main-process shares of wall time |",
                  "|---|---|---|---|---|---|"]
        for r in e2e:
            shares = ", ".join(f"{k} {v}%" for k, v in r["shares_pct"].items())
            lines.append(f"| {r['card']} | {r['workers']} | {r['clips']} | {r['clips_per_s']:.2f} | "
                         f"{_fmt(r['gpu_busy_pct'])} | {shares} |")
    return "\n".join(lines) + "\n"


def _fmt(value) -> str:
    return "" if value is None else str(value)


def device_name(device: str) -> str:
    if device.startswith("cuda"):
        return f"{torch.cuda.get_device_name(torch.device(device))} (torch {torch.__version__})"
    from bench.threads import thread_provenance

    info = thread_provenance()
    return f"CPU {info.get('cpu')} ({torch.get_num_threads()} threads, torch {torch.__version__})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--quick", action="store_true", help="the reduced cards and a tiny release (CPU tests)")
    parser.add_argument("--cards", nargs="*", help="default: every card of the suite that is registered")
    parser.add_argument("--views", type=int, default=4, help="isolated clips per forward")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--workers", type=int, nargs="*", default=[2], help="end-to-end DataLoader workers")
    parser.add_argument("--e2e-clips", type=int, default=24, help="clips of the generated releases")
    parser.add_argument("--data", type=Path, help="where the synthetic releases are (made there when absent)")
    parser.add_argument("--no-e2e", action="store_true")
    parser.add_argument("--compile", action="store_true", help="also torch.compile each forward")
    parser.add_argument("--cpu-parity", nargs="*", default=["corrnet", "s3d_rgb64", "corrnet_tiny", "s3d_rgb_tiny"],
                        help="cards whose end-to-end fp32 predictions are compared with a CPU run of the same "
                        "evaluation (on a GPU)")
    parser.add_argument("--official", action="append", default=[], metavar="CARD=CHECKOUT",
                        help="the official code's forward beside ours (corrnet, slowfastsign, signnet: a VideoMAEv2 "
                        "checkout, signvlm / evl_vitb16_8f_k400: a signVLM checkout)")
    parser.add_argument("--out", type=Path, required=True, help="folder for suite.json and suite.md")
    args = parser.parse_args(argv)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error("--device cuda but torch sees no CUDA device; pass --device cpu --quick to try it on CPU")
    official = {k: Path(v).resolve() for k, v in (item.split("=", 1) for item in args.official)}
    args.out.mkdir(parents=True, exist_ok=True)
    data = args.data or Path(tempfile.mkdtemp(prefix="gpu-suite-"))
    forward, e2e, parity = [], [], []
    failures = []
    for name in args.cards or cards(args.quick):
        try:  # one card's failure (memory, a missing checkout) is reported, and the others still run
            forward += forward_rows(name, args.device, args.views, args.repeats, args.quick, official, args.compile)
            print(json.dumps(forward[-1]), flush=True)
            for workers in [] if args.no_e2e else args.workers:
                row = end_to_end(name, args.device, workers, data, args.quick, args.e2e_clips)
                if row is not None:
                    e2e.append(row)
                    print(json.dumps({k: v for k, v in row.items() if k != "profile"}), flush=True)
            if e2e and e2e[-1]["card"] == name and args.device != "cpu" and name in args.cpu_parity:
                parity.append(cpu_parity(e2e[-1], data, args.quick, args.e2e_clips))
                print(json.dumps(parity[-1]), flush=True)
        except Exception as err:  # noqa: BLE001 - recorded in the JSON and the table
            failures.append({"card": name, "error": f"{type(err).__name__}: {err}"})
            print(json.dumps(failures[-1]), flush=True)
        if args.device.startswith("cuda"):
            torch.cuda.empty_cache()
    payload = {"device": device_name(args.device), "forward": forward, "end_to_end": e2e, "cpu_parity": parity,
               "failures": failures,
               "command": " ".join(sys.argv)}
    (args.out / "suite.json").write_text(json.dumps(payload, indent=1))
    table = markdown(forward, e2e, args.device)
    table += "".join(f"\n{p['card']}: fp32 predictions equal to the CPU's for {p['same_predictions_as_cpu']} of "
                     f"{p['samples']} samples\n" for p in parity)
    table += "".join(f"\n{f['card']}: FAILED: {f['error']}\n" for f in failures)
    (args.out / "suite.md").write_text(table)
    print(table)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
