"""``bench train`` for cards with a :class:`zoo.step_recipe.StepTrainRecipe` (EVL / SignVLM): step-based, resumable.

Per step ``i`` (everything drawn from seeds of ``i``, so a resumed run takes the same batches and augmentations):
the batch is the next ``batch_size`` training clips of a seeded permutation of the training set (a new one per
pass), each clip a random strided window, the recipe's RandAugment (one draw per clip), normalised, one random
resized crop to the card's size; cross-entropy;
``batch_split`` chunks accumulate gradients; AdamW; the cosine schedule steps. Every ``save_every`` steps and at the
end: ``last.safetensors`` (the model's trainable state, as the official checkpoints) with the optimiser state,
``checkpoint-<step>.safetensors`` (kept, for ``bench average``),
top-1 of the card's ``1view`` protocol on the validation split, ``best.safetensors`` and ``best.pt`` in the
official layout. Few-shot training (``shots``) keeps ``shots`` seeded clips per class.

Cards with a :class:`zoo.finetune_recipe.FinetuneRecipe` (VideoMAE(v2) / SignNet) run the same loop counted in
epochs of ``len(train) // batch`` updates: each epoch's batches are consecutive slices of one seeded permutation
(the last partial batch dropped), clips from :func:`bench.data.videomae_train.videomae_train_clip`, the batch
mixed by :func:`bench.data.mixup.mix_batch`, soft-target cross-entropy, AdamW over layer-decay groups with the
per-update warm-up + cosine table (:mod:`bench.runners.finetune_optim`), drop path at the recipe's rate, autocast
with a loss scaler on CUDA when ``amp``; validation and checkpoints after every epoch. ``--init`` starts from a
previous stage, a head of another class count re-initialised (:func:`zoo.loader.load_stage_init`).
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import numpy as np

from bench import distributed
from bench.data import get_dataset
from bench.hht.frames import frames_for_card
from bench.data.augment import resized_crop, resized_crop_box
from bench.data.mixup import mix_batch
from bench.data.rand_augment import parse_rand_augment, rand_augment_clip
from bench.data.videomae_train import videomae_train_clip, videomae_train_window
from bench.data.views import strided_train_window
from bench.data.loader import prepared_steps
from bench.io.atomic import atomic_open
from bench.profile import AUGMENT
from bench.progress import Progress, no_progress
from bench.runners.finetune_optim import finetune_optimizer
from bench.runners.islr_losses import soft_cross_entropy
from bench.runners.train_isolated import ClipReader, IsolatedTrainResult, _present, training_samples, validate
from bench.runners.sharding import announce_batch, rank_slice
from bench.runners.training import resume_run
from bench.threads import apply_threads
from zoo.finetune_recipe import FinetuneRecipe


def train_steps(cfg, log=print, progress: Progress | None = None) -> IsolatedTrainResult:
    """Train ``cfg.model`` (an :class:`~bench.runners.train_isolated.IsolatedTrainConfig`) by its step recipe."""
    import torch

    from zoo.cards import get_card
    from zoo.checkpoints import export_official, read_checkpoint, save_checkpoint, vocabulary_sha256
    from zoo.loader import load_model

    distributed.init_from_env(cfg.device)  # torchrun: join the group; alone: nothing
    device = distributed.local_device(cfg.device)
    card = get_card(cfg.model)
    recipe = card.training.for_dataset(cfg.dataset)
    finetune = isinstance(recipe, FinetuneRecipe)
    batch_size, lr, seed = cfg.batch_size or recipe.batch_size, cfg.lr or recipe.lr, \
        recipe.seed if cfg.seed is None else cfg.seed
    announce_batch(batch_size, log)  # global, as EVL's main.py: batch_size // world_size per process
    progress = progress or no_progress
    dataset = frames_for_card(get_dataset(cfg.dataset, "isolated")(cfg.data_root, videos=cfg.videos), card,
                              cfg.landmarks)  # H&HT cards read mosaic frames
    classes = dataset.classes()
    torch.manual_seed(seed)
    head = card.protocol.head_size(cfg.dataset, len(classes))  # SignVLM on AUTSL: 256 logits for 226 classes
    if finetune:
        split = cfg.eval_split or ("val" if "val" in dataset.splits else "test")
        train, val = training_samples(dataset, cfg.train_split, log), _present(dataset, split, log)
        train = few_shot(train, cfg.shots, seed) if cfg.shots else train
        per_epoch = len(train) // batch_size
        if per_epoch < 1:
            raise ValueError(f"{cfg.dataset}: {len(train)} training clips, fewer than one batch of {batch_size}")
        epochs = cfg.epochs or recipe.epochs
        steps = cfg.steps or epochs * per_epoch
        amp = bool(cfg.amp) if cfg.amp is not None else cfg.device.startswith("cuda")
        if amp and not cfg.device.startswith("cuda"):
            raise ValueError("--amp is for CUDA devices; the CPU trains in fp32")
        model = _finetune_model(cfg, card, recipe, head, log).to(device)
    else:
        steps = cfg.steps or recipe.steps
        amp = recipe.gpu_fp16 and cfg.device.startswith("cuda")  # the official fp16 run; CPU trains in fp32
        variant = {**cfg.variant, **({"freeze_fp16": True} if amp else {})}
        model = load_model(cfg.model, cfg.init, num_classes=head, **variant).model.to(device)
    if cfg.init_matching:  # another task's weights (EVL's Kinetics-400 decoder): what fits, the rest named
        from zoo.loader import load_matching

        for line in load_matching(model, cfg.init_matching, card):
            log(line)
    if cfg.backbone_weights:
        for line in card.init_backbone(model, cfg.backbone_weights):
            log(line)
    elif card.init_backbone is not None and getattr(card, "separate_backbone", False):
        log(f"note: no --backbone-weights: {card.name}'s frozen backbone stays randomly initialised")
    if finetune:  # the recipe's lr is the base rate, scaled by batch / 256
        # the schedule spans the epochs; --steps only stops early (tests), past the table the last rate holds
        optimizer, scheduler, _ = finetune_optimizer(model, recipe, batch_size, per_epoch, epochs, cfg.lr)
        log(f"fine-tuning: {len(train)} clips, {per_epoch} updates of {batch_size} per epoch, {steps} updates, "
            f"peak lr {recipe.scaled(lr, batch_size):.3g} (base {lr:g} x {batch_size} / 256), "
            f"amp {'on' if amp else 'off'}")
    else:
        trainable = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(trainable, lr=lr, weight_decay=recipe.weight_decay)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    metadata = {"card": card.name, "num_classes": head, "vocabulary_sha256": vocabulary_sha256(classes),
                "dataset": cfg.dataset, "variant": cfg.variant, "steps": steps}
    scaler = torch.amp.GradScaler(enabled=amp)
    history, done = resume_run(out, model, optimizer, scheduler, read_checkpoint, log, unit="step", scaler=scaler)
    model = distributed.wrap_for_training(model, device, recipe.sync_batchnorm)  # DDP under torchrun
    net = distributed.unwrap(model)  # official key names in checkpoints; validation in each process
    threads = apply_threads(cfg.threads, resumed_with=history[-1].get("threads") if history else None)
    log(f"torch threads: {threads['threads']} ({threads['thread_policy']})")
    if not finetune:
        split = cfg.eval_split or ("val" if "val" in dataset.splits else "test")
        train, val = training_samples(dataset, cfg.train_split, log), _present(dataset, split, log)
    if cfg.shots:
        train = train if finetune else few_shot(train, cfg.shots, seed)
        log(f"few-shot: {cfg.shots} clips per class, {len(train)} in all (seed {seed})")
    clips = ClipReader(dataset, cfg.cache_frames, card.protocol.frame_drop)
    if cfg.cache_frames:  # packed files, memory-mapped by every worker (not one in-memory copy per worker)
        clips.use_packed([*cfg.train_split.split("+"), split], {s.id for s in [*train, *val]}, cfg.cache_dir, log)
    every = min(cfg.save_every or (per_epoch if finetune else recipe.save_every), steps)
    began, losses = time.perf_counter(), []
    model.train()
    rank, world = distributed.rank(), distributed.world_size()
    pick = epoch_batch_at if finetune else batch_at

    def batch_of(step: int, clock):  # a step's clips and augmentations, in a worker process with --workers
        batch = rank_slice(pick(train, step, batch_size, seed), rank, world)  # this rank's share of the batch
        rng, nprng = random.Random(seed * 1_000_003 + step), np.random.default_rng([seed, step])
        rng, nprng = distributed.rank_generators(rng, nprng, seed * 1_000_003 + step, rank)  # each rank's own
        with clock.stage(AUGMENT):
            if finetune:
                video = torch.stack([_finetune_clip(dataset, card, recipe, clips, s, rng, nprng) for s in batch])
            else:
                video = torch.stack([_train_clip(dataset, card, clips, s, rng, nprng) for s in batch])
        return batch, video, nprng  # mixup draws from nprng next, in the main process

    prepared = prepared_steps(batch_of, range(done, steps), cfg.workers, device)
    for step, (batch, video, nprng) in zip(range(done, steps), prepared):
        progress("train", step, steps)
        torch.manual_seed(distributed.seed_for_rank(seed * 1_000_003 + step))  # dropout: the same after a resume
        labels = torch.tensor([s.label for s in batch], dtype=torch.long, device=device)
        optimizer.zero_grad()
        if finetune:  # each process mixes its own share of the batch, as timm's Mixup in every official process
            video, targets, _ = mix_batch(video.to(device), labels, head, nprng, recipe.mixup_alpha,
                                          recipe.cutmix_alpha, recipe.mixup_prob, recipe.switch_prob,
                                          recipe.label_smoothing)
            with torch.autocast(device_type=torch.device(device).type, enabled=amp):
                loss = soft_cross_entropy(model(rgb=video)["logits"], targets)
            scaler.scale(loss).backward()
            losses.append(float(loss.detach()))
        else:
            video = video.to(device)
            chunk = -(-len(batch) // recipe.batch_split)
            for i in range(0, len(batch), chunk):  # official batch_split: gradients of the chunks add up
                with torch.autocast(device_type=torch.device(device).type, enabled=amp):
                    logits = model(rgb=video[i:i + chunk])["logits"]
                    loss = torch.nn.functional.cross_entropy(logits, labels[i:i + chunk])
                scaler.scale(loss * (len(labels[i:i + chunk]) / len(batch))).backward()
                losses.append(float(loss.detach()))
        scaler.step(optimizer)
        scaler.update()
        scheduler.step()
        if (step + 1) % every == 0 or step + 1 == steps:
            model.eval()
            top1 = validate(net, dataset, val, card, clips, None, card.protocol.outputs[0], device, 8,
                            lambda d, t: progress(split, d, t), cfg.workers,
                            protocol=card.protocol.views[0] if finetune else "1view")  # VideoMAE: one clip
            model.train()
            entry = {"step": step + 1, "loss": distributed.mean_across(np.mean(losses) if losses else float("nan")),
                     f"{split}_top1": top1, "lr": optimizer.param_groups[0]["lr"],
                     "seconds": round(time.perf_counter() - began, 1), "threads": threads["threads"]}
            entry.update({"processes": distributed.world_size(), "global_batch": batch_size}
                         if distributed.is_distributed() else {})
            entry.update({"epoch": round((step + 1) / per_epoch, 3)} if finetune else {})
            history.append(entry)
            losses, began = [], time.perf_counter()
            best = max(h[f"{split}_top1"] for h in history)
            if not distributed.is_main():  # rank 0 writes checkpoints and history
                continue
            state = {k: v for k, v in net.state_dict().items()}
            save_checkpoint(out / "last.safetensors", state, {**metadata, "step": step + 1, "top1": top1})
            # every saved step kept, as the official run folder: bench average takes them
            save_checkpoint(out / f"checkpoint-{step + 1:06d}.safetensors", state, {**metadata, "step": step + 1})
            if top1 >= best:
                save_checkpoint(out / "best.safetensors", state, {**metadata, "step": step + 1, "top1": top1})
                export_official(out / "best.pt", state, card.checkpoint_key, step + 1, card.key_prefix)
            torch.save({"step": step + 1, "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                        "scaler": scaler.state_dict()}, out / "last-optimizer.pt")
            with atomic_open(out / "history.jsonl") as handle:
                handle.writelines(json.dumps(h) + "\n" for h in history)
            prefix = f"epoch {entry['epoch']:g}, " if finetune else ""
            log(f"{prefix}step {step + 1}/{steps}: loss {entry['loss']:.3f}, {split} top-1 {top1:.1f}% "
                f"(best {best:.1f}%), {entry['seconds']} s")
    progress("train", steps, steps)
    best = max((h[f"{split}_top1"] for h in history), default=float("nan"))
    return IsolatedTrainResult(out / "best.safetensors", out / "last.safetensors", out / "best.pt", history, best)


def batch_at(train: list, step: int, batch_size: int, seed: int) -> list:
    """The clips of ``step``: consecutive slices of seeded permutations of the training set, one per pass."""
    chosen, orders = [], {}
    for position in range(step * batch_size, (step + 1) * batch_size):
        rounds, index = divmod(position, len(train))
        if rounds not in orders:  # one permutation per pass the batch touches, not one per clip
            orders[rounds] = np.random.default_rng([seed, 7, rounds]).permutation(len(train))
        chosen.append(train[int(orders[rounds][index])])
    return chosen


def epoch_batch_at(train: list, step: int, batch_size: int, seed: int) -> list:
    """The clips of ``step`` in epoch-based training: slice ``step % per_epoch`` of the epoch's seeded permutation,
    ``per_epoch = len(train) // batch_size`` (the official loader drops the last partial batch)."""
    epoch, index = divmod(step, len(train) // batch_size)
    order = np.random.default_rng([seed, 13, epoch]).permutation(len(train))
    return [train[int(i)] for i in order[index * batch_size:(index + 1) * batch_size]]


def few_shot(samples: list, shots: int, seed: int) -> list:
    """``shots`` clips per class, drawn with ``seed`` (the official ``--n_shots`` is unseeded)."""
    by_class: dict[int, list] = {}
    for sample in samples:
        by_class.setdefault(int(sample.label), []).append(sample)
    rng = np.random.default_rng([seed, 11])
    kept = [s for label in sorted(by_class) for s in
            (by_class[label] if len(by_class[label]) <= shots else
             [by_class[label][i] for i in sorted(rng.choice(len(by_class[label]), shots, replace=False))])]
    return kept


def _train_clip(dataset, card, clips: ClipReader, sample, rng: random.Random, nprng: np.random.Generator):
    """One training clip ``[3, T, S, S]``: random strided window, ``/ 255``, normalised, random resized crop."""
    import torch

    protocol, spec = card.protocol, card.input
    window = strided_train_window(dataset.frame_count(sample), protocol.frames, protocol.stride_for(dataset.name),
                                  nprng)
    (frames,) = clips(sample, [window])
    recipe = card.training.for_dataset(dataset.name)
    if recipe.auto_augment:  # before normalising, one draw for the whole clip, as the official dataset
        frames = rand_augment_clip(np.ascontiguousarray(frames), parse_rand_augment(recipe.auto_augment), rng, nprng)
    video = torch.from_numpy(np.ascontiguousarray(frames)).float() / 255  # T, H, W, 3
    mean, std = (torch.tensor(v) for v in spec.mean_std(dataset.name))
    video = ((video - mean) / std).permute(3, 0, 1, 2)  # C, T, H, W as the official code
    box = resized_crop_box(video.shape[-2], video.shape[-1], recipe.crop_scale, recipe.crop_ratio, rng)
    return resized_crop(video, box, spec.crop)


def _finetune_clip(dataset, card, recipe, clips: ClipReader, sample, rng: random.Random, nprng: np.random.Generator):
    """One fine-tuning clip ``[3, T, S, S]``: VideoMAE's training window and augmentations."""
    import torch

    window = videomae_train_window(dataset.frame_count(sample, card.protocol.frame_drop), card.protocol.frames,
                                   card.protocol.stride_for(dataset.name), nprng)
    (frames,) = clips(sample, [window])
    mean, std = card.input.mean_std(dataset.name)
    generator = torch.Generator().manual_seed(int(nprng.integers(2**62)))  # the erasing noise
    return videomae_train_clip(frames, recipe, mean, std, card.input.crop, rng, nprng, generator)


def _finetune_model(cfg, card, recipe, head: int, log):
    """The model of a fine-tuning stage, built with the recipe's drop path: fresh, or from ``--init`` (a head of
    another class count re-initialised, said in the log)."""
    from zoo.loader import load_model, load_stage_init

    variant = {**cfg.variant, "drop_path_rate": recipe.drop_path}
    if cfg.init is None:
        return load_model(cfg.model, None, num_classes=head, **variant).model
    model, lines = load_stage_init(cfg.model, cfg.init, head, **variant)
    for line in lines:
        log(line)
    return model
