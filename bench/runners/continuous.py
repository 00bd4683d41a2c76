"""``bench eval`` for continuous SLR: the official test run of any CSLR card, resumable, recorded.

Per sample: frames -> the card's test transform -> batches as the official loader makes them (consecutive samples
in dataset order, ``batch_size`` of the card's protocol, longest first inside a batch, padded with edge frames)
-> the model -> softmax of the card's reported head -> ctcdecode-exact beam search (or greedy) -> repeats merged
-> glosses. Hypotheses are appended per batch to ``hypotheses.jsonl`` (an interrupted run resumes from it), then
written as the official CTM and scored with the card's scorer and with the sclite-exact python scorer.

Samples without frames (missing, unreadable, or skipped by the official loader's ``len - 1`` quirk) are counted,
listed, and scored as empty hypotheses: the WER is always over the whole split.
"""

from __future__ import annotations

import json
from collections import deque
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from bench import distributed
from bench.data import get_dataset
from bench.data.cslr import DatasetError
from bench.data.resize import exact_resizer
from bench.data.video import pad_batch, test_transform
from bench.decoding import decode_glosses
from bench.io.atomic import atomic_open
from bench.io.gloss_dict import read_gloss_dict
from bench.io.transcripts import hypotheses_to_ctm, read_stm, write_ctm
from bench.precision import SpeedModes, apply_modes, autocast, fp32_note, speed_modes
from bench.profile import (CACHE_BUILD, DECODING, H2D, MODEL, OFF, READ, SCORING, TRANSFORM, StageClock,
                           make_profile)
from bench.progress import Progress
from bench.runners.resume import RunClock, fingerprint, resume_message, resume_threads
from bench.runners.sharding import finish_log, gather_rows, part_path, resume_sharded, shard as shard_units
from bench.records import ResultRecord, collect_provenance, record_path, write_record
from bench.scoring import WerScore, find_sclite, score

Log = Callable[[str], None]


@dataclass
class ContinuousEval:
    """What to evaluate; ``None`` fields take the card's official protocol."""

    model: str
    dataset: str
    split: str
    data_root: Path
    checkpoint: str | None = None
    results_dir: Path = Path("results/runs")
    batch_size: int | None = None
    decoder: str | None = None
    skip_like_official: bool = True  # CSL-Daily/CSL: the official loader never sees the last sample
    device: str = "cpu"
    amp: bool | str = False  # False/fp32, "bf16", "fp16" (CUDA only); True: the device's autocast default
    trust_checkpoint: bool = False
    random_weights: bool = False  # evaluate an untrained network, on purpose (recorded loudly)
    limit: int | None = None  # only the first N samples of the split (smoke runs; recorded)
    restart: bool = False
    workers: int = 2
    reference: Path | None = None  # an STM to score against instead of the dataset's official one
    gloss_dict: Path | None = None  # the official gloss_dict.npy (default: the release's annotations, then the checkpoint)
    threads: int | None = None  # torch threads (None: bench.threads' policy)
    channels_last: bool = False  # weights in channels-last memory format (recorded in the tag)
    compile: bool = False  # torch.compile the model (recorded in the tag)
    profile: bool = False  # time each stage; the result's ``profile`` and the record's extra say where time went
    cache_frames: bool = False  # decode the split once into a packed uint8 file (bench.data.frame_cache)
    cache_dir: Path | None = None  # where that file lies (None: $BENCH_CACHE or ~/.cache/slr-bench/frames)


@dataclass
class ContinuousResult:
    record: Path
    run_dir: Path
    scores: dict[str, WerScore]
    evaluated: int
    nominal: int
    not_evaluated: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    profile: object = None  # bench.profile.Profile with --profile


def evaluate_continuous(cfg: ContinuousEval, progress: Progress | None = None, log: Log | None = None
                        ) -> ContinuousResult:
    from zoo.cards import get_card
    from zoo.loader import load_model

    distributed.init_from_env(cfg.device)  # torchrun: join the group; alone: nothing
    device = distributed.local_device(cfg.device)
    progress = progress if distributed.is_main() else None
    profile = make_profile(cfg.profile, cfg.workers, device)
    modes = speed_modes(cfg.amp, device, cfg.channels_last, cfg.compile)
    card = get_card(cfg.model)
    if card.task != "continuous":
        raise ValueError(f"{cfg.model} is a {card.task} model; bench eval here runs continuous SLR")
    dataset = get_dataset(cfg.dataset, "continuous")(cfg.data_root)
    if cfg.checkpoint is None and not cfg.random_weights:
        raise ValueError("no --checkpoint given: bench does not evaluate unloaded weights (pass --random-weights to "
                         "measure an untrained network on purpose)")
    id_to_gloss, vocabulary_source = dataset_vocabulary(dataset, cfg.gloss_dict)
    vocabulary = None if id_to_gloss is None else [id_to_gloss[i] for i in range(len(id_to_gloss))]
    loaded = load_model(cfg.model, cfg.checkpoint, vocabulary=vocabulary, trust=cfg.trust_checkpoint)
    if id_to_gloss is None:  # neither gloss_dict.npy nor every split's annotations: the checkpoint's own list
        id_to_gloss, vocabulary_source = checkpoint_vocabulary(loaded, dataset, cfg.checkpoint)
    model = apply_modes(loaded.model.to(device).eval(), modes)

    samples = dataset.samples(cfg.split)
    if cfg.limit:
        samples = samples[: cfg.limit]
    skipped = [samples[-1].id] if cfg.skip_like_official and dataset.official_skips_last and not cfg.limit else []
    integrity = dataset.integrity(cfg.split)
    absent = set(integrity.missing_ids) | set(integrity.unreadable_ids)
    runnable = [s for s in samples if s.id not in absent and s.id not in skipped]

    protocol = _protocol(cfg, card, loaded, modes)
    run_dir = record_path(cfg.results_dir, cfg.model, cfg.dataset, cfg.split, protocol).with_suffix("")
    done = resume_sharded(run_dir, "hypotheses.jsonl", _fingerprint(cfg, loaded, protocol, samples), cfg.restart)
    clock = RunClock(run_dir, resumed=bool(done))
    resume_threads(run_dir, bool(done), cfg.threads)
    if done and log and distributed.is_main():
        log(resume_message(sum(s.id in done for s in runnable), len(runnable), run_dir))
    before = set(done)
    with (profile if cfg.cache_frames else OFF).stage(CACHE_BUILD):  # decoding the split once, when stale
        read = _frame_reader(cfg, dataset, cfg.split, runnable, _frame_size(card), log)
    with open(part_path(run_dir, "hypotheses.jsonl"), "a", encoding="utf-8") as rows:
        failed = decode_samples(model, card, runnable, read, id_to_gloss,
                                protocol, device, modes, cfg.workers, done, rows, progress, cfg.dataset,
                                stage=f"{cfg.model} on {cfg.dataset} {cfg.split}", after_batch=clock.save,
                                profile=profile, shard=distributed.world_size() > 1)
    done, failed = gather_rows(done, before, failed)  # every rank's rows; rank 0 scores and writes
    if not distributed.is_main():
        return distributed.broadcast_object(None)

    order = loader_order(samples, done)  # the official CTM lists samples as the loader yielded them
    finish_log(run_dir, "hypotheses.jsonl", (done[i] for i in order))
    hypotheses = {i: done[i]["glosses"] for i in order}
    conv = {i: done[i]["conv_glosses"] for i in order}
    if cfg.reference is not None:
        segments, reference_source = read_stm(cfg.reference), str(cfg.reference)
    else:
        segments, reference_source = dataset.scoring_reference(cfg.split)
    reference = [seg for seg in segments if seg.file in {s.id for s in samples}]
    write_ctm(hypotheses_to_ctm(hypotheses), run_dir / f"output-hypothesis-{cfg.split}.ctm", sort=False)
    write_ctm(hypotheses_to_ctm(conv), run_dir / f"output-hypothesis-{cfg.split}-conv.ctm", sort=False)

    notes: list[str] = []
    reported = card.protocol.scorer
    if reported == "sclite" and find_sclite() is None:
        reported = "python"
        notes.append("sclite is not installed: the reported WER is the python scorer's, which reproduces sclite's "
                     "counts (apt-get install sctk to run the binary)")
    with profile.stage(SCORING):
        scores = {"python": score(reference, hypotheses, scorer="python")}
        if reported != "python":
            scores[reported] = score(reference, hypotheses, scorer=reported)
        scores["conv"] = score(reference, conv, scorer="python")
    if cfg.random_weights:
        notes.append("RANDOM WEIGHTS: no checkpoint was loaded; this measures an untrained network")
    if card.input.top_rows_removed.get(cfg.dataset) and not exact_resizer():
        notes.append("OpenCV not installed: the frames' crop-and-resize used Pillow, a few levels per pixel off the "
                     "official cv2.resize (pip install slr-bench[opencv])")
    if cfg.limit:
        notes.append(f"limited to the first {cfg.limit} samples of the split")

    not_evaluated = {"missing": integrity.missing_ids, "unreadable": sorted(set(integrity.unreadable_ids) | set(failed)),
                     "skipped_like_official": skipped}
    not_evaluated = {k: [i for i in v if i in {s.id for s in samples}] for k, v in not_evaluated.items()}
    evaluated = len(hypotheses)
    record = _record(cfg, card, loaded, protocol, scores, reported, samples, evaluated, not_evaluated, notes,
                     clock.total(), run_dir)
    record.extra["reference"] = reference_source
    record.extra["vocabulary"] = vocabulary_source
    if modes.tag:  # never hidden: the difference against this protocol's fp32 run, where one is in the folder
        fp32 = record_path(cfg.results_dir, cfg.model, cfg.dataset, cfg.split,
                           {"tag": protocol["tag"][: -len(modes.tag)]})
        note = fp32_note(fp32, "wer", record.metrics["wer"], done, lambda row: row["glosses"])
        record.notes.append(note or f"{modes.tag[1:]}: no fp32 run of this protocol in {cfg.results_dir} to "
                            "compare with (run it without the speed modes, then bench compare)")
    if cfg.profile:
        record.extra["profile"] = profile.stop().to_dict()  # records are written last: what follows is not timed
    path = write_record(record, cfg.results_dir)
    with atomic_open(run_dir / "scores.jsonl") as handle:  # not .json: the results folder holds only records
        for name, result in scores.items():
            # the python row keeps the scored words (parallel to its sentences): per-gloss breakdowns re-align them
            words = {"words": [[list(r), list(h)] for r, h in result.words]} if name == "python" else {}
            handle.write(json.dumps({"head_or_scorer": name, **result.to_dict(), **words}, ensure_ascii=False) + "\n")
    result = ContinuousResult(path, run_dir, scores, evaluated, len(samples), not_evaluated, notes,
                              profile if cfg.profile else None)
    return distributed.broadcast_object(result) if distributed.is_distributed() else result


def dataset_vocabulary(dataset, gloss_dict: Path | None = None) -> tuple[dict[int, str] | None, str]:
    """Class id -> gloss as the official code has it, and where it came from: ``gloss_dict`` (or a
    ``gloss_dict.npy`` in the data root), else rebuilt from every split's annotations; ``None`` when neither exists."""
    candidates = [Path(gloss_dict)] if gloss_dict else [dataset.root / "gloss_dict.npy"]
    for path in candidates:
        if gloss_dict or path.is_file():
            return read_gloss_dict(path), f"gloss_dict.npy: {path}"
    try:
        return dataset.id_to_gloss(), "rebuilt from the release's annotations of every split"
    except DatasetError:
        return None, ""


def checkpoint_vocabulary(loaded, dataset, checkpoint) -> tuple[dict[int, str], str]:
    """The vocabulary stored in our checkpoint's metadata (official checkpoints hold none: say what to pass)."""
    glosses = loaded.checkpoint.metadata.get("vocabulary") if loaded.checkpoint else None
    if not glosses:
        raise DatasetError(f"{dataset.name}: no vocabulary: the release under {dataset.root} lacks some splits' "
                           f"annotations ({dataset.layout}), no gloss_dict.npy is in it, and {checkpoint} stores no "
                           "gloss list; pass --gloss-dict with the official repository's "
                           "preprocess/<dataset>/gloss_dict.npy")
    return dict(enumerate(glosses)), f"stored in the checkpoint: {checkpoint}"


def loader_order(samples, done: dict[str, dict]) -> list[str]:
    """Decoded ids as the official loader yields them: batches in dataset order, longest clip first inside each."""
    order: list[str] = []
    seen: set[str] = set()
    for sample in samples:
        if sample.id in done and sample.id not in seen:
            for sample_id in done[sample.id].get("batch", [sample.id]):
                if sample_id in done and sample_id not in seen:
                    order.append(sample_id)
                    seen.add(sample_id)
    return order


def decode_samples(model, card, samples, read_frames, id_to_gloss, protocol, device="cpu", amp=False, workers=2,
                   done=None, log=None, progress: Progress | None = None, dataset: str | None = None,
                   stage: str = "decode", after_batch: Callable[[], None] | None = None, profile=OFF,
                   shard: bool = False) -> list[str]:
    """Decode ``samples`` in official batches; rows go to ``done`` (and to ``log`` per batch). Returns unreadable ids.

    Batches are consecutive samples in the given order (the card's test batch size); a batch whose samples are
    all in ``done`` already is skipped, so that a resumed run keeps the original batch composition. ``workers``
    DataLoader processes read, transform and pad the next batches while the model runs (0: the main process).
    ``amp``: a :class:`bench.precision.SpeedModes`, or a bool (the device's autocast default). ``shard``:
    only this process's share of the batches left (whole batches, round-robin over the ranks).
    """
    from bench.data.loader import batch_loader, timed

    done = {} if done is None else done
    modes = amp if isinstance(amp, SpeedModes) else speed_modes(amp, device)
    size = protocol["batch_size"]
    batches = [samples[i:i + size] for i in range(0, len(samples), size)]
    todo = [b for b in batches if not all(s.id in done for s in b)]
    if shard:
        todo = shard_units(todo)
        samples = [s for b in todo for s in b]  # progress counts this process's share
    failed: list[str] = []
    count = len(samples) - sum(len(b) for b in todo)
    prepared = PreparedBatches(todo, read_frames, card.input, card.temporal_layout, dataset)
    pending: deque = deque()  # batches whose beam search runs in the decoding processes, in batch order

    def write(rows: list[dict]) -> None:
        for row in rows:
            done[row["id"]] = row
            if log is not None:
                log.write(json.dumps(row, ensure_ascii=False) + "\n")
        if log is not None:
            log.flush()

    with _decoding_pool(workers) as pool:
        try:
            for batch in timed(batch_loader(prepared, workers, device), profile):
                profile.add_worker(batch["timings"])
                failed += batch["failed"]
                if batch["ids"]:
                    result = _run_batch(model, batch, id_to_gloss, protocol, device, modes, profile, pool)
                    pending.append(result)
                    while len(pending) > (workers if pool is not None else 0):  # bounded: workers batches ahead
                        with profile.stage(DECODING):
                            write(_rows(pending.popleft()))
                if after_batch is not None:
                    after_batch()
                count += len(batch["ids"]) + len(batch["failed"])
                profile.clips += len(batch["ids"])
                if progress:
                    progress(stage, count, len(samples))
            while pending:
                with profile.stage(DECODING):
                    write(_rows(pending.popleft()))
        finally:  # interrupted: keep what the decoding processes finished, so that a resume need not redo it
            for result in pending:
                try:
                    write(_rows(result))
                except Exception:  # noqa: BLE001 - a decoding process killed with us: that batch is redone
                    break
    return failed


def _decoding_pool(workers: int):
    """Processes for the beam search (GIL-bound python: threads would not overlap it with the model), or none."""
    if workers <= 0:
        return nullcontext()
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # fork: the children only run numpy decoding, never CUDA; spawn would re-run ``python -m bench``
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))


def _rows(result) -> list[dict]:
    """The rows of a decoded batch: a list, or a future of one from the decoding processes."""
    return result.result() if hasattr(result, "result") else result


class PreparedBatches:
    """Official batches as the model takes them, one item per batch: frames read, test-transformed and padded
    (``pad_batch``), with the ids of the samples that did not decode and the stage times of the work."""

    def __init__(self, batches, read_frames, spec, layout, dataset: str | None):
        self.batches, self.read_frames, self.spec, self.layout, self.dataset = \
            batches, read_frames, spec, layout, dataset

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, index: int) -> dict:
        clock = StageClock()
        good, failed = [], []
        for sample in self.batches[index]:
            try:
                with clock.stage(READ):
                    frames = self.read_frames(sample)
                with clock.stage(TRANSFORM):
                    good.append((sample, test_transform(frames, self.spec, self.dataset)))
            except Exception:  # a frame that does not decode: the sample counts as unreadable
                failed.append(sample.id)
        out = {"ids": [s.id for s, _ in good], "failed": failed}
        if good:
            with clock.stage(TRANSFORM):
                video, lengths, order = pad_batch([v for _, v in good], self.layout)
            out.update(video=video, lengths=lengths, order=order, frames=[int(v.shape[0]) for _, v in good],
                       signers=[s.signer for s, _ in good])
        out["timings"] = clock.take()
        return out


def _frame_size(card) -> tuple[int, int]:
    return card.input.frame_size, card.input.frame_size


def _run_batch(model, batch, id_to_gloss, protocol, device, modes, profile=OFF, pool=None):
    """Forward one prepared official batch and decode both heads; rows in the batch's (longest-first) order, or,
    with a decoding ``pool``, a future of them (the beam search overlaps the next batches' forwards)."""
    import torch

    from bench.data.loader import to_device

    ids, order = batch["ids"], [int(i) for i in batch["order"]]
    with profile.stage(H2D):
        video, lengths = to_device(batch["video"], device), to_device(batch["lengths"], device)
    with profile.stage(MODEL), torch.no_grad(), autocast(device, modes):
        out = model(video, lengths)
    with profile.stage(DECODING):
        steps = out["feat_len"].cpu().numpy().astype(np.int64)
        probs = {name: out[name].float().softmax(-1).permute(1, 0, 2).cpu().numpy()
                 for name in (protocol["head"], "conv_logits")}
        job = (ids, order, [int(f) for f in batch["frames"]], probs, steps, id_to_gloss, protocol, batch["signers"])
        return decode_rows(*job) if pool is None else pool.submit(decode_rows, *job)


def decode_rows(ids, order, frames, probs, steps, id_to_gloss, protocol, signers) -> list[dict]:
    """Beam search (or greedy) of both heads' probabilities ``[B, T, C]``; one row per sample, longest first."""
    decoded = {name: decode_glosses(p, steps, id_to_gloss, method=protocol["decoder"],
                                    beam_width=protocol["beam_width"]) for name, p in probs.items()}
    return [{"id": ids[original], "glosses": decoded[protocol["head"]][position],
             "conv_glosses": decoded["conv_logits"][position], "frames": frames[original],
             "batch": [ids[i] for i in order], "signer": signers[original]}  # signer: breakdowns
            for position, original in enumerate(order)]


def _frame_reader(cfg, dataset, split: str, samples, size, log=None):
    """``sample -> frames``: from the packed frame cache with ``cache_frames`` (built first when absent or stale),
    else decoded from the release."""
    if not cfg.cache_frames:
        return lambda s: dataset.read_frames(s, size)
    from bench.data.frame_cache import continuous_cache

    return continuous_cache(dataset, split, samples, size, cfg.cache_dir, cfg.workers, log)


def _protocol(cfg: ContinuousEval, card, loaded, modes: SpeedModes | None = None) -> dict:
    batch = cfg.batch_size or card.protocol.batch_size
    decoder = cfg.decoder or card.protocol.decoder
    official = batch == card.protocol.batch_size and decoder == card.protocol.decoder and cfg.skip_like_official
    tag = "official" if official else f"bs{batch}-{decoder}" + ("" if cfg.skip_like_official else "-all")
    if cfg.random_weights:
        tag += "-random"
    if cfg.limit:
        tag += f"-first{cfg.limit}"  # a partial run never shares a leaderboard row with a full one
    modes = modes or speed_modes(cfg.amp, cfg.device)
    tag += modes.tag  # bf16/fp16, channels_last, compile: never the fp32 row
    return {"tag": tag, "decoder": decoder, "beam_width": card.protocol.beam_width, "scorer": card.protocol.scorer,
            "cleanup": card.protocol.cleanup, "batch_size": batch, "batches": "consecutive samples in dataset order",
            "head": card.protocol.output, "precision": modes.precision, "channels_last": modes.channels_last,
            "compile": modes.compile,
            "skip_like_official": cfg.skip_like_official}


def _fingerprint(cfg, loaded, protocol, samples) -> str:
    """What must not change between an interrupted run and its resumption."""
    parts = [cfg.model, cfg.dataset, cfg.split, loaded.checkpoint.sha256 if loaded.checkpoint else "random",
             json.dumps(protocol, sort_keys=True), *[s.id for s in samples]]
    return fingerprint(*parts)


def _record(cfg, card, loaded, protocol, scores, reported, samples, evaluated, not_evaluated, notes, seconds,
            run_dir) -> ResultRecord:
    main, python = scores[reported], scores["python"]
    words = python.ref_words or 1
    metrics = {"wer": main.wer, "wer_python": python.wer, "sub": 100.0 * python.total("substitutions") / words,
               "del": 100.0 * python.total("deletions") / words, "ins": 100.0 * python.total("insertions") / words,
               "wer_conv": scores["conv"].wer}
    decimals = {k: 1 for k in metrics}
    decimals["wer"] = main.decimals
    missing_ids = sorted({i for ids in not_evaluated.values() for i in ids})
    return ResultRecord(
        kind="run", model=cfg.model, dataset=cfg.dataset, split=cfg.split, task="continuous",
        protocol={**protocol, "scorer": reported},
        metrics=metrics, decimals=decimals,
        samples={"nominal": len(samples), "evaluated": evaluated, "missing": len(samples) - evaluated,
                 "missing_ids": missing_ids},
        provenance={**collect_provenance(loaded.checkpoint.sha256 if loaded.checkpoint else None, cfg.device, seconds),
                    **distributed.provenance()},  # how many processes computed it
        notes=notes,
        extra={"not_evaluated": not_evaluated, "checkpoint": loaded.checkpoint.source if loaded.checkpoint else None,
               "variant": {k: list(v) if isinstance(v, tuple) else v for k, v in loaded.variant.items()},
               "hypotheses": str(run_dir / "hypotheses.jsonl"),
               "ctm": str(run_dir / f"output-hypothesis-{cfg.split}.ctm")},
    )

