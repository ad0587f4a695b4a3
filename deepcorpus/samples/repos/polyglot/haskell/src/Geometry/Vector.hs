module Geometry.Vector (Vector (..), add, norm) where

-- | A vector in the plane.
data Vector = Vector Double Double deriving (Show, Eq)

add :: Vector -> Vector -> Vector
add (Vector a b) (Vector c d) = Vector (a + c) (b + d)

norm :: Vector -> Double
norm (Vector a b) = sqrt (a * a + b * b)
