"""Reads of the case meeting, each filtered to what the asking user may see."""
