package org.example.report

import org.example.inventory.Inventory

/** A one-line human summary of the stock value. */
fun summary(inventory: Inventory): String {
    val cents = inventory.totalValueCents()
    return "stock value: %d.%02d".format(cents / 100, cents % 100)
}
