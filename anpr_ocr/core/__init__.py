"""Core: the alphabet, plate formats, images, labelled crops, metrics and files; imports nothing else of anpr_ocr."""
