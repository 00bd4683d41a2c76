"""CTC decoding: greedy and ctcdecode-exact beam search, plus the papers' label merging."""

from bench.decoding.beam import beam_search, beam_search_with_timesteps
from bench.decoding.glosses import decode_glosses
from bench.decoding.greedy import ctc_collapse, greedy_decode, merge_repeats

__all__ = ["beam_search", "beam_search_with_timesteps", "ctc_collapse", "decode_glosses", "greedy_decode",
           "merge_repeats"]
