"""The block diagram: the dataflow of a CostDocument coloured by cost (see docs/diagram-internals.md for its
modules). The tab is `view.DiagramView`; exports build their scene with `scene.scene_for`."""
