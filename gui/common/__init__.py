"""Widgets, text, colour and palette helpers every part of the window shares; imports nothing else from the gui."""
