"""The model zoo: architectures, their cards and checkpoint adapters."""
