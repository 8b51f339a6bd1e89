"""What a search reports: the run folder's files (`run_report`), plots, W&B tracking, the
progress bar, and the statistics every report's tables use (`stats`).
"""
