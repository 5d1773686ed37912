"""The isolated worker process and its parent side: the process itself (`python -m netcost.model_io.worker.worker`),
its guards (session, sandbox, watchdog, orphans), the client that starts it and reads its answer, measurement and
calibration, and `resolve`, which turns any reference into a graph (files directly, models through the worker).
Imports importers/ only inside the worker process; files/ and the bottom layer anywhere."""
