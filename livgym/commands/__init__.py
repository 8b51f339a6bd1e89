"""Sub-commands of the livgym CLI, one module each."""
