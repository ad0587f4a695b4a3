package org.example.inventory;

import java.util.HashMap;
import java.util.Map;

/** Quantities on hand per item; the value of the whole stock. */
public class Inventory {
    private final Map<String, Item> items = new HashMap<>();
    private final Map<String, Integer> counts = new HashMap<>();

    public void add(Item item, int quantity) {
        items.putIfAbsent(item.getSku(), item);
        counts.merge(item.getSku(), quantity, Integer::sum);
    }

    public int quantity(String sku) {
        return counts.getOrDefault(sku, 0);
    }

    public long totalValueCents() {
        long total = 0;
        for (Map.Entry<String, Integer> e : counts.entrySet()) {
            total += items.get(e.getKey()).getPriceCents() * e.getValue();
        }
        return total;
    }
}
