"""Files in and out: layer-list files, model references, the isolated worker, tables and reports."""
