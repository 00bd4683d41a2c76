"""CSLR scoring: the official hypothesis clean-up, sclite-exact WER, real sclite, SlowFastSign's evaluator."""

from bench.scoring.align import align
from bench.scoring.cleanup import clean_gloss, clean_hypotheses, fill_empty
from bench.scoring.score import SCORERS, SentenceScore, WerScore, score
from bench.scoring.sclite import ScliteNotFound, find_sclite

__all__ = ["SCORERS", "ScliteNotFound", "SentenceScore", "WerScore", "align", "clean_gloss", "clean_hypotheses",
           "fill_empty", "find_sclite", "score"]
