"""Gymnasium environments for architecture design (issue 4): the action encoding so far."""
