"""Research: evaluation, calibration, robustness, proxies, label audit, cross-validation, benchmark timings.

No command line and no plots (those are `cli` and `report`)."""
