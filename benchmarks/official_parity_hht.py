"""Parity of our H&HT mosaic with the official generator, pixel for pixel, on the same frames and landmarks.

The official ``get_head_hands`` (``multiprocessing_create_head_hands_stack.py`` of github
ganzobtn/video_data_preprocess) is imported from the checkout and run on a video with OpenCV (``pip install
opencv-python-headless``); nothing of it is copied. While it runs:

- ``mediapipe`` is a stand-in whose ``solutions.holistic.Holistic(...)`` records the settings it was built with and
  whose ``process(image)`` records the RGB frame it was given (the official decode) and answers with the landmarks
  of that frame from our landmarks file (the same float32 values, as MediaPipe's protobuf floats);
- the module's ``cv2.VideoWriter`` keeps the frames written (BGR) instead of encoding them (the checkout's files
  are untouched; everything else is the real cv2).

Ours: :func:`bench.hht.mosaic.mosaic_frames` on the frames the official code decoded, with the same landmarks;
compared with the frames it wrote (BGR -> RGB). Cases: the synthetic signer (256x256, landmarks where it is
drawn), random boxes (in, across and beyond the frame edges, parts missed; 320x240), Holistic's own landmarks on a
clip of a real photograph when mediapipe is installed, and ``--video V --landmarks L.npz`` for your own pair. A
frame whose crop box is empty makes the official code raise; that case is checked separately (ours: black).

Run::

    python benchmarks/official_parity_hht.py --official-repo /tmp/video_data_preprocess

Exits 1 if any frame differs.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import types
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.data.synthetic_isolated import holistic_landmarks  # noqa: E402
from bench.data.synthetic_signs import GLOSSES, make_signer, render_signing  # noqa: E402
from bench.hht.holistic import SETTINGS  # noqa: E402
from bench.hht.mosaic import MosaicStats, crop_box, mosaic_frames  # noqa: E402
from bench.io.landmarks import PARTS, Landmarks, read_landmarks  # noqa: E402
from bench.io.video import write_video  # noqa: E402

OFFICIAL = "multiprocessing_create_head_hands_stack.py"
_RESULT_NAMES = {"face": "face_landmarks", "left_hand": "left_hand_landmarks", "right_hand": "right_hand_landmarks",
                 "pose": "pose_landmarks"}


class _Holistic:
    """Stands in for ``mp.solutions.holistic.Holistic``: answers with the given landmarks, records what it saw."""

    def __init__(self, landmarks: Landmarks, seen: dict, **settings):
        self.landmarks, self.seen, self.index = landmarks, seen, 0
        seen["settings"], seen["frames"] = settings, []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def process(self, image):
        self.seen["frames"].append(np.array(image))
        t, found = self.index, {}
        for part, name in _RESULT_NAMES.items():
            if not self.landmarks.present[part][t]:
                found[name] = None
                continue
            points = [types.SimpleNamespace(x=float(x), y=float(y), z=0.0) for x, y in self.landmarks.xy[part][t]]
            found[name] = types.SimpleNamespace(landmark=points)
        self.index += 1
        return types.SimpleNamespace(**found)


def official_module(repo: Path, landmarks_box: dict, seen: dict, written: list):
    """The checkout's generator, imported with the stand-ins above (its argparse reads a clean argv)."""
    holistic = types.SimpleNamespace(Holistic=lambda **kw: _Holistic(landmarks_box["now"], seen, **kw))
    mediapipe = types.ModuleType("mediapipe")
    mediapipe.solutions = types.SimpleNamespace(drawing_utils=None, drawing_styles=None, holistic=holistic)
    saved_argv, saved_mp = sys.argv, sys.modules.get("mediapipe")
    sys.argv, sys.modules["mediapipe"] = [OFFICIAL], mediapipe
    try:
        spec = importlib.util.spec_from_file_location("official_hht", repo / OFFICIAL)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.argv = saved_argv
        if saved_mp is None:
            sys.modules.pop("mediapipe", None)
        else:
            sys.modules["mediapipe"] = saved_mp
    import cv2

    class Writer:  # keeps the frames instead of encoding them
        def __init__(self, *args):
            self.args = args

        def write(self, frame):
            written.append(np.array(frame))

        def release(self):
            pass

    module.cv2 = types.SimpleNamespace(**{k: getattr(cv2, k) for k in dir(cv2) if not k.startswith("__")})
    module.cv2.VideoWriter = Writer
    return module


def synthetic_case(size: int = 256, seed: int = 0) -> tuple[np.ndarray, Landmarks]:
    rng = np.random.default_rng(seed)
    signer = make_signer(rng)
    frames, track = render_signing((GLOSSES[3], GLOSSES[8]), signer, size, rng)
    return frames, holistic_landmarks(track, signer, size)


def random_case(width: int = 320, height: int = 240, frames: int = 24, seed: int = 1) -> tuple[np.ndarray, Landmarks]:
    """Boxes inside, across the edges and beyond them (but never empty), parts missed at random."""
    rng = np.random.default_rng(seed)
    base = synthetic_case(256, seed)[0]
    clip = np.stack([np.asarray(np.resize(f, (height, width, 3))) for f in base[:frames]])
    clip = (clip.astype(np.int16) + rng.integers(-40, 40, clip.shape)).clip(0, 255).astype(np.uint8)
    marks = Landmarks.empty(len(clip), (width, height), 25.0, "random boxes")
    for part, count in PARTS.items():
        for t in range(len(clip)):
            marks.present[part][t] = rng.random() > 0.2
            centre = rng.uniform(-0.15, 1.15, 2)
            spread = rng.uniform(0.005, 0.4, 2)
            while True:  # an empty box makes the official code raise: that is empty_crop_case's
                xy = centre + (rng.random((count, 2)) - 0.5) * spread
                xy = np.clip(xy, [-60 / width + 0.01, -60 / height + 0.01], [1 + 25 / width, 1 + 25 / height])
                x0, y0, x1, y1 = crop_box(xy.astype(np.float32), width, height)
                if clip[t, y0:y1, x0:x1].size:
                    break
                centre = rng.uniform(0, 1, 2)
            marks.xy[part][t] = xy.astype(np.float32)
    return clip, marks


def photo_case() -> tuple[np.ndarray, Landmarks] | None:
    """A clip made of a real photograph (matplotlib's Grace Hopper) moving across the frame, with Holistic's own
    landmarks (mediapipe needed)."""
    try:
        import matplotlib
        from PIL import Image

        from bench.hht.holistic import HolisticDetector, detect_video
        photo = np.asarray(Image.open(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg")
                           .convert("RGB"))
        detector = HolisticDetector()
    except ImportError as error:
        print(f"photo case skipped: {error}")
        return None
    clip = np.stack([np.roll(photo[:592], shift, axis=1) for shift in range(0, 160, 10)])
    return clip, detect_video(clip, (clip.shape[2], clip.shape[1]), 25.0, detector)


def compare(module, box: dict, seen: dict, written: list, clip: np.ndarray, marks: Landmarks, work: Path,
            name: str) -> bool:
    video = write_video(work / f"{name}.mp4", clip, fps=25)
    box["now"] = marks
    written.clear()
    module.get_head_hands(str(video), str(work / f"{name}_out.mp4"))
    official = np.stack(written)[..., ::-1]  # BGR -> RGB
    decoded = np.stack(seen["frames"])  # what the official code decoded, in RGB
    stats = MosaicStats()
    ours = mosaic_frames(decoded, marks, range(len(decoded)), stats)
    differ = int((ours != official).any(axis=-1).sum())
    found = {p: int(marks.present[p][:len(decoded)].sum()) for p in ("face", "left_hand", "right_hand")}
    print(f"{name}: {len(decoded)} frames {decoded.shape[2]}x{decoded.shape[1]}, parts found {found}: "
          f"{differ} pixels differ (max |diff| {int(np.abs(ours.astype(int) - official).max())})")
    return differ == 0


def empty_crop_case(module, box: dict, written: list, work: Path) -> None:
    clip, marks = synthetic_case(256, 5)
    marks.xy["face"][:] = np.float32(1.4)  # off the right/bottom edge: box 328..256 -> empty
    video = write_video(work / "empty.mp4", clip[:2], fps=25)
    box["now"] = marks
    try:
        module.get_head_hands(str(video), str(work / "empty_out.mp4"))
        outcome = "the official code ran"
    except Exception as error:  # cv2.error from cv2.resize of an empty crop
        outcome = f"the official code raises {type(error).__name__}: {str(error).strip().splitlines()[-1][:90]}"
    stats = MosaicStats()
    ours = mosaic_frames(clip[:2], marks, range(2), stats)
    print(f"empty face crop: {outcome}; ours leaves the face quadrant black ({stats.empty_crops} empty crops "
          f"counted, quadrant max {int(ours[:, 128:, :128].max())})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--official-repo", type=Path, required=True, help="checkout of ganzobtn/video_data_preprocess")
    parser.add_argument("--video", type=Path, help="your own video (even width and height) ...")
    parser.add_argument("--landmarks", type=Path, help="... and its landmarks file")
    args = parser.parse_args()
    if not (args.official_repo / OFFICIAL).is_file():
        parser.error(f"{args.official_repo / OFFICIAL} not found: pass a checkout of ganzobtn/video_data_preprocess")
    import cv2

    box, seen, written = {}, {}, []
    module = official_module(args.official_repo, box, seen, written)
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cases = {"synthetic signer": synthetic_case(), "random boxes": random_case()}
        photo = photo_case()
        if photo is not None:
            cases["photograph, Holistic's landmarks"] = photo
        for name, (clip, marks) in cases.items():
            ok &= compare(module, box, seen, written, clip, marks, work, name.split(",")[0].replace(" ", "_"))
        if args.video is not None:
            from bench.io.video import read_video_frames, video_frame_count

            marks = read_landmarks(args.landmarks)
            box["now"] = marks
            written.clear()
            module.get_head_hands(str(args.video), str(work / "user_out.mp4"))
            decoded = np.stack(seen["frames"])
            ours = mosaic_frames(decoded, marks, range(len(decoded)))
            differ = int((ours != np.stack(written)[..., ::-1]).any(axis=-1).sum())
            print(f"{args.video}: {len(decoded)} frames, {differ} pixels differ")
            ok &= differ == 0
            ours_decode = read_video_frames(args.video, range(video_frame_count(args.video, exact=True)))
            if ours_decode.shape == decoded.shape:
                print(f"  PyAV vs OpenCV decode of that video: max |diff| "
                      f"{int(np.abs(ours_decode.astype(int) - decoded).max())}")
        empty_crop_case(module, box, written, work)
    settings = seen.get("settings", {})
    wanted = {k: v for k, v in SETTINGS.items() if k != "model_complexity"}
    print(f"official Holistic settings: {settings} (model_complexity: the default, 1); ours: {SETTINGS}; "
          f"{'same' if settings == wanted else 'DIFFERENT'}")
    print(f"cv2 {cv2.__version__}: {'PASS, pixel for pixel' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
