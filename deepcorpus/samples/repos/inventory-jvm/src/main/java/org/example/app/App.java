package org.example.app;

import org.example.inventory.Inventory;
import org.example.inventory.Item;
import org.example.report.ReportKt;

public class App {
    public static void main(String[] args) {
        Inventory inventory = new Inventory();
        inventory.add(new Item("A-1", "bolt", 25), 40);
        inventory.add(new Item("B-7", "hinge", 310), 3);
        System.out.println(ReportKt.summary(inventory));
    }
}
