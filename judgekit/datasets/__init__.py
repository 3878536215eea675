"""Loaders for benchmark question and prompt files, one module per format."""
