"""Coding utterances into attunement acts: taxonomy, segmentation, local and LLM-judge coders."""
