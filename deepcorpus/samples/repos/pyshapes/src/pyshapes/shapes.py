"""Polygons built from points, with perimeter and area (shoelace formula)."""

from .geometry import Point, distance


class Polygon:
    def __init__(self, points: list[Point]):
        if len(points) < 3:
            raise ValueError("a polygon needs at least three points")
        self.points = list(points)

    def perimeter(self) -> float:
        pts = self.points
        return sum(distance(pts[i], pts[(i + 1) % len(pts)]) for i in range(len(pts)))

    def area(self) -> float:
        pts = self.points
        twice = sum(pts[i].x * pts[(i + 1) % len(pts)].y - pts[(i + 1) % len(pts)].x * pts[i].y
                    for i in range(len(pts)))
        return abs(twice) / 2


class Rectangle(Polygon):
    def __init__(self, corner: Point, width: float, height: float):
        super().__init__([corner, corner.translated(width, 0), corner.translated(width, height),
                          corner.translated(0, height)])
        self.width = width
        self.height = height
