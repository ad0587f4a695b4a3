"""Command line: print the area of a rectangle given its width and height."""

import argparse

from pyshapes import shapes
from pyshapes.geometry import Point


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="rectangle area")
    parser.add_argument("width", type=float)
    parser.add_argument("height", type=float)
    args = parser.parse_args(argv)
    rect = shapes.Rectangle(Point(0, 0), args.width, args.height)
    print(f"area {rect.area():.2f}, perimeter {rect.perimeter():.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
