"""``bench eval`` for isolated SLR: the official views of any ISLR card, every output, resumable, recorded.

Per sample: the official frame count -> the windows of every view protocol of the card (``1view``, ``temporal3``;
each window read once) -> the streams the model reads (RGB clips; keypoint heatmaps from the keypoint file) ->
the model -> softmax of every recorded output -> per protocol, the mean of its views' softmax. What is kept per
sample is compact: each (protocol, output)'s label rank and top-10 classes with probabilities, appended per batch
to ``scores.jsonl`` (an interrupted run resumes from it); metrics are computed from the ranks, so a report can
recompute any top-k and confusion analysis without the model. Samples without a readable video are counted and
listed: results read "2878 of 2879 evaluated". Each record also says which data layout was read (the release or
NLA-SLR's package; clips whose ``seq_len`` differs from their stored frames) and how many labels were tied at the
top-k decision (``ties``: the harness counts ties against the label; NLA-SLR's ``torch.argsort`` may not).

Quirks recorded beside their corrections: a card whose one-crop protocol takes an off-centre window (SignNet's
``segment3`` / ``segment1``, the left-most one) is also run with the centred window (``segment3_center``...), each
record saying its crop and, for the twin, which official protocol it corrects. ``per_class_top{k}`` follows the
card's per-class rule (``protocol.per_class``); the other rule's figure is kept beside it under its own name and
``extra.per_class_rules`` names the rule of each figure. A release's own metrics (ASL-Citizen: top-10/20, DCG, MRR,
per signer) come from the stored ranks (the full rank of the label, one int per sample, so DCG/MRR are exact).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np

from bench import distributed
from bench.data import get_dataset
from bench.hht.frames import frames_for_card
from bench.data.keypoints import SIGMA, heatmap_input
from bench.data.spatial import rgb_view_input
from bench.data.views import TemporalView, corrected_twins, official_protocol, protocol_names, protocol_views
from bench.io.atomic import atomic_open
from bench.metrics import TopKCounts
from bench.precision import SpeedModes, apply_modes, autocast, fp32_note, speed_modes
from bench.profile import (CACHE_BUILD, DECODING, H2D, HEATMAPS, MODEL, OFF, READ, TRANSFORM, StageClock,
                           make_profile)
from bench.progress import Progress
from bench.runners.resume import RunClock, fingerprint, resume_message, resume_threads
from bench.runners.sharding import finish_log, gather_rows, part_path, resume_sharded, shard
from bench.records import ResultRecord, collect_provenance, record_path, write_record

TOP = 10  # classes kept per sample and output, for confusion analyses


@dataclass
class IsolatedEval:
    model: str
    dataset: str
    split: str
    data_root: Path
    checkpoint: str | None = None
    keypoints: Path | None = None  # the keypoint pickle, for models with a keypoint stream
    results_dir: Path = Path("results/runs")
    views: tuple[str, ...] | None = None  # default: the card's protocols
    batch_size: int = 4  # clips (views) per forward
    device: str = "cpu"
    amp: bool | str = False  # False/fp32, "bf16", "fp16" (CUDA only); True: the device's autocast default
    trust_checkpoint: bool = False
    random_weights: bool = False
    limit: int | None = None
    restart: bool = False
    workers: int = 2
    videos: str | None = None  # the clips folder or zip (relative to data_root or absolute); default: the layout's
    threads: int | None = None  # torch threads (None: bench.threads' policy)
    backbone: str | None = None  # cards whose frozen backbone is not in checkpoints (SignVLM/EVL): its CLIP file
    fp16_backbone: bool = False  # SignVLM/EVL's official freeze_fp16 backbone (fp32 by default, recorded)
    landmarks: Path | None = None  # H&HT cards: the landmarks folder (default: <data_root>/landmarks)
    channels_last: bool = False  # weights in channels-last memory format (recorded in the tag)
    compile: bool = False  # torch.compile the model (recorded in the tag)
    profile: bool = False  # time each stage; the result's ``profile`` and the records' extra say where time went
    cache_frames: bool = False  # decode the split's clips once into a packed uint8 file (bench.data.frame_cache)
    cache_dir: Path | None = None  # where that file lies (None: $BENCH_CACHE or ~/.cache/slr-bench/frames)
    heatmaps: str = "auto"  # where keypoint heatmaps are made: "workers", "device" or "auto" (see heatmaps_on_device)
    separable_heatmaps: bool = False  # a speed mode: heatmaps as outer products (equal within fp32 rounding; tagged)


@dataclass
class IsolatedResult:
    records: list[Path]
    run_dir: Path
    metrics: dict[str, dict[str, float]]
    evaluated: int
    nominal: int
    not_evaluated: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    integrity: object = None  # the split's IsolatedIntegrity: layout read, problems, seq_len mismatches
    profile: object = None  # bench.profile.Profile with --profile


def evaluate_isolated(cfg: IsolatedEval, progress: Progress | None = None,
                      log: Callable[[str], None] | None = None) -> IsolatedResult:
    import torch

    from zoo.cards import get_card
    from zoo.loader import load_model

    distributed.init_from_env(cfg.device)  # torchrun: join the group; alone: nothing
    device = distributed.local_device(cfg.device)
    progress = progress if distributed.is_main() else None
    profile = make_profile(cfg.profile, cfg.workers, device)
    modes = speed_modes(cfg.amp, device, cfg.channels_last, cfg.compile, cfg.separable_heatmaps)
    card = get_card(cfg.model)
    if card.task != "isolated":
        raise ValueError(f"{cfg.model} is a {card.task}-SLR model; this runner evaluates isolated SLR")
    dataset = frames_for_card(get_dataset(cfg.dataset, "isolated")(cfg.data_root, videos=cfg.videos), card,
                              cfg.landmarks)  # H&HT cards read mosaic frames
    classes = dataset.classes()
    if cfg.checkpoint is None and not cfg.random_weights:
        raise ValueError("no --checkpoint given: bench does not evaluate unloaded weights (pass --random-weights to "
                         "measure an untrained network on purpose)")
    precision = {"freeze_fp16": True} if cfg.fp16_backbone else {}
    head = card.protocol.head_size(cfg.dataset, len(classes))
    loaded = load_model(cfg.model, cfg.checkpoint, num_classes=head, trust=cfg.trust_checkpoint,
                        backbone=cfg.backbone, **precision)
    model = loaded.model.to(device).eval()
    streams = tuple(getattr(model, "inputs", ("rgb",)))
    model = apply_modes(model, modes)
    table = _keypoints(cfg, streams)
    if modes.separable_heatmaps and table is None:
        raise ValueError(f"--separable-heatmaps is for models with a keypoint stream; {cfg.model} reads {streams}")

    samples = dataset.samples(cfg.split)[: cfg.limit or None]
    integrity = dataset.integrity(cfg.split)
    present = set(integrity.present_ids)
    runnable = [s for s in samples if s.id in present]
    protocols = tuple(cfg.views or card.protocol.views)
    protocols += corrected_twins(protocols, card.protocol)  # an official crop quirk is recorded with its correction
    for name in protocols:
        if name not in protocol_names(card.protocol):
            raise ValueError(f"unknown view protocol {name!r} for {cfg.model}: expected one of "
                             f"{', '.join(protocol_names(card.protocol))}")

    tag = "-".join(protocols) + ("-random" if cfg.random_weights else "") + (f"-first{cfg.limit}" if cfg.limit else "")
    tag += ("-fp16backbone" if cfg.fp16_backbone else "") + modes.tag
    run_dir = record_path(cfg.results_dir, cfg.model, cfg.dataset, cfg.split, {"tag": tag}).with_suffix("")
    done = resume_sharded(run_dir, "scores.jsonl", _fingerprint(cfg, loaded, protocols, samples, modes), cfg.restart)
    todo = [s for s in runnable if s.id not in done]
    clock = RunClock(run_dir, resumed=bool(done))
    resume_threads(run_dir, bool(done), cfg.threads)
    if done and log and distributed.is_main():
        log(resume_message(len(runnable) - len(todo), len(runnable), run_dir))
    before, todo = set(done), shard(todo)  # each sample on one rank only
    failed: list[str] = []

    read_views = None
    if cfg.cache_frames:
        from bench.data.frame_cache import isolated_cache

        with profile.stage(CACHE_BUILD):  # decoding the split once, when the cache is stale
            cache = isolated_cache(dataset, cfg.split, runnable, cfg.cache_dir, cfg.workers, log)
        read_views = CachedViews(cache, dataset)
    # worker processes cannot use CUDA: there heatmaps are drawn on the CPU, or sent as keypoints to the device
    on_device = table is not None and heatmaps_on_device(cfg.heatmaps, device, cfg.workers)
    prepared = PreparedSamples(todo, dataset, protocols, streams, table, card, "cpu" if cfg.workers else device,
                               read_views, defer_heatmaps=on_device, separable=modes.separable_heatmaps)
    alone = distributed.world_size() == 1
    count, total = (len(runnable) - len(todo), len(runnable)) if alone else (0, len(todo))  # a rank: its share
    stage = f"{cfg.model} on {cfg.dataset} {cfg.split}"
    from bench.data.loader import batch_loader, timed

    with open(part_path(run_dir, "scores.jsonl"), "a", encoding="utf-8") as rows:
        for item in timed(batch_loader(prepared, cfg.workers, device), profile):
            profile.add_worker(item["timings"])
            sample = item["sample"]
            if item["error"] is not None:
                failed.append(sample.id)
            else:
                stacked = item["stacked"]  # {stream: [views, ...]}, pinned on CUDA: slices copy asynchronously
                if on_device:
                    with profile.stage(HEATMAPS):
                        stacked = heatmaps_of_stacked(stacked, card, dataset, device, modes.separable_heatmaps)
                clips = ViewInputs(item["protocols"])
                clips.update({key: {s: t[i] for s, t in stacked.items()} for i, key in enumerate(item["keys"])})
                row = score_sample(model, sample, clips, protocols, card.protocol.outputs, cfg.batch_size,
                                   device, modes, profile, stacked)
                row.update(sample_facts(sample, dataset))
                done[sample.id] = row
                rows.write(json.dumps(row) + "\n")
                rows.flush()
                profile.clips += 1
            clock.save()
            count += 1
            if progress:
                progress(stage, count, total)
    done, failed = gather_rows(done, before, failed)  # every rank's rows; rank 0 computes and writes
    if not distributed.is_main():
        return distributed.broadcast_object(None)
    finish_log(run_dir, "scores.jsonl", (done[s.id] for s in samples if s.id in done))

    evaluated = [done[s.id] for s in samples if s.id in done]
    ks = tuple(dict.fromkeys((*card.protocol.ks, *dataset.metric_ks)))  # the release's own top-k too
    metrics = _metrics(evaluated, len(classes), ks, card.protocol.per_class, dataset.rank_metrics)
    signers = {s.id: s.signer for s in samples if s.signer is not None}
    per_signer = _per_signer(evaluated, signers, len(classes), ks, dataset.rank_metrics) if dataset.per_signer else {}
    not_evaluated = {"missing": [i for i in integrity.missing_ids if i in {s.id for s in samples}],
                     "unreadable": sorted(({*integrity.unreadable_ids} | set(failed)) & {s.id for s in samples})}
    notes = ["RANDOM WEIGHTS: no checkpoint was loaded; this measures an untrained network"] if cfg.random_weights else []
    if head != len(classes):
        notes.append(f"the official {head}-way head for {len(classes)} classes: the {head - len(classes)} extra logits "
                     f"are in the softmax and can take top-k places (the official protocol)")
    if cfg.limit:
        notes.append(f"limited to the first {cfg.limit} samples of the split")
    if integrity.frame_count_mismatches:
        notes.append(integrity.mismatch_line())
    drop = dataset.official_frame_drop if card.protocol.frame_drop is None else card.protocol.frame_drop
    records = _write_records(cfg, card, loaded, metrics, samples, len(evaluated), not_evaluated, notes,
                             clock.total(), run_dir, integrity, per_signer, drop, modes,
                             profile.stop().to_dict() if cfg.profile else None)
    with atomic_open(run_dir / "classes.txt") as handle:  # class index -> gloss, for the report's breakdowns
        handle.write("".join(f"{gloss}\n" for gloss in classes))
    result = IsolatedResult(records, run_dir, metrics, len(evaluated), len(samples), not_evaluated, notes, integrity,
                            profile if cfg.profile else None)
    return distributed.broadcast_object(result) if distributed.is_distributed() else result


def sample_facts(sample, dataset) -> dict:
    """What the report's breakdowns group by: the clip's frame count under the official rule and its signer."""
    facts = {"frames": int(dataset.frame_count(sample))}
    if sample.signer is not None:
        facts["signer"] = str(sample.signer)
    return facts


def rows_of(run_dir: Path) -> dict[str, dict]:
    """The per-sample rows of a run folder's ``scores.jsonl``."""
    lines = (run_dir / "scores.jsonl").read_text(encoding="utf-8").splitlines()
    return {row["id"]: row for row in (json.loads(line) for line in lines if line.strip())}


class PreparedSamples:
    """One item per sample: every view's model inputs (:func:`window_inputs`), or the error that stopped them,
    with the stage times of the work (read in a worker process, or in the main one without workers)."""

    def __init__(self, samples, dataset, protocols, streams, table, card, device, read_views=None,
                 defer_heatmaps: bool = False, separable: bool = False):
        self.samples, self.dataset, self.protocols, self.streams, self.table, self.card, self.device = \
            samples, dataset, protocols, streams, table, card, device
        self.read_views, self.defer_heatmaps, self.separable = read_views, defer_heatmaps, separable

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> dict:
        import torch

        sample, clock = self.samples[index], StageClock()
        item = {"sample": sample, "error": None}
        try:
            clips = window_inputs(sample, self.dataset, self.protocols, self.streams, self.table, self.card,
                                  self.device, self.read_views, clock, self.defer_heatmaps, self.separable)
            keys = list(clips)
            with clock.stage(TRANSFORM):  # one tensor per stream: the forward batches are slices of it
                stacked = {s: torch.stack([clips[k][s] for k in keys]) for s in clips[keys[0]]}
            item.update(keys=keys, stacked=stacked, protocols=clips.protocols)
        except Exception as err:  # a video that does not decode: counted as unreadable
            item["error"] = f"{type(err).__name__}: {err}"
        item["timings"] = clock.take()
        return item


class CachedViews:
    """``read_views`` from the packed frame cache (whole clips, edge-padded windows as the dataset's own)."""

    def __init__(self, cache, dataset):
        self.cache, self.dataset = cache, dataset

    def __call__(self, sample, views) -> list[np.ndarray]:
        from bench.data.views import pad_edges

        try:
            frames = self.cache.read(sample.id)
        except KeyError:  # not cached (it did not decode when the cache was built): the release's reader
            return self.dataset.read_views(sample, views)
        return [pad_edges(np.array(frames[list(v.indices)]), v.pad) for v in views]


def _keypoints(cfg: IsolatedEval, streams: tuple[str, ...]):
    if not any(s.startswith("keypoint") for s in streams):
        return None
    if cfg.keypoints is None:
        raise ValueError(f"{cfg.model} reads keypoint heatmaps: pass --keypoints FILE.pkl ({{video: [T, 133, 3]}})")
    from bench.data.keypoints import KeypointTable

    return KeypointTable.load(cfg.keypoints)


def window_inputs(sample, dataset, protocols, streams, table, card, device, read_views=None, clock=None,
                  defer_heatmaps: bool = False, separable: bool = False) -> dict:
    """The model inputs of every view of ``protocols``: ``{view key: {stream: tensor}}``, keys in the order of
    ``.protocols``. Views shared by two protocols (1view's window is temporal3's third; the centre crop
    is spatial3's second) are computed once.

    ``read_views(sample, windows)`` reads the windows' frames (default: the dataset's decoder; training passes a
    cache); ``clock`` (a :class:`bench.profile.StageClock`) times reading and transforms. ``defer_heatmaps``: the
    keypoint stream holds the window's keypoints ``[T, P, 3]``, for :func:`keypoint_heatmaps` on the device;
    ``separable``: heatmaps by :func:`bench.data.keypoints.separable_heatmap_input`."""
    import torch

    clock = clock or StageClock()
    views, keys_of = {}, {}
    for protocol in protocols:
        chosen = protocol_views(dataset.frame_count(sample, card.protocol.frame_drop), protocol, card.protocol,
                                dataset.name)
        keys_of[protocol] = [v.key for v in chosen]
        for view in chosen:
            views.setdefault(view.key, view)
    whole_clip = card.input.spatial == "short_side"  # EVL resizes every frame of the clip, then samples the view
    if whole_clip:
        vlen = dataset.frame_count(sample, card.protocol.frame_drop)
        views = {k: replace(v, window=TemporalView("all", tuple(range(vlen))), select=tuple(int(i) for i in v.window.frame_indices()))
                 for k, v in views.items()}
    windows = list({(v.window.name, v.window.pad, v.window.indices): v.window for v in views.values()}.values())
    frames_of = {}
    if "rgb" in streams:
        read = read_views or dataset.read_views
        with clock.stage(READ):
            frames_of = {(w.name, w.pad, w.indices): f for w, f in zip(windows, read(sample, windows))}
    heat_of = {}
    with clock.stage(TRANSFORM):  # heatmaps and the RGB view transforms
        if table is not None:
            name = dataset.keypoint_name(sample)
            for window, points in zip(windows, table.views(name, windows)):
                heat_of[(window.name, window.pad, window.indices)] = torch.from_numpy(points) if defer_heatmaps \
                    else keypoint_heatmaps(points, card, dataset, device, separable=separable).cpu()
        clips = ViewInputs(keys_of)
        for key, view in views.items():
            window = (view.window.name, view.window.pad, view.window.indices)
            clip = {}
            if window in frames_of:
                clip["rgb"] = rgb_view_input(frames_of[window], card.input, dataset.name, view.crop,
                                             pre_resize=dataset.rgb_pre_resize, select=view.select)
            if window in heat_of:
                clip["keypoint"] = heat_of[window]
            clips[key] = clip
    return clips


class ViewInputs(dict):
    """``{view key: {stream: tensor}}`` of one sample, and ``protocols``: each protocol's view keys in order."""

    def __init__(self, protocols: dict[str, list[tuple]]):
        super().__init__()
        self.protocols = protocols


def heatmaps_on_device(where: str, device: str, workers: int) -> bool:
    """Whether keypoint heatmaps are made in the main process on the model's device rather than where the clips
    are prepared: ``"device"``, ``"workers"``, or ``"auto"``: on a GPU (cheaper there, and worker processes
    cannot use CUDA; equal to the CPU's within fp32 rounding), else where the clips are prepared (in parallel)."""
    if where not in ("auto", "device", "workers"):
        raise ValueError(f"heatmaps: expected auto, device or workers, got {where!r}")
    return where == "device" or (where == "auto" and not str(device).startswith("cpu"))


def keypoint_heatmaps(points, card, dataset, device, crop=None, separable: bool = False):
    """The card's heatmap input of one view's keypoints ``[T, P, 3]``: ``[P, T, S, S]`` on ``device`` (``crop``:
    training's box on the Gaussian grid; ``separable``: the outer-product speed mode)."""
    grid = heatmap_grid(card, dataset)
    return heatmap_input(points, dataset.keypoint_frame_size, (grid, grid), getattr(card.input, "heatmap_sigma", SIGMA),
                         card.input.heatmap_size, device, crop=crop, separable=separable)


def heatmaps_of_stacked(stacked: dict, card, dataset, device, separable: bool = False) -> dict:
    """A prepared item's stacked streams with the keypoint stream's keypoints ``[views, T, P, 3]`` (sent by
    ``defer_heatmaps``) drawn as heatmaps ``[views, P, T, S, S]`` on ``device``."""
    import torch

    maps = torch.stack([keypoint_heatmaps(points, card, dataset, device, separable=separable)
                        for points in stacked["keypoint"]])
    return {**stacked, "keypoint": maps}


def heatmap_grid(card, dataset) -> int:
    """The side of the Gaussian grid of the card's heatmaps for this dataset (NLA-SLR: 256)."""
    grids = getattr(card.input, "heatmap_grid", {}) or {}
    return int(grids.get(dataset.name, grids.get("default", 256)))


def score_sample(model, sample, clips, protocols, outputs, batch_size: int, device: str, amp, profile=OFF,
                 stacked: dict | None = None) -> dict:
    """Forward the sample's windows; per protocol and output, the label's rank and the top classes. ``amp``: a
    :class:`bench.precision.SpeedModes`, or a bool (the device's autocast default); ``stacked``: the same views
    as one tensor per stream, in ``clips``' order (forward batches are then slices of it)."""
    import torch

    from bench.data.loader import to_device

    modes = amp if isinstance(amp, SpeedModes) else speed_modes(amp, device)
    keys = list(clips)
    probs: dict[str, list] = {}
    for i in range(0, len(keys), batch_size):
        batch = keys[i:i + batch_size]
        with profile.stage(H2D):
            if stacked is not None:
                inputs = {s: to_device(t[i:i + batch_size], device) for s, t in stacked.items()}
            else:
                inputs = {s: to_device(torch.stack([clips[k][s] for k in batch]), device) for s in clips[batch[0]]}
        with profile.stage(MODEL), torch.no_grad(), autocast(device, modes):
            out = model(**inputs)
        with profile.stage(DECODING):
            for name, logits in out.items():
                if name != "features":
                    probs.setdefault(name, []).append(logits.float().softmax(-1).cpu())
    probs = {name: torch.cat(parts).numpy() for name, parts in probs.items()}  # [windows, C]
    chosen = [o for o in outputs if o in probs] or list(probs)
    row = {"id": sample.id, "label": int(sample.label), "windows": len(keys), "ranks": {}, "ties": {}, "top": {}}
    for protocol in protocols:
        index = [keys.index(w) for w in clips.protocols[protocol]]
        for output in chosen:
            fused = probs[output][index].mean(axis=0)  # softmax averaged over the protocol's views
            key = f"{protocol}/{output}"
            row["ranks"][key] = int((fused >= fused[sample.label]).sum() - 1)  # ties count against the label
            row["ties"][key] = int((fused == fused[sample.label]).sum() - 1)  # other classes with the label's score
            top = np.argsort(-fused, kind="stable")[:TOP]
            row["top"][key] = [[int(c), round(float(fused[c]), 6)] for c in top]
    return row


def _metrics(rows: list[dict], num_classes: int, ks, per_class: str = "present_classes",
             rank_metrics: tuple[str, ...] = ()) -> dict[str, dict[str, float]]:
    """Per ``views/output``: top-k per instance and per class (``per_class_top{k}`` by the card's rule, both rules
    by name beside it), the ranking metrics a dataset asks for, and the tie counts."""
    out = {}
    for key in (rows[0]["ranks"] if rows else {}):
        tied = [r.get("ties", {}).get(key, 0) for r in rows]  # rows written before ties were kept: none known
        counts = TopKCounts.from_ranks([r["ranks"][key] for r in rows], [r["label"] for r in rows], num_classes, ks,
                                       tied=np.asarray(tied, dtype=np.int64))
        result = counts.compute(per_class)
        out[key] = {k: float(v) for k, v in result.items() if k.startswith("per_") or k in rank_metrics}
        out[key]["classes_counted"] = result.get("classes_counted", 0)
        out[key].update({k: v for k, v in result.items() if k == "ties" or k.startswith("tie_dependent")})
    return out


def _per_signer(rows: list[dict], signers: dict[str, str], num_classes: int, ks,
                rank_metrics: tuple[str, ...]) -> dict[str, dict[str, dict[str, float]]]:
    """``{views/output: {signer: {samples, per_instance_top{k}, ranking metrics}}}`` (ASL-Citizen reports per
    signer); samples without a signer are left out."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for key in (rows[0]["ranks"] if rows else {}):
        by_signer: dict[str, list[dict]] = {}
        for row in rows:
            if row["id"] in signers:
                by_signer.setdefault(signers[row["id"]], []).append(row)
        for signer, part in sorted(by_signer.items()):
            result = TopKCounts.from_ranks([r["ranks"][key] for r in part], [r["label"] for r in part],
                                           num_classes, ks).compute()
            out.setdefault(key, {})[signer] = {"samples": len(part), **{
                k: float(v) for k, v in result.items() if k.startswith("per_instance") or k in rank_metrics}}
    return out


def _fingerprint(cfg, loaded, protocols, samples, modes: SpeedModes | None = None) -> str:
    parts = [cfg.model, cfg.dataset, cfg.split, loaded.checkpoint.sha256 if loaded.checkpoint else "random",
             ",".join(protocols), str(cfg.keypoints), str(getattr(loaded.model, "backbone_source", None)),
             str(cfg.fp16_backbone), *[s.id for s in samples]]
    if modes is not None and modes.tag:  # fp32 runs keep the fingerprint they had before these modes existed
        parts.append(modes.tag)
    return fingerprint(*parts)


def _write_records(cfg, card, loaded, metrics, samples, evaluated, not_evaluated, notes, seconds,
                   run_dir, integrity, per_signer=None, frame_drop: int = 0, modes: SpeedModes | None = None,
                   profile: dict | None = None) -> list[Path]:
    """One record per (view protocol, output): each is one leaderboard row."""
    paths = []
    missing_ids = sorted({i for ids in not_evaluated.values() for i in ids})
    reported = (card.protocol.reported_view, card.protocol.reported_output)
    modes = modes or speed_modes(cfg.amp, cfg.device)
    for key, values in metrics.items():
        protocol, output = key.split("/")
        rules = per_class_rules(values, card.protocol.per_class)
        record = ResultRecord(
            kind="run", model=cfg.model, dataset=cfg.dataset, split=cfg.split, task="isolated",
            protocol={"tag": f"{protocol}-{output}" + ("-random" if cfg.random_weights else "")
                      + (f"-first{cfg.limit}" if cfg.limit else "") + ("-fp16backbone" if cfg.fp16_backbone else "")
                      + modes.tag,
                      "views": protocol, "output": output, "fusion": card.protocol.fusion,
                      "frames": card.protocol.frames, "precision": modes.precision,
                      "channels_last": modes.channels_last, "compile": modes.compile,
                      **({"separable_heatmaps": True} if modes.separable_heatmaps else {}),
                      "backbone_precision": "fp16" if cfg.fp16_backbone else "fp32",
                      "sampling": card.protocol.sampling, "stride": card.protocol.stride_for(cfg.dataset),
                      "paper_reports": protocol == reported[0] and reported[1] in (None, output),
                      "per_class": card.protocol.per_class, "frame_drop": frame_drop,
                      **_crop_fields(protocol, card.protocol)},
            metrics={k: v for k, v in values.items() if k.startswith("per_") or k in RANK_DECIMALS},
            decimals={k: RANK_DECIMALS.get(k, 2) for k in values if k.startswith("per_") or k in RANK_DECIMALS},
            samples={"nominal": len(samples), "evaluated": evaluated, "missing": len(samples) - evaluated,
                     "missing_ids": missing_ids},
            provenance={**collect_provenance(loaded.checkpoint.sha256 if loaded.checkpoint else None, cfg.device,
                                             seconds), **distributed.provenance()},  # how many processes
            notes=notes + ([] if reported[1] else ["the paper does not say which output its table reports"]),
            extra={"not_evaluated": not_evaluated, "classes_counted": values.get("classes_counted"),
                   "per_class_rules": rules, **({"per_signer": per_signer[key]} if per_signer.get(key) else {}),
                   "scores": str(run_dir / "scores.jsonl"),
                   "checkpoint": loaded.checkpoint.source if loaded.checkpoint else None,
                   "backbone": getattr(loaded.model, "backbone_source", None),
                   "ties": {k: v for k, v in values.items() if k == "ties" or k.startswith("tie_dependent")},
                   "data": {"layout": integrity.layout, **integrity.sources,
                            "frame_count_mismatches": integrity.frame_count_mismatches}},
        )
        if profile is not None:
            record.extra["profile"] = profile
        if any(s.startswith("keypoint") for s in getattr(card.input, "streams", ())):  # where heatmaps were made
            in_workers = bool(cfg.workers) and not heatmaps_on_device(cfg.heatmaps, cfg.device, cfg.workers)
            record.extra["heatmaps"] = {"made_by": "worker processes" if in_workers else "main process",
                                        "device": "cpu" if in_workers else cfg.device}
        if modes.tag:  # never hidden: the difference against this protocol's fp32 run, where one is in the folder
            tag = record.protocol["tag"]
            fp32 = record_path(cfg.results_dir, cfg.model, cfg.dataset, cfg.split, {"tag": tag[: -len(modes.tag)]})
            note = fp32_note(fp32, "per_instance_top1", record.metrics.get("per_instance_top1", 0.0), rows_of(run_dir),
                             lambda row: row["ranks"][key])  # the label's rank (ties count against it)
            record.notes.append(note or f"{modes.tag[1:]}: no fp32 run of this protocol in {cfg.results_dir} to "
                                "compare with (run it without the speed modes, then bench compare)")
        paths.append(write_record(record, cfg.results_dir))
    return paths


RANK_DECIMALS = {"dcg": 4, "mrr": 4}  # ranking metrics are fractions in [0, 1]


def per_class_rules(values: dict, rule: str) -> dict[str, str]:
    """The rule behind each per-class figure of a record: ``per_class_top{k}`` the card's, the others by name."""
    named = {"per_class_present_": "present_classes", "per_class_all_": "all_classes", "per_class_top": rule}
    return {k: next(r for prefix, r in named.items() if k.startswith(prefix)) for k in values
            if k.startswith("per_class")}


def _crop_fields(protocol: str, spec) -> dict:
    """Segment sampling: which spatial window a protocol took, and for a corrected twin the official protocol it
    corrects (SignNet's one-crop window is the left-most; its twin takes the centre)."""
    if spec.sampling != "segments":
        return {}
    official = official_protocol(protocol)
    if official == protocol:
        return {"crop": spec.crop_position, "official": True}
    return {"crop": "center", "official": False, "corrects": official,
            "correction": f"the centre window instead of the official {spec.crop_position!r} one"}
