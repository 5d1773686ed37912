"""The Training tab: a training step's memory and compute."""
