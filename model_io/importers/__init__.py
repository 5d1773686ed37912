"""Models into graphs, the torch side: the tracer (module stack, op nodes, graph assembly), TorchScript and
torch.export, ONNX, the library builders (torchvision, timm, transformers) and the loaders' table of importers.
Runs model code: only ever inside the worker process (model_io.worker.worker). Imports the bottom layer and files/."""
