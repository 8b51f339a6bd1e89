"""Search spaces over tables of designs: a user's CSV / JSON / parquet file, and synthetic tables.
"""
