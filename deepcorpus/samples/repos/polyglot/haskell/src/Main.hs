module Main where

import qualified Geometry.Vector as V

main :: IO ()
main = print (V.norm (V.add (V.Vector 3 0) (V.Vector 0 4)))
