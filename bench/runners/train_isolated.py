"""``bench train`` for isolated SLR: one stage of NLA-SLR's chain with the card's recipe, resumable, validated.

Per epoch, as ``NLA-SLR/training.py``: the cosine schedule steps first; batches of shuffled training clips, each a
random window of the card's frame count (short clips edge-padded); per batch the augmentations of
:mod:`bench.data.augment` (colour jitter with p, one random resized crop box for every stream), mixup with p, the
recipe's loss on every head (:func:`bench.runners.islr_losses.nla_slr_loss`: CE, uniform or language-aware label
smoothing, inter-modality mixup with its decaying weight), Adam, then the EMA of the gloss layers. After each
epoch: per-instance top-1 of the 1-view protocol on the validation split, of the card's first output (the official
selection score). Checkpoints: ours (``last``/``best.safetensors``) and ``best.ckpt`` in the official layout.
"""

from __future__ import annotations

import json
import random
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from bench import distributed
from bench.data import get_dataset
from bench.hht.frames import frames_for_card
from bench.data.loader import prepared_steps
from bench.io.atomic import atomic_open
from bench.profile import AUGMENT, BACKWARD, H2D, HEATMAPS, MODEL, VALIDATION, make_profile
from bench.progress import Progress, no_progress
from bench.threads import apply_threads

Log = Callable[[str], None]
DEFERRED = "keypoint_points"  # a batch's keypoints, crop box and short window, for heatmaps drawn on the device


@dataclass
class IsolatedTrainConfig:
    model: str
    dataset: str
    data_root: Path
    out_dir: Path
    keypoints: Path | None = None  # the keypoint pickle, for models with a keypoint stream
    word_vectors: Path | None = None  # gloss vectors (fastText .vec/.bin or {gloss: vector} pickle) where needed
    epochs: int | None = None  # None: the recipe's
    batch_size: int | None = None
    lr: float | None = None
    device: str = "cpu"
    seed: int | None = None  # None: the recipe's
    eval_split: str | None = None  # None: "val", or "test" where the release has no val split (NMFs-CSL)
    cache_frames: bool = False  # decode clips once into packed uint8 files (bench.data.frame_cache)
    cache_dir: Path | None = None  # the packed frame cache's folder (None: $BENCH_CACHE or ~/.cache/slr-bench/frames)
    variant: dict[str, Any] = field(default_factory=dict)
    init: str | None = None  # a checkpoint to start from (weights only)
    backbone_weights: str | None = None  # S3D_kinetics400.pt for the stages that start from it (the card's hook)
    eval_batch_size: int = 8
    videos: str | None = None  # the clips folder or zip (relative to data_root or absolute); default: the layout's
    threads: int | None = None  # torch threads (None: bench.threads' policy)
    steps: int | None = None  # step recipes (EVL / SignVLM): None: the recipe's
    save_every: int | None = None  # step recipes: checkpoint and validation interval (None: the recipe's)
    shots: int | None = None  # step recipes: few-shot training, this many seeded clips per class
    init_matching: str | None = None  # step recipes: start from another task's checkpoint, every fitting tensor
    train_split: str = "train"  # a split name, or several joined by "+" (SignVLM: "train+val"; KArSL: "fold1_train")
    landmarks: Path | None = None  # H&HT cards: the landmarks folder (default: <data_root>/landmarks)
    profile: bool = False  # print each epoch's per-stage profile (epoch recipes)
    workers: int = 0  # DataLoader processes preparing the training batches and validation clips (0: the main process)
    amp: bool | None = None  # fine-tuning recipes: autocast + loss scaler (None: on for CUDA); the CPU stays fp32
    heatmaps: str = "auto"  # NLA-SLR heatmaps: "workers", "device" or "auto" (isolated.heatmaps_on_device)


@dataclass
class IsolatedTrainResult:
    best: Path
    last: Path
    official: Path
    history: list[dict]
    best_top1: float


def train_isolated(cfg: IsolatedTrainConfig, log: Log = print, progress: Progress | None = None) -> IsolatedTrainResult:
    import torch

    from bench.runners.islr_losses import ema_beta, mixup_streams, nla_slr_loss, update_gloss_ema_
    from bench.runners.isolated import heatmaps_on_device
    from bench.runners.training import resume_run
    from zoo.cards import get_card
    from zoo.checkpoints import export_official, read_checkpoint, save_checkpoint, vocabulary_sha256
    from zoo.loader import load_model

    from bench.runners.sharding import announce_batch, rank_slice

    distributed.init_from_env(cfg.device)  # torchrun: join the group; alone: nothing
    device = distributed.local_device(cfg.device)
    card = get_card(cfg.model)
    if card.task != "isolated":
        raise ValueError(f"{cfg.model} is a {card.task}-SLR model; this runner trains isolated SLR")
    recipe = card.training.for_dataset(cfg.dataset)
    epochs, batch_size, lr = cfg.epochs or recipe.epochs, cfg.batch_size or recipe.batch_size, cfg.lr or recipe.lr
    announce_batch(batch_size, log)  # the recipe's batch is the global one (NLA-SLR: 4 per process x 8)
    seed = recipe.seed if cfg.seed is None else cfg.seed
    progress = progress or no_progress
    dataset = frames_for_card(get_dataset(cfg.dataset, "isolated")(cfg.data_root, videos=cfg.videos), card,
                              cfg.landmarks)  # H&HT cards read mosaic frames
    classes = dataset.classes()
    torch.manual_seed(seed)
    model = load_model(cfg.model, cfg.init, num_classes=len(classes), **cfg.variant).model.to(device)
    if cfg.backbone_weights:
        if card.init_backbone is None:
            raise ValueError(f"{card.name} has no backbone initialisation; drop --backbone-weights")
        for line in card.init_backbone(model, cfg.backbone_weights):
            log(line)
    elif recipe.init_from and cfg.init is None:
        log(f"note: training from scratch; the paper starts this stage from {', '.join(recipe.init_from)} "
            "(--init for a previous stage, --backbone-weights for s3d_kinetics400)")
    streams = tuple(model.inputs)
    table = _keypoints(cfg, streams)
    vectors, similarity = _word_vectors(cfg, recipe, model, classes)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, betas=recipe.betas, eps=recipe.adam_eps,
                                 weight_decay=recipe.weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=recipe.cosine_t_max, eta_min=0)
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    metadata = {"card": card.name, "num_classes": len(classes), "vocabulary_sha256": vocabulary_sha256(classes),
                "dataset": cfg.dataset, "variant": cfg.variant}
    history, start_epoch = resume_run(out, model, optimizer, scheduler, read_checkpoint, log)
    model = distributed.wrap_for_training(model, device, recipe.sync_batchnorm,  # DDP under torchrun
                                          recipe.ddp_find_unused_parameters)
    net = distributed.unwrap(model)  # official key names in checkpoints; losses and validation read its heads
    threads = apply_threads(cfg.threads, resumed_with=history[-1].get("threads") if history else None)
    log(f"torch threads: {threads['threads']} ({threads['thread_policy']})")

    split = cfg.eval_split or ("val" if "val" in dataset.splits else "test")
    if split == "test":
        log(f"note: validating on {dataset.name}'s test split: the release has no val split (the official config "
            "reads a dev.pkl it does not publish); pass eval_split to choose")
    train, val = training_samples(dataset, cfg.train_split, log), _present(dataset, split, log)
    clips = ClipReader(dataset, cfg.cache_frames)
    if cfg.cache_frames:  # every split read decoded once into a packed file, memory-mapped by each epoch
        clips.use_packed([*cfg.train_split.split("+"), split], {s.id for s in [*train, *val]}, cfg.cache_dir, log)
    on_device = table is not None and heatmaps_on_device(cfg.heatmaps, device, cfg.workers)  # GPU: drawn there
    batches = BatchMaker(dataset, card, recipe, clips, table, "cpu" if cfg.workers else device, on_device)
    output = card.protocol.outputs[0]  # the official selection score: the single head, or ensemble_last
    for epoch in range(start_epoch, epochs):
        began = time.perf_counter()
        with warnings.catch_warnings():  # torch warns about this order; it is the official one
            warnings.simplefilter("ignore", UserWarning)
            scheduler.step()  # the official loop steps the cosine schedule at the start of every epoch
        rng = random.Random(seed * 1000 + epoch)
        profile = make_profile(cfg.profile, cfg.workers, device)  # one table per epoch
        torch.manual_seed(distributed.seed_for_rank(seed * 1000 + epoch))  # the same epoch after a resume
        order = train[:]
        rng.shuffle(order)  # the same order on every rank
        model.train()
        losses = []
        steps = len(order) // batch_size  # the last partial batch is dropped
        rank, world, base = distributed.rank(), distributed.world_size(), seed * 1000 + epoch

        def batch_of(i: int, clock):  # a step's clips and augmentations, in a worker process with --workers
            batch = rank_slice(order[i:i + batch_size], rank, world)  # this rank's share of the global batch
            rng, nprng = random.Random(base * 1_000_003 + i), np.random.default_rng([seed, epoch, i])
            rng, nprng = distributed.rank_generators(rng, nprng, base * 1_000_003 + i, rank)  # each rank's own
            with clock.stage(AUGMENT):
                inputs = batches.make(batch, rng, nprng)
            return batch, inputs, nprng  # mixup draws from nprng next, in the main process

        prepared = prepared_steps(batch_of, range(0, steps * batch_size, batch_size), cfg.workers, device, profile)
        for step, (batch, inputs, nprng) in enumerate(prepared):
            progress(f"epoch {epoch + 1}/{epochs}: train", step, steps)
            profile.lap()
            inputs = batches.finish(inputs, device)
            profile.lap(HEATMAPS if on_device else H2D)
            labels = torch.tensor([s.label for s in batch], dtype=torch.long, device=device)
            names = list(inputs)
            mixed, mixup = mixup_streams([inputs[n] for n in names], labels, recipe.mixup_p, recipe.mixup_alpha, nprng)
            result = model(**dict(zip(names, mixed)), return_features=True)
            loss, _ = nla_slr_loss(net, result, labels, mixup, epoch, smoothing=recipe.label_smoothing,
                                   eps=recipe.smoothing_eps, tau=recipe.smoothing_tau, similarity=similarity,
                                   word_vectors=vectors, inter_modality=recipe.inter_modality_weight,
                                   topk=recipe.inter_modality_topk)
            profile.lap(MODEL)  # mixup, forward, loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if recipe.ema_beta is not None:
                update_gloss_ema_(net, ema_beta(epoch, epochs, recipe.ema_beta))
            losses.append(float(loss.detach()))
            profile.lap(BACKWARD)  # backward, step, EMA
            profile.clips += len(batch)
        progress(f"epoch {epoch + 1}/{epochs}: train", steps, steps)
        profile.lap()
        top1 = validate(net, dataset, val, card, clips, table, output, device, cfg.eval_batch_size,
                        lambda done, total: progress(f"epoch {epoch + 1}/{epochs}: {split}", done, total),
                        cfg.workers, heatmaps=cfg.heatmaps)
        profile.lap(VALIDATION)
        entry = {"epoch": epoch + 1, "loss": distributed.mean_across(np.mean(losses) if losses else float("nan")),
                 f"{split}_top1": top1, "lr": optimizer.param_groups[0]["lr"],
                 "seconds": round(time.perf_counter() - began, 1), "threads": threads["threads"]}
        entry.update({"processes": distributed.world_size(), "global_batch": batch_size} if distributed.is_distributed()
                     else {})
        history.append(entry)
        best = max(h[f"{split}_top1"] for h in history)
        if not distributed.is_main():  # rank 0 writes checkpoints and history
            continue
        state = net.state_dict()
        save_checkpoint(out / "last.safetensors", state, {**metadata, "epoch": epoch + 1, "top1": top1})
        if top1 >= best:
            save_checkpoint(out / "best.safetensors", state, {**metadata, "epoch": epoch + 1, "top1": top1})
            export_official(out / "best.ckpt", state, card.checkpoint_key, epoch, card.key_prefix)
        torch.save({"epoch": epoch + 1, "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()},
                   out / "last-optimizer.pt")
        with atomic_open(out / "history.jsonl") as handle:
            handle.writelines(json.dumps(h) + "\n" for h in history)
        log(f"epoch {epoch + 1}/{epochs}: loss {entry['loss']:.3f}, {split} top-1 {top1:.1f}% "
            f"(best {best:.1f}%), {entry['seconds']} s")
        if cfg.profile:
            for line in profile.stop().lines(f"epoch {epoch + 1} profile (train, then {split})"):
                log(line)
    best = max((h[f"{split}_top1"] for h in history), default=float("nan"))
    return IsolatedTrainResult(out / "best.safetensors", out / "last.safetensors", out / "best.ckpt", history, best)


class ClipReader:
    """Frames of temporal views, optionally from whole clips decoded once and kept in memory."""

    def __init__(self, dataset, cache: bool, frame_drop: int | None = None):
        # frame_drop: the card's (SignNet's decord keeps every frame); None: the dataset's official drop
        self.dataset, self.cache, self.clips, self.packed = dataset, cache, {}, []
        self.frame_drop = frame_drop

    def use_packed(self, splits, ids: set[str], folder=None, log=None) -> None:
        """Read the ``ids`` of ``splits`` from packed frame caches (bench.data.frame_cache), built when needed."""
        from bench.data.frame_cache import isolated_cache

        for split in dict.fromkeys(splits):
            samples = [s for s in self.dataset.samples(split) if s.id in ids]
            self.packed.append(isolated_cache(self.dataset, split, samples, folder, 0, log))

    def __call__(self, sample, views) -> list[np.ndarray]:
        from bench.data.views import pad_edges

        if not self.cache:
            return self.dataset.read_views(sample, views)
        official = self.frame_drop in (None, getattr(self.dataset, "official_frame_drop", None))
        for packed in self.packed if official else ():  # packed caches hold the official drop's frames
            try:
                frames = packed.read(sample.id)
            except KeyError:
                continue
            return [pad_edges(np.array(frames[list(v.indices)]), v.pad) for v in views]
        if sample.id not in self.clips:
            count = self.dataset.frame_count(sample, self.frame_drop)
            self.clips[sample.id] = self.dataset.read_frames(sample, np.arange(count))
        frames = self.clips[sample.id]
        return [pad_edges(frames[list(v.indices)], v.pad) for v in views]


class BatchMaker:
    """Training inputs of a batch: ``{stream: [B, C, T, S, S]}`` for the model's streams, augmented per batch."""

    def __init__(self, dataset, card, recipe, clips: ClipReader, table, device: str, defer_heatmaps: bool = False):
        self.dataset, self.card, self.recipe, self.clips, self.table, self.device = \
            dataset, card, recipe, clips, table, device
        self.defer_heatmaps = defer_heatmaps  # make() sends keypoints; finish() draws them on the model's device
        self.frames = card.protocol.frames

    def make(self, batch, rng: random.Random, nprng: np.random.Generator) -> dict:
        import torch

        from bench.data.augment import color_jitter, resized_crop, resized_crop_box, scale_box
        from bench.data.views import short_window, train_window

        recipe, spec, streams = self.recipe, self.card.input, self.card.input.streams
        views = [train_window(self.dataset.frame_count(s), nprng, self.frames) for s in batch]
        low = short_window(self.frames, nprng) if recipe.short_window_start is not None else None
        out, box, rgb_hw = {}, None, None
        if "rgb" in streams:
            video = torch.from_numpy(np.stack([self.clips(s, [v])[0] for s, v in zip(batch, views)]))
            video = video.permute(0, 1, 4, 2, 3).float()  # B, T, 3, H, W
            if self.dataset.rgb_pre_resize is not None:
                video = resized_crop(video, (0, 0, *video.shape[-2:]), self.dataset.rgb_pre_resize[0])
            video = video / 255
            rgb_hw = video.shape[-2:]
            jitter = recipe.color_jitter_p > 0 and rng.random() < recipe.color_jitter_p
            low_video = video[:, low] if low is not None else None
            if jitter:  # the official code jitters each RGB stream with its own draw
                video = color_jitter(video, rng, *recipe.color_jitter)
                low_video = color_jitter(low_video, rng, *recipe.color_jitter) if low_video is not None else None
            box = resized_crop_box(*rgb_hw, recipe.crop_scale, recipe.crop_ratio, rng)
            out["rgb"] = _rgb(resized_crop(video, box, spec.crop))
            if low_video is not None:
                out["rgb_low"] = _rgb(resized_crop(low_video, box, spec.crop))
        if "keypoint" in streams:
            from bench.runners.isolated import heatmap_grid

            grid = heatmap_grid(self.card, self.dataset)
            if box is None:
                box = resized_crop_box(grid, grid, recipe.crop_scale, recipe.crop_ratio, rng)
            else:
                box = scale_box(box, grid / rgb_hw[0], grid / rgb_hw[1])
            points = [self.table.views(self.dataset.keypoint_name(s), [v])[0] for s, v in zip(batch, views)]
            if self.defer_heatmaps:  # drawn by finish() on the model's device
                return {**out, DEFERRED: (points, box, low)}
            self._add_heatmaps(out, points, box, low, self.device)
        return {k: v.to(self.device) for k, v in out.items()}

    def finish(self, inputs: dict, device) -> dict:
        """The batch on ``device``, with the heatmaps ``make`` deferred drawn there."""
        deferred = inputs.get(DEFERRED)
        out = {k: v.to(device) for k, v in inputs.items() if k != DEFERRED}
        if deferred is not None:
            self._add_heatmaps(out, *deferred, device)
        return out

    def _add_heatmaps(self, out: dict, points, box, low, device) -> None:
        import torch

        from bench.runners.isolated import keypoint_heatmaps

        maps = torch.stack([keypoint_heatmaps(p, self.card, self.dataset, device, crop=box) for p in points])
        out["keypoint"] = maps  # B, P, T, S, S
        if low is not None:
            out["keypoint_low"] = maps[:, :, low]


def _rgb(video):
    """[B, T, 3, S, S] RGB in [0, 1] -> [B, 3, T, S, S] BGR in [-1, 1], as the official preprocessing."""
    return ((video[:, :, [2, 1, 0]] - 0.5) / 0.5).permute(0, 2, 1, 3, 4).contiguous()


def validate(model, dataset, samples, card, clips: ClipReader, table, output: str, device: str,
             batch_size: int, progress: Callable[[int, int], None] | None = None, workers: int = 0,
             protocol: str = "1view", heatmaps: str = "auto") -> float:
    """Per-instance top-1 (percent) of ``output`` under ``protocol`` (default: the 1-view protocol; inputs prepared
    by ``workers`` DataLoader processes when > 0: the same numbers)."""
    import torch

    from bench.runners.isolated import window_inputs, score_sample

    from bench.runners.sharding import shard

    model.eval()
    streams = tuple(model.inputs)
    hits, total = 0, len(samples)
    samples = shard(samples)  # under torchrun each rank scores its share
    if workers:
        hits = _validate_with_workers(model, dataset, samples, card, clips, table, output, device, batch_size,
                                      progress, workers, protocol, heatmaps)
        return 100.0 * sum(distributed.gather_objects(int(hits))) / max(1, total)
    with torch.no_grad():
        for count, sample in enumerate(samples, 1):
            inputs = window_inputs(sample, dataset, (protocol,), streams, table, card, device, read_views=clips)
            row = score_sample(model, sample, inputs, (protocol,), (output,), batch_size, device, False)
            hits += row["ranks"][f"{protocol}/{output}"] == 0
            if progress:
                progress(count, len(samples))
    return 100.0 * sum(distributed.gather_objects(int(hits))) / max(1, total)


def _validate_with_workers(model, dataset, samples, card, clips, table, output, device, batch_size, progress,
                           workers, protocol: str = "1view", heatmaps: str = "auto") -> int:
    """The top-1 hits of ``samples`` (this rank's share), their clips prepared in ``workers`` processes."""
    import torch

    from bench.data.loader import batch_loader
    from bench.runners.isolated import (PreparedSamples, ViewInputs, heatmaps_of_stacked, heatmaps_on_device,
                                        score_sample)

    on_device = table is not None and heatmaps_on_device(heatmaps, device, workers)
    prepared = PreparedSamples(samples, dataset, (protocol,), tuple(model.inputs), table, card, "cpu", clips,
                               defer_heatmaps=on_device)
    hits = 0
    with torch.no_grad():
        for count, item in enumerate(batch_loader(prepared, workers, device), 1):
            if item["error"] is not None:
                raise RuntimeError(f"validation clip {item['sample'].id}: {item['error']}")
            if on_device:  # keypoints sent by the workers, drawn on the model's device
                item["stacked"] = heatmaps_of_stacked(item["stacked"], card, dataset, device)
            inputs = ViewInputs(item["protocols"])
            inputs.update({key: {} for key in item["keys"]})
            row = score_sample(model, item["sample"], inputs, (protocol,), (output,), batch_size, device, False,
                               stacked=item["stacked"])
            hits += row["ranks"][f"{protocol}/{output}"] == 0
            if progress:
                progress(count, len(samples))
    return hits


def training_samples(dataset, splits: str, log: Log) -> list:
    """The present samples of one split or of several joined by ``+`` (SignVLM trains on train+val)."""
    return [s for split in splits.split("+") for s in _present(dataset, split, log)]


def _present(dataset, split: str, log: Log) -> list:
    integrity = dataset.integrity(split)
    present = set(integrity.present_ids)
    if integrity.missing or integrity.unreadable:
        log(f"{split}: {integrity.summary()}")
    return [s for s in dataset.samples(split) if s.id in present]


def _keypoints(cfg: IsolatedTrainConfig, streams: tuple[str, ...]):
    if not any(s.startswith("keypoint") for s in streams):
        return None
    if cfg.keypoints is None:
        raise ValueError(f"{cfg.model} reads keypoint heatmaps: pass --keypoints FILE.pkl ({{video: [T, 133, 3]}})")
    from bench.data.keypoints import KeypointTable

    return KeypointTable.load(cfg.keypoints)


def _word_vectors(cfg: IsolatedTrainConfig, recipe, model, classes):
    """Gloss vectors in class order and their similarity, when the recipe's losses need them."""
    heads_with_words = any(getattr(model.head(n), "word_dim", None) for n in model.head_names())
    if recipe.label_smoothing != "language" and not (recipe.inter_modality_weight and heads_with_words):
        return None, None
    if cfg.word_vectors is None:
        raise ValueError(f"{cfg.model}'s recipe on {cfg.dataset} uses gloss word vectors (language-aware label "
                         "smoothing / inter-modality mixup): pass --word-vectors (fastText .vec/.bin or a "
                         "{gloss: vector} pickle)")
    from bench.io.word_vectors import read_word_vectors
    from bench.runners.islr_losses import gloss_similarity

    vectors = read_word_vectors(cfg.word_vectors, classes)
    return vectors, gloss_similarity(vectors)
