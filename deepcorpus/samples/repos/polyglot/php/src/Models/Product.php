<?php

namespace App\Models;

/** A product on sale, with its price in cents. */
final class Product
{
    public function __construct(public string $name, public int $priceCents)
    {
    }
}
