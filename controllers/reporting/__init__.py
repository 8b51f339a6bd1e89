"""What a search reports: plots, W&B tracking and the progress bar.
"""
