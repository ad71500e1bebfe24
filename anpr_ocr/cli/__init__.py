"""The `anpr-ocr` command line (`python -m anpr_ocr`)."""
