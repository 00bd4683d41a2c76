"""Blocks shared by several models of the zoo."""
