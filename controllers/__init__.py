"""RL controllers, search baselines and the search loop (issue 5)."""
