"""ScienceBeam Gym: train a model that paints the structure of scientific article pages."""

__version__ = "0.1.0"
