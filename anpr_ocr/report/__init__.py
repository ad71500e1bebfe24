"""Reports: tables, model cards, the README results block, plots."""
