"""``bench train`` for continuous SLR: the card's recipe, a checkpoint per epoch, resume, dev WER, best kept.

Recipe (VAC/CorrNet): Adam, multi-step decay per epoch, batches of 2 shuffled with the last partial batch dropped,
random crop + clip flip + temporal rescaling, the official padding, CTC on both heads + distillation, AMP on GPU.
Checkpoints are ours (safetensors + metadata), with the official key names: ``zoo.checkpoints.export_official``
writes a file the official code loads.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from bench import distributed
from bench.data import get_dataset
from bench.data.video import pad_batch, train_transform
from bench.data.loader import prepared_steps, to_device
from bench.io.atomic import atomic_open
from bench.profile import BACKWARD, H2D, MODEL, READ, SCORING, TRANSFORM, make_profile
from bench.progress import Progress, no_progress
from bench.runners.continuous import decode_samples
from bench.runners.cslr_losses import cslr_loss
from bench.runners.sharding import announce_batch, gather_rows, rank_slice
from bench.scoring import score
from bench.threads import apply_threads

Log = Callable[[str], None]


@dataclass
class TrainConfig:
    model: str
    dataset: str
    data_root: Path
    out_dir: Path
    epochs: int | None = None  # None: the recipe's
    batch_size: int | None = None
    lr: float | None = None
    device: str = "cpu"
    amp: bool | None = None  # None: on for CUDA, off on CPU
    seed: int = 0
    eval_split: str = "dev"
    cache_frames: bool = False  # decode train and dev once into packed uint8 files (bench.data.frame_cache)
    workers: int = 2
    variant: dict[str, Any] = field(default_factory=dict)  # builder arguments (reduced widths for demos)
    init: str | None = None  # a checkpoint to start from (weights only)
    backbone_weights: str | None = None  # the papers' pretrained backbone file (the card's init_backbone reads it)
    checkpoint_activations: bool = False  # recompute backbone activations in backward (SlowFastSign)
    threads: int | None = None  # torch threads (None: bench.threads' policy)
    cache_dir: Path | None = None  # the packed frame cache's folder (None: $BENCH_CACHE or ~/.cache/slr-bench/frames)
    profile: bool = False  # print each epoch's per-stage profile


@dataclass
class TrainResult:
    best: Path
    last: Path
    history: list[dict]
    best_wer: float


def train_continuous(cfg: TrainConfig, log: Log = print, progress: Progress | None = None) -> TrainResult:
    import torch

    from zoo.cards import get_card
    from zoo.checkpoints import read_checkpoint, save_checkpoint, vocabulary_sha256
    from zoo.loader import load_model

    distributed.init_from_env(cfg.device)  # torchrun: join the group; alone: nothing
    device = distributed.local_device(cfg.device)
    card = get_card(cfg.model)
    recipe = card.training.for_dataset(cfg.dataset)
    epochs, batch_size, lr = cfg.epochs or recipe.epochs, cfg.batch_size or recipe.batch_size, cfg.lr or recipe.lr
    announce_batch(batch_size, log)  # the recipe's batch is the global one; refused if it does not split
    amp = cfg.amp if cfg.amp is not None else cfg.device.startswith("cuda")
    progress = progress or no_progress
    dataset = get_dataset(cfg.dataset, "continuous")(cfg.data_root)
    id_to_gloss = dataset.id_to_gloss()
    vocabulary = [id_to_gloss[i] for i in range(len(id_to_gloss))]
    gloss_ids = {g: i for i, g in id_to_gloss.items()}
    torch.manual_seed(cfg.seed)
    model = load_model(cfg.model, cfg.init, vocabulary=vocabulary, **cfg.variant).model
    if cfg.backbone_weights:
        if card.init_backbone is None:
            raise ValueError(f"{card.name} has no backbone initialisation; drop --backbone-weights")
        for line in card.init_backbone(model, cfg.backbone_weights):
            log(line)
    elif cfg.init is None and card.init_backbone is not None:
        log(f"note: training from scratch; {card.name}'s paper starts from pretrained backbone weights "
            "(--backbone-weights)")
    if cfg.checkpoint_activations:
        if not hasattr(model.conv2d, "set_checkpointing"):
            raise ValueError(f"{card.name}'s backbone has no activation checkpointing")
        model.conv2d.set_checkpointing(True)  # same numbers, less memory, more time
    model = model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=recipe.weight_decay)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=list(recipe.milestones), gamma=recipe.gamma)
    scaler = torch.amp.GradScaler(enabled=amp)
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    metadata = {"card": card.name, "num_classes": len(vocabulary), "vocabulary_sha256": vocabulary_sha256(vocabulary),
                "vocabulary": vocabulary,  # evaluation needs no annotation files beyond the split's own
                "dataset": cfg.dataset, "variant": {k: list(v) if isinstance(v, tuple) else v
                                                    for k, v in cfg.variant.items()}}
    history, start_epoch = resume_run(out, model, optimizer, scheduler, read_checkpoint, log)
    model = distributed.wrap_for_training(model, device, recipe.sync_batchnorm)  # DDP under torchrun
    net = distributed.unwrap(model)  # official key names in checkpoints; evaluation in each process
    threads = apply_threads(cfg.threads, resumed_with=history[-1].get("threads") if history else None)
    log(f"torch threads: {threads['threads']} ({threads['thread_policy']})")

    train = [s for s in dataset.samples("train") if dataset.frame_paths(s)]
    dev = [s for s in dataset.samples(cfg.eval_split) if dataset.frame_paths(s)]
    size = (card.input.frame_size, card.input.frame_size)
    train_frames = dev_frames = lambda sample: dataset.read_frames(sample, size)  # noqa: E731
    if cfg.cache_frames:  # both splits decoded once into packed files, shared by every epoch and the workers
        from bench.data.frame_cache import continuous_cache

        train_frames = continuous_cache(dataset, "train", train, size, cfg.cache_dir, cfg.workers, log)
        dev_frames = continuous_cache(dataset, cfg.eval_split, dev, size, cfg.cache_dir, cfg.workers, log)

    protocol = {"batch_size": card.protocol.batch_size, "decoder": card.protocol.decoder,
                "beam_width": card.protocol.beam_width, "head": card.protocol.output}
    for epoch in range(start_epoch, epochs):
        began = time.perf_counter()
        profile = make_profile(cfg.profile, cfg.workers, cfg.device)  # one table per epoch
        rng = random.Random(cfg.seed * 1000 + epoch)  # the same shuffles, augmentations and dropout after a resume
        torch.manual_seed(distributed.seed_for_rank(cfg.seed * 1000 + epoch))
        order = train[:]
        rng.shuffle(order)  # the same order on every rank
        model.train()
        losses = []
        steps = len(order) // batch_size  # drop_last, as the official loader
        rank, world, base = distributed.rank(), distributed.world_size(), cfg.seed * 1000 + epoch

        def batch_of(i: int, clock):  # a step's clips read and augmented, in a worker process with --workers
            # one generator per clip of the epoch: a clip's augmentation is the same whichever rank takes it
            clip_rngs = [random.Random(base * 1_000_003 + i + j) for j in range(batch_size)]
            batch, clip_rngs = rank_slice(order[i:i + batch_size], rank, world), rank_slice(clip_rngs, rank, world)
            with clock.stage(READ):
                clips = [train_frames(s) for s in batch]
            with clock.stage(TRANSFORM):
                videos = [train_transform(c, card.input, r, recipe.flip, recipe.temporal_rescale, cfg.dataset)
                          for c, r in zip(clips, clip_rngs)]
            return batch, videos

        prepared = prepared_steps(batch_of, range(0, steps * batch_size, batch_size), cfg.workers, device, profile)
        for step, (batch, videos) in enumerate(prepared):
            progress(f"epoch {epoch + 1}/{epochs}: train", step, steps)
            # padded to the global batch's longest clip: the frames BatchNorm sees are one process's
            longest = max(distributed.gather_objects(max(len(v) for v in videos)))
            video, lengths, ordering = pad_batch(videos, card.temporal_layout, longest)
            labels = [[gloss_ids[g] for g in batch[j].glosses] for j in ordering]
            targets = torch.tensor([g for label in labels for g in label], dtype=torch.long)
            target_lengths = torch.tensor([len(label) for label in labels], dtype=torch.long)
            with profile.stage(H2D):
                video, lengths = to_device(video, device), to_device(lengths, device)
            with profile.stage(MODEL):  # forward and loss (the loss outside autocast, as before)
                with torch.autocast(device_type=torch.device(device).type, enabled=amp):
                    result = model(video, lengths)
                loss, _ = cslr_loss(result, targets, target_lengths, recipe.loss_weights,
                                    recipe.distillation_temperature, recipe.branch_weights)
            if not distributed.all_true(torch.isfinite(loss)):  # the official loop skips such batches too
                log(f"epoch {epoch}: non-finite loss on {[s.id for s in batch]}, batch skipped")
                continue
            with profile.stage(BACKWARD):
                optimizer.zero_grad()
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
                losses.append(float(loss.detach()))
            profile.clips += len(batch)
        progress(f"epoch {epoch + 1}/{epochs}: train", steps, steps)
        scheduler.step()
        model.eval()
        done: dict[str, dict] = {}
        decode_samples(net, card, dev, dev_frames, id_to_gloss, protocol, device, amp, cfg.workers, done,
                       dataset=cfg.dataset, progress=progress, stage=f"epoch {epoch + 1}/{epochs}: {cfg.eval_split}",
                       profile=profile, shard=distributed.world_size() > 1)
        done, _ = gather_rows(done, set(), [])  # every rank decoded its share of the pairs
        hyps = {k: v["glosses"] for k, v in done.items()}
        reference = [seg for seg in dataset.reference(cfg.eval_split) if seg.file in {s.id for s in dev}]
        with profile.stage(SCORING):
            wer = score(reference, hyps, scorer="python").wer
        entry = {"epoch": epoch + 1, "loss": distributed.mean_across(np.mean(losses) if losses else float("nan")),
                 f"{cfg.eval_split}_wer": wer, "lr": optimizer.param_groups[0]["lr"],
                 "seconds": round(time.perf_counter() - began, 1), "threads": threads["threads"]}
        entry.update({"processes": distributed.world_size(), "global_batch": batch_size} if distributed.is_distributed()
                     else {})
        history.append(entry)
        best = min(h[f"{cfg.eval_split}_wer"] for h in history)
        if not distributed.is_main():  # rank 0 writes checkpoints and history
            continue
        save_checkpoint(out / "last.safetensors", net.state_dict(), {**metadata, "epoch": epoch + 1, "wer": wer})
        if wer <= best:
            save_checkpoint(out / "best.safetensors", net.state_dict(), {**metadata, "epoch": epoch + 1, "wer": wer})
        torch.save({"epoch": epoch + 1, "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()},
                   out / "last-optimizer.pt")
        with atomic_open(out / "history.jsonl") as handle:
            handle.writelines(json.dumps(h) + "\n" for h in history)
        log(f"epoch {epoch + 1}/{epochs}: loss {entry['loss']:.3f}, {cfg.eval_split} WER {wer:.1f}% "
            f"(best {best:.1f}%), {entry['seconds']} s")
        if cfg.profile:
            for line in profile.stop().lines(f"epoch {epoch + 1} profile (train + {cfg.eval_split})"):
                log(line)
    best = min(h[f"{cfg.eval_split}_wer"] for h in history) if history else float("nan")
    return TrainResult(out / "best.safetensors", out / "last.safetensors", history, best)


def resume_run(out: Path, model, optimizer, scheduler, read_checkpoint, log: Log, unit: str = "epoch",
               scaler=None) -> tuple[list[dict], int]:
    """Continue after the last finished ``unit`` (epoch, or step for step recipes) when ``out`` holds one (weights,
    optimiser, scheduler, loss scaler, history); returns the history so far and how many units are done."""
    import torch

    last, state, history = out / "last.safetensors", out / "last-optimizer.pt", out / "history.jsonl"
    if not (last.exists() and state.exists() and history.exists()):
        return [], 0
    model.load_state_dict(read_checkpoint(last).state_dict, strict=True)
    saved = torch.load(state, map_location="cpu", weights_only=True)
    optimizer.load_state_dict(saved["optimizer"])
    scheduler.load_state_dict(saved["scheduler"])
    if scaler is not None and saved.get("scaler"):
        scaler.load_state_dict(saved["scaler"])
    entries = [json.loads(line) for line in history.read_text().splitlines() if line.strip()]
    entries = [e for e in entries if e[unit] <= saved[unit]]  # entries written after the saved state are redone
    log(f"resuming after {unit} {saved[unit]} from {out}")
    return entries, int(saved[unit])


