"""Points, polygons and areas."""

from pyshapes.geometry import Point, distance
from pyshapes.shapes import Polygon, Rectangle

__all__ = ["Point", "Polygon", "Rectangle", "distance"]
