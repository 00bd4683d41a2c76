"""SignNet's head-and-hands tunnelling (H&HT): landmarks (:mod:`.holistic`, :mod:`.extract`), the mosaic
(:mod:`.mosaic`) and frames of a dataset as mosaics for cards whose input is H&HT (:mod:`.frames`)."""
