"""Files and models in and out, in layers (each imports only those below it):

    cli/        the GUI-free command line and its tables
    worker/     the isolated worker process, its guards and its client; resolve (any reference to a graph),
                measurement and calibration
    importers/  models into graphs, the torch side (tracer, TorchScript, torch.export, ONNX, libraries): worker only
    files/      formats and readers: layer lists, graph files, projects, devices, report tables, file checks
    (root)      the bottom layer: errors, options, file kinds, model references, escaping, strict JSON, versions
"""
