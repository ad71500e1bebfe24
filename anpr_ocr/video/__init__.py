"""Video: follow each plate from frame to frame and read it once per pass (`read_video`).

`frames` decodes a source in a thread, `track` matches detections to tracks (pure), `consensus`
decides a track's text from its readings (pure), `stream` joins them behind `read_video`; `clips`
builds labelled test clips from annotated photos and `score` scores tracks against them (pure);
`cli` is `anpr-ocr video`.
"""
