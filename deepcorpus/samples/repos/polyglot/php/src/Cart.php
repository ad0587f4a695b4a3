<?php

namespace App;

use App\Models\Product;

/** A shopping cart: products and their quantities. */
final class Cart
{
    private array $lines = [];

    public function add(Product $product, int $quantity = 1): void
    {
        $this->lines[] = [$product, $quantity];
    }

    public function totalCents(): int
    {
        $total = 0;
        foreach ($this->lines as [$product, $quantity]) {
            $total += $product->priceCents * $quantity;
        }
        return $total;
    }
}
