"""Progress lines: counts, rate and time left, at a stage's start, every interval, and at its end."""

from bench.progress import LineProgress


def test_line_progress_rate_eta_and_interval():
    now, lines = [0.0], []
    progress = LineProgress(lines.append, every=30, clock=lambda: now[0])
    progress("epoch 1/2: train", 0, 100)  # stage start: shown
    now[0] = 10.0
    progress("epoch 1/2: train", 20, 100)  # inside the interval: silent
    now[0] = 40.0
    progress("epoch 1/2: train", 80, 100)  # 80 in 40 s: 2/s, 20 left: 10 s
    now[0] = 50.0
    progress("epoch 1/2: train", 100, 100)  # the end: always shown
    assert lines == ["epoch 1/2: train: 0/100 (0.00/s, 0:00:00 elapsed, ETA -)\n",
                     "epoch 1/2: train: 80/100 (2.00/s, 0:00:40 elapsed, ETA 0:00:10)\n",
                     "epoch 1/2: train: 100/100 (2.00/s, 0:00:50 elapsed, ETA done)\n"]
    assert progress.last == ("epoch 1/2: train", 100, 100)


def test_a_resumed_stage_measures_its_rate_from_where_it_started():
    now, lines = [0.0], []
    progress = LineProgress(lines.append, every=0, clock=lambda: now[0])
    progress("test: evaluate", 300, 540)  # 300 done before the interruption
    now[0] = 12.0
    progress("test: evaluate", 312, 540)
    assert lines[-1] == "test: evaluate: 312/540 (1.00/s, 0:00:12 elapsed, ETA 0:03:48)\n"
