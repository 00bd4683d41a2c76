"""A card whose input is the H&HT mosaic gets mosaic frames from the runners' frame reading: the dataset's views
are the mosaics of its frames with its landmarks; ``bench eval`` of such a card feeds the model mosaics;
missing landmarks make a sample unreadable, naming the file."""

from dataclasses import replace

import numpy as np
import pytest
import torch

import zoo.cards
from bench.data.cslr import DatasetError
from bench.data.synthetic_isolated import make_dataset
from bench.data.views import TemporalView, eval_views
from bench.hht.frames import MosaicFrames, frames_for_card
from bench.hht.mosaic import mosaic_frames
from bench.io.landmarks import landmark_path, read_landmarks
from bench.runners import isolated
from zoo.checkpoints import save_checkpoint
from zoo.loader import load_model


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    dataset, _ = make_dataset(tmp_path_factory.mktemp("wlasl"), {"train": 1, "test": 1}, seed=4, signers=2,
                              landmarks=True)
    return dataset


def test_views_are_mosaics_of_the_frames(release):
    sample = release.samples("test")[5]
    views = [TemporalView("central", (0, 2, 4, 6)), TemporalView("end", (5, 6), (0, 2))]
    frames = MosaicFrames(release).read_views(sample, views)
    marks = read_landmarks(landmark_path(release.root / "landmarks", sample))
    raw = release.read_frames(sample, [0, 2, 4, 5, 6])
    assert np.array_equal(frames[0], mosaic_frames(raw[[0, 1, 2, 4]], marks, [0, 2, 4, 6]))
    assert np.array_equal(frames[1], mosaic_frames(raw[[3, 4, 4, 4]], marks, [5, 6, 6, 6]))  # padded at the end
    assert not frames[0][:, :32, 32:].any()  # the right hand is never drawn: its quadrant is black


def test_card_field_selects_the_mosaic(release, tmp_path):
    card = zoo.cards.get_card("s3d_rgb_tiny")
    assert card.input.preprocess is None and frames_for_card(release, card) is release
    hht = replace(card, input=replace(card.input, preprocess="hht"))
    assert isinstance(frames_for_card(release, hht, tmp_path), MosaicFrames)
    with pytest.raises(DatasetError, match=r"landmarks not found: .*videos/000\d\d\.npz"):
        frames_for_card(release, hht, tmp_path).read_frames(release.samples("test")[0], [0])
    with pytest.raises(ValueError, match="unknown input preprocess 'crop'"):
        frames_for_card(release, replace(card, input=replace(card.input, preprocess="crop")))


def test_eval_of_an_hht_card_reads_mosaics(release, tmp_path, monkeypatch):
    card = zoo.cards.get_card("s3d_rgb_tiny")
    hht = replace(card, input=replace(card.input, preprocess="hht"))
    monkeypatch.setattr(zoo.cards, "get_card", lambda name: hht if name == "s3d_rgb_tiny" else card)
    seen = []  # the frames the runner turns into model input, per window
    original = isolated.rgb_view_input
    monkeypatch.setattr(isolated, "rgb_view_input", lambda frames, *a, **k: seen.append(frames) or original(frames, *a, **k))
    torch.manual_seed(0)
    classes = len(release.classes())
    model = load_model("s3d_rgb_tiny", num_classes=classes).model.eval()
    ckpt = save_checkpoint(tmp_path / "tiny.safetensors", model.state_dict(),
                           {"card": "s3d_rgb_tiny", "num_classes": classes})
    result = isolated.evaluate_isolated(isolated.IsolatedEval(
        "s3d_rgb_tiny", "synthetic_wlasl", "test", release.root, str(ckpt), results_dir=tmp_path / "runs", workers=1,
        views=("1view",)))
    assert result.evaluated == 12 and len(seen) == 12
    mosaics = MosaicFrames(release)
    for sample, frames in zip(release.samples("test"), seen):
        views = eval_views(release.frame_count(sample), "1view", 16)
        assert np.array_equal(frames, mosaics.read_views(sample, views)[0])
        assert not np.array_equal(frames, release.read_views(sample, views)[0])
    missing = isolated.evaluate_isolated(isolated.IsolatedEval(
        "s3d_rgb_tiny", "synthetic_wlasl", "test", release.root, str(ckpt), results_dir=tmp_path / "runs2", workers=1,
        views=("1view",), landmarks=tmp_path / "none"))
    assert missing.evaluated == 0 and len(missing.not_evaluated["unreadable"]) == 12


def test_synthetic_landmarks_leave_the_release_unchanged_and_sit_on_the_drawing(release, tmp_path):
    plain, _ = make_dataset(tmp_path, {"train": 1, "test": 1}, seed=4, signers=2)
    files = sorted(p.relative_to(plain.root) for p in plain.root.rglob("*") if p.is_file())
    assert files and all((plain.root / f).read_bytes() == (release.root / f).read_bytes() for f in files)
    assert len(list((release.root / "landmarks").rglob("*.npz"))) == 24
    sample = release.samples("test")[0]
    marks = read_landmarks(landmark_path(release.root / "landmarks", sample))
    frames = release.read_frames(sample, range(marks.frames))
    assert marks.present["face"].all() and marks.present["left_hand"].all() and not marks.present["right_hand"].any()
    for t in (0, marks.frames // 2):
        face = marks.xy["face"][t].mean(axis=0) * 64  # the head's centre and the palm's: both skin, drawn alike
        palm = marks.xy["left_hand"][t, 1:5].mean(axis=0) * 64
        skin_face = frames[t, int(face[1]), int(face[0])].astype(int)
        skin_palm = frames[t, int(palm[1]), int(palm[0])].astype(int)
        assert np.abs(skin_face - skin_palm).max() <= 30, (t, skin_face, skin_palm)
