"""Synthetic releases at a real split's size: given ids, annotations and frame counts (PHOENIX-2014), clip lengths
drawn in a range (WLASL) with keypoints of the same length."""

import numpy as np

from bench.data.synthetic_isolated import make_dataset
from bench.data.synthetic_signs import make_split_like


def test_phoenix_split_like_real_rows(tmp_path):
    rows = [{"fileid": "01April_2010_Thursday_heute_default-1", "signer": "Signer04", "label": "ICH OSTERN  WETTER",
             "num_frames": 47}, {"fileid": "b-2", "signer": "Signer01", "label": "REGEN", "num_frames": 5}]
    dataset = make_split_like(tmp_path / "p", rows, "dev", frame_size=40)
    samples = dataset.samples("dev")
    assert [s.id for s in samples] == ["01April_2010_Thursday_heute_default-1", "b-2"]
    assert samples[0].glosses == ("ICH", "OSTERN", "WETTER") and samples[0].signer == "Signer04"
    assert [len(dataset.frame_paths(s)) for s in samples] == [47, 5]
    assert dataset.read_frames(samples[0], (40, 40)).shape == (47, 40, 40, 3)
    assert dataset.samples("train") == [] and dataset.id_to_gloss()[1] == "ICH"  # every split's corpus exists


def test_wlasl_clip_lengths_and_keypoints(tmp_path):
    import pickle

    dataset, keypoints = make_dataset(tmp_path / "w", {"train": 1, "test": 2}, frame_size=32, seed=1, signers=2,
                                      clip_frames=(30, 40))
    table = pickle.loads(keypoints.read_bytes())
    assert len(dataset.samples("train")) == 12 and len(dataset.samples("test")) == 24  # one / two per class
    lengths = [dataset.stored_frame_count(s) for s in dataset.samples("test")]
    assert min(lengths) >= 30 and max(lengths) <= 40 and len(set(lengths)) > 1
    assert all(table[s.id].shape == (dataset.stored_frame_count(s), 133, 3) for s in dataset.samples("test"))
    assert np.isfinite(np.stack([table[s.id][0] for s in dataset.samples("test")])).all()
