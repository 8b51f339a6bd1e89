"""Quality evaluators, objectives, the Pareto archive and the evaluation store."""
