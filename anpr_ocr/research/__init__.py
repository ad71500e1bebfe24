"""Research: evaluation, calibration, robustness, proxies, label audit, cross-validation, benchmark timings,
reviewing `read_plates` on photos (failures, time a photo), scoring `anpr-ocr video` on clips built from photos.

No command line and no plots (those are `cli` and `report`)."""
