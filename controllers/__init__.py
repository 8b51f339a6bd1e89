"""Search methods (RL controllers and baselines), the budgeted search loop, comparisons, plots
and W&B tracking. Entry points: `livgym.controllers.search.run_search`,
`livgym.controllers.compare.run_compare`, and the `livgym search` / `livgym compare` commands."""
