"""Gymnasium environments for architecture design (issue 4)."""
