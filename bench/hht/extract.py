"""``bench landmarks``: Holistic over a dataset's videos in parallel processes, one landmarks file per video.

Resumable: each video's file is written atomically when the video is done, and a video whose file exists is not
run again (kill the command at any time; the same command continues). Videos that cannot be read are counted,
listed and retried by the next run. Progress is in frames (rate in frames/s, ETA from the remaining frames' count
in the containers). ``write_videos``: also the official H&HT mosaic videos (mp4, MPEG-4 Part 2 ``mp4v``, at the
source frame rate), from the landmarks files (made now or before).
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.connection import wait
import os
import signal
import time
from fractions import Fraction
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from bench.data.cslr import DatasetError
from bench.hht.holistic import HolisticDetector, detect_video
from bench.hht.mosaic import MosaicStats, mosaic_frames
from bench.io.landmarks import LandmarksError, landmark_path, read_landmarks, write_landmarks
from bench.io.video import VideoError, iter_video_frames
from bench.progress import Progress


@dataclass
class LandmarkRun:
    """What a run did: videos done now, found done, unreadable (id -> why); frames and seconds of this run."""

    out: Path
    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    unreadable: dict[str, str] = field(default_factory=dict)
    frames: int = 0
    seconds: float = 0.0
    videos_written: int = 0
    notes: list[str] = field(default_factory=list)


def _frames(dataset, sample):
    """(fps, (width, height), frame iterator) of a sample, streamed for video files."""
    if dataset.storage == "video":
        return iter_video_frames(dataset.video_path(sample))
    count = dataset.stored_frame_count(sample)
    first = dataset.read_frames(sample, [0])[0]
    return 0.0, (first.shape[1], first.shape[0]), (dataset.read_frames(sample, [i])[0] for i in range(count))


def _write_mosaic_video(path: Path, dataset, sample, landmarks) -> MosaicStats:
    from bench.io.video import write_video

    stats = MosaicStats()
    fps, _size, frames = _frames(dataset, sample)
    frames = np.stack(list(frames))
    mosaics = mosaic_frames(frames, landmarks, range(len(frames)), stats)
    rate = Fraction(fps or landmarks.fps or 25).limit_denominator(1001)  # 30000/1001 stays itself
    write_video(path, mosaics, fps=rate, codec="mpeg4")  # mp4v, as cv2.VideoWriter's 'mp4v'
    return stats


_DATASET = None  # the worker's dataset: sent once per process, not with every video


def _worker(dataset, connection) -> None:
    """A worker process: videos in, results out, over its own pipe (no lock shared with other workers, so that
    killing one never blocks another); the parent handles Ctrl-C and SIGTERM and ends the workers."""
    global _DATASET
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _exit)  # unwinds, so that a file being written is removed
    _DATASET = dataset
    while True:
        task = connection.recv()
        if task is None:
            return
        connection.send(_one_video(task))


def _exit(signum, frame):
    raise SystemExit(128 + signum)


def _remove_temporaries(targets) -> int:
    """Temporaries a killed run left beside the files it was writing (``atomic_open``'s ``.<name>.*.tmp``)."""
    removed = 0
    for folder in {t.parent for t in targets}:
        for stale in folder.glob(".*.tmp") if folder.is_dir() else ():
            stale.unlink(missing_ok=True)
            removed += 1
    return removed


def _parallel(dataset, tasks, processes: int):
    """Results of ``_one_video`` over ``tasks`` in ``processes`` worker processes, as they finish."""
    context = multiprocessing.get_context("spawn")  # MediaPipe's graph threads do not survive a fork
    workers = {}
    try:
        for _ in range(min(processes, len(tasks))):
            parent, child = context.Pipe()
            process = context.Process(target=_worker, args=(dataset, child), daemon=True)
            process.start()
            child.close()
            workers[parent] = process
        pending, busy = list(reversed(tasks)), set()
        for connection in workers:
            if pending:
                connection.send(pending.pop())
                busy.add(connection)
        while busy:
            for connection in wait(list(busy)):
                try:
                    result = connection.recv()
                except EOFError:
                    raise RuntimeError("a landmarks worker process died (out of memory?); run the same command "
                                       "again to resume") from None
                busy.discard(connection)
                if pending:
                    connection.send(pending.pop())
                    busy.add(connection)
                yield result
        for connection in workers:
            connection.send(None)
    finally:
        for process in workers.values():
            if process.is_alive():
                process.terminate()  # a stopped run: finished files are whole, the rest is redone next time
        for process in workers.values():
            process.join()


def _one_video(task) -> tuple[str, int, str | None, dict]:
    """Worker: landmarks (and the mosaic video) of one sample -> (id, frames, error or None, mosaic stats)."""
    sample, out, videos_out, detector = task
    dataset = _DATASET
    try:
        if out.is_file():
            landmarks = read_landmarks(out)
            frames = 0
        else:
            fps, size, stream = _frames(dataset, sample)
            landmarks = detect_video(stream, size, fps, detector())
            write_landmarks(out, landmarks)
            frames = landmarks.frames
        stats = {}
        if videos_out is not None and not videos_out.is_file():
            result = _write_mosaic_video(videos_out, dataset, sample, landmarks)
            stats = {"empty_crops": result.empty_crops, "odd_size": result.odd_size}
        return sample.id, frames, None, stats
    except (VideoError, DatasetError, LandmarksError, ValueError, OSError) as error:
        return sample.id, 0, str(error), {}


def extract_landmarks(dataset, splits, out: str | os.PathLike, processes: int = 1,
                      write_videos: str | os.PathLike | None = None, progress: Progress | None = None,
                      log: Callable[[str], None] | None = None, detector=HolisticDetector,
                      stop_after: int | None = None) -> LandmarkRun:
    """Landmarks of every sample of ``splits`` under ``out`` (see :func:`landmark_path`), ``processes`` videos at a
    time. ``detector``: a picklable factory of per-video detectors (default: MediaPipe Holistic, SignNet's
    settings). ``stop_after``: raise KeyboardInterrupt after that many videos (tests of resumption)."""
    out = Path(out)
    run = LandmarkRun(out)
    samples, seen = [], set()
    for split in splits:
        for sample in dataset.samples(split):
            if sample.video not in seen:  # a clip listed twice (two subsets, two splits) is run once
                seen.add(sample.video)
                samples.append(sample)
    tasks, counts = [], {}
    for sample in samples:
        target = landmark_path(out, sample)
        video = None if write_videos is None else landmark_path(write_videos, sample, ".mp4")
        if target.is_file() and (video is None or video.is_file()):
            run.skipped.append(sample.id)
            continue
        try:
            counts[sample.id] = 0 if target.is_file() else dataset.stored_frame_count(sample)
        except DatasetError as error:
            run.unreadable[sample.id] = str(error)
            continue
        tasks.append((sample, target, video, detector))
    _remove_temporaries([t[1] for t in tasks] + [t[2] for t in tasks if t[2] is not None])
    if log and run.skipped:
        log(f"resuming: {len(run.skipped)} of {len(samples)} videos already have landmarks in {out}")
    if detector is HolisticDetector and tasks:
        from bench.hht.holistic import holistic_module

        holistic_module()  # fail here, with the install line, rather than once per video in the workers
    total, stage, began = sum(counts.values()), f"landmarks ({len(tasks)} videos, frames)", time.monotonic()
    if progress:
        progress(stage, 0, total)
    global _DATASET
    _DATASET = dataset
    results = _parallel(dataset, tasks, processes) if processes > 1 else map(_one_video, tasks)
    empty_crops, odd = 0, 0
    try:
        for sample_id, frames, error, stats in results:
            if error is None:
                run.done.append(sample_id)
                run.frames += frames
                run.videos_written += bool(stats)
                empty_crops += stats.get("empty_crops", 0)
                odd += bool(stats.get("odd_size"))
            else:
                run.unreadable[sample_id] = error
                if log:
                    log(f"unreadable: {sample_id}: {error}")
            if progress:
                progress(stage, run.frames + sum(counts[i] for i in run.unreadable if i in counts), total)
            if stop_after is not None and len(run.done) >= stop_after:
                raise KeyboardInterrupt
    finally:
        getattr(results, "close", lambda: None)()  # ends the worker processes now, also when stopped
        run.seconds = time.monotonic() - began
    if empty_crops:
        run.notes.append(f"{empty_crops} crops were empty (landmarks off the frame): quadrants left black; the "
                         f"official generator stops there (cv2.resize of an empty image)")
    if odd:
        run.notes.append(f"{odd} videos have an odd width or height: the extra row/column is black; the official "
                         f"generator fails on them")
    return run
