using System;
using Billing.Models;

namespace Billing
{
    public static class Program
    {
        public static void Main()
        {
            var invoice = new Invoice("ACME", 1250.50m);
            Console.WriteLine($"{invoice.Customer} owes {invoice.Total:C}");
        }
    }
}
