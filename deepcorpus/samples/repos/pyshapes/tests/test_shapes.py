from pyshapes.geometry import Point
from pyshapes.shapes import Polygon, Rectangle


def test_rectangle_area_and_perimeter():
    rect = Rectangle(Point(1, 1), 3, 2)
    assert rect.area() == 6
    assert rect.perimeter() == 10


def test_triangle_area():
    assert Polygon([Point(0, 0), Point(4, 0), Point(0, 3)]).area() == 6
