"""The model zoo: architectures, their cards and checkpoint adapters. Importing it registers every model."""

from zoo import corrnet, nla_slr, signnet, signvlm, slowfastsign, vac, videomae  # noqa: F401  (registration)
from zoo.cards import get_card, list_models

__all__ = ["get_card", "list_models"]
